/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Polled output on an 8250/16550 UART, the only way purgatory can tell anyone
 * why it did not start the capture kernel.
 */
#ifndef PURGATORY_SERIAL_H
#define PURGATORY_SERIAL_H

#include <stdint.h>

void serial_init(uint16_t port);
void serial_puts(const char *s);
void serial_put_hex(uint64_t value, unsigned int digits);

#endif
