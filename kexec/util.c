// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Error reporting, size parsing, byte buffers and file reading. Kernel
 * images may come gzip- or xz-compressed (some distros ship vmlinuz.gz);
 * zlib and liblzma undo that, so the image parser only ever sees a bzImage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "util.h"

/* Far above any real bzImage, so a decompression bomb ends with a message. */
#define MAX_IMAGE_SIZE (1ULL << 30)

bool kx_debug_enabled;

int kx_error(const char *fmt, ...)
{
	va_list ap;

	fputs("kexec: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

void kx_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("kexec: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void kx_debug(const char *fmt, ...)
{
	va_list ap;

	if (!kx_debug_enabled)
		return;
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
}

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

const char *fmt_size(uint64_t size, char *buf, size_t len)
{
	if (size >= (1ULL << 30) && !(size & ((1ULL << 30) - 1)))
		snprintf(buf, len, "%" PRIu64 " GiB", size >> 30);
	else if (size >= (1ULL << 20) && !(size & ((1ULL << 20) - 1)))
		snprintf(buf, len, "%" PRIu64 " MiB", size >> 20);
	else if (size >= (1ULL << 10) && !(size & ((1ULL << 10) - 1)))
		snprintf(buf, len, "%" PRIu64 " KiB", size >> 10);
	else
		snprintf(buf, len, "0x%" PRIx64 " bytes", size);
	return buf;
}

static int buf_reserve(struct buf *b, size_t extra)
{
	size_t cap;
	unsigned char *p;

	if (b->len + extra <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + extra)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return kx_error("out of memory (asked for %zu bytes)", cap);
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_reserve_zero(struct buf *b, size_t len)
{
	if (buf_reserve(b, len))
		return -1;
	memset(b->data + b->len, 0, len);
	return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
	if (buf_reserve(b, len))
		return -1;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n + 1))
		return -1;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static int gunzip(const char *path, const struct buf *in, struct buf *out)
{
	z_stream zs;
	int ret;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 32) != Z_OK)
		return kx_error("%s: cannot start zlib", path);
	zs.next_in = in->data;
	zs.avail_in = (uInt)in->len;
	do {
		if (out->len >= MAX_IMAGE_SIZE) {
			inflateEnd(&zs);
			return kx_error(
				"%s: decompresses to more than %llu MiB; not a kernel image", path,
				MAX_IMAGE_SIZE >> 20);
		}
		if (buf_reserve(out, 1 << 20)) {
			inflateEnd(&zs);
			return -1;
		}
		zs.next_out = out->data + out->len;
		zs.avail_out = (uInt)(out->cap - out->len);
		ret = inflate(&zs, Z_NO_FLUSH);
		out->len = out->cap - zs.avail_out;
	} while (ret == Z_OK);
	inflateEnd(&zs);
	if (ret != Z_STREAM_END)
		return kx_error("%s: gzip data is corrupt or truncated (zlib: %s)", path,
				zs.msg ? zs.msg : "unexpected end of input");
	return 0;
}

static int unxz(const char *path, const struct buf *in, struct buf *out)
{
	lzma_stream ls = LZMA_STREAM_INIT;
	lzma_ret ret;

	if (lzma_stream_decoder(&ls, UINT64_MAX, 0) != LZMA_OK)
		return kx_error("%s: cannot start the xz decoder", path);
	ls.next_in = in->data;
	ls.avail_in = in->len;
	do {
		if (out->len >= MAX_IMAGE_SIZE) {
			lzma_end(&ls);
			return kx_error(
				"%s: decompresses to more than %llu MiB; not a kernel image", path,
				MAX_IMAGE_SIZE >> 20);
		}
		if (buf_reserve(out, 1 << 20)) {
			lzma_end(&ls);
			return -1;
		}
		ls.next_out = out->data + out->len;
		ls.avail_out = out->cap - out->len;
		ret = lzma_code(&ls, LZMA_FINISH);
		out->len = out->cap - ls.avail_out;
	} while (ret == LZMA_OK);
	lzma_end(&ls);
	if (ret != LZMA_STREAM_END)
		return kx_error("%s: xz data is corrupt or truncated (liblzma error %d)", path,
				(int)ret);
	return 0;
}

int read_whole_file(const char *path, bool decompress, struct buf *out, bool *was_compressed)
{
	static const unsigned char xz_magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0 };
	struct buf raw = { 0 };
	struct stat st;
	ssize_t n;
	int fd, ret = 0;

	if (was_compressed)
		*was_compressed = false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kx_error("cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return kx_error("%s is a directory, not a file", path);
	}
	for (;;) {
		if (buf_reserve(&raw, 1 << 20)) {
			ret = -1;
			break;
		}
		n = read(fd, raw.data + raw.len, raw.cap - raw.len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = kx_error("cannot read %s: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		raw.len += (size_t)n;
		if (raw.len > MAX_IMAGE_SIZE) {
			ret = kx_error("%s is larger than %llu MiB", path, MAX_IMAGE_SIZE >> 20);
			break;
		}
	}
	close(fd);
	if (ret) {
		buf_free(&raw);
		return ret;
	}

	if (decompress && raw.len >= 2 && raw.data[0] == 0x1f && raw.data[1] == 0x8b) {
		ret = gunzip(path, &raw, out);
	} else if (decompress && raw.len >= 6 && !memcmp(raw.data, xz_magic, 6)) {
		ret = unxz(path, &raw, out);
	} else {
		*out = raw;
		return 0;
	}
	buf_free(&raw);
	if (ret)
		buf_free(out);
	else if (was_compressed)
		*was_compressed = true;
	return ret;
}
