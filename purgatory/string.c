// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The four functions a compiler may call even in freestanding code (for
 * struct copies, zeroing and loops it recognises), so that purgatory links
 * whatever the optimiser does. The copies and fills use the string
 * instructions in inline assembly: a C loop here could itself be turned back
 * into a call to the function it implements.
 */
#include <stddef.h>
#include <stdint.h>

void *memset(void *dst, int c, size_t len);
void *memcpy(void *dst, const void *src, size_t len);
void *memmove(void *dst, const void *src, size_t len);
int memcmp(const void *a, const void *b, size_t len);

void *memset(void *dst, int c, size_t len)
{
	void *p = dst;

	__asm__ volatile("rep stosb" : "+D"(p), "+c"(len) : "a"(c) : "memory");
	return dst;
}

void *memcpy(void *dst, const void *src, size_t len)
{
	void *d = dst;

	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(len) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t len)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (d <= s || d >= s + len)
		return memcpy(dst, src, len);

	/* Overlapping with the destination above the source: copy from the last byte down. */
	d += len - 1;
	s += len - 1;
	__asm__ volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(len) : : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t len)
{
	const uint8_t *x = a;
	const uint8_t *y = b;

	for (; len; len--, x++, y++) {
		if (*x != *y)
			return *x - *y;
	}
	return 0;
}
