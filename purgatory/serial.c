// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Polled 8250/16550 UART output for purgatory: 115200 baud, 8 data bits, no
 * parity, one stop bit, no interrupts. Until serial_init() is called with a
 * non-zero port every function here does nothing, so callers need not check.
 */
#include "serial.h"

/* Register offsets from the UART's I/O base. */
#define UART_DATA 0 /* transmit holding register; divisor low byte while DLAB is set */
#define UART_IER 1 /* interrupt enable; divisor high byte while DLAB is set */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5

#define UART_LCR_8N1 0x03
#define UART_LCR_DLAB 0x80
#define UART_FCR_ENABLE_CLEAR 0x07 /* enable the FIFOs and empty both */
#define UART_MCR_DTR_RTS 0x03
#define UART_LSR_THRE 0x20

/* The 8250 divides 1.8432 MHz by 16 * divisor: 1 gives 115200 baud. */
#define UART_DIVISOR_115200 1

/*
 * A UART that never reports an empty transmitter (absent or wedged) must not
 * keep purgatory from starting the capture kernel, so waits are bounded.
 */
#define UART_WAIT_LOOPS 100000

/* Lives in .bss, which entry.S clears before any C code runs. */
static uint16_t uart_port;

static inline void outb(uint16_t port, uint8_t value)
{
	__asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t value;

	__asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
	return value;
}

void serial_init(uint16_t port)
{
	uart_port = port;
	if (!port)
		return;

	outb(port + UART_IER, 0);
	outb(port + UART_LCR, UART_LCR_DLAB);
	outb(port + UART_DATA, UART_DIVISOR_115200 & 0xff);
	outb(port + UART_IER, UART_DIVISOR_115200 >> 8);
	outb(port + UART_LCR, UART_LCR_8N1);
	outb(port + UART_FCR, UART_FCR_ENABLE_CLEAR);
	outb(port + UART_MCR, UART_MCR_DTR_RTS);
}

static void serial_putc(char c)
{
	unsigned int i;

	for (i = 0; i < UART_WAIT_LOOPS; i++) {
		if (inb(uart_port + UART_LSR) & UART_LSR_THRE)
			break;
	}
	outb(uart_port + UART_DATA, c);
}

void serial_puts(const char *s)
{
	if (!uart_port)
		return;

	for (; *s; s++) {
		/* A raw serial console needs the carriage return to start each line at column 0. */
		if (*s == '\n')
			serial_putc('\r');
		serial_putc(*s);
	}
}

void serial_put_hex(uint64_t value, unsigned int digits)
{
	static const char hex[] = "0123456789abcdef";

	if (!uart_port)
		return;

	while (digits--)
		serial_putc(hex[(value >> (4 * digits)) & 0xf]);
}
