// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Error reporting, size parsing, byte buffers and file reading. Kernel
 * images may come gzip- or xz-compressed (some distros ship vmlinuz.gz);
 * zlib and liblzma undo that, so the image parser only ever sees a bzImage.
 */
#include <ctype.h>
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

/* Far above any real file we load, so a runaway read ends with a message. */
#define MAX_IMAGE_SIZE (1ULL << 30)
/* Far above any real bzImage, so a decompression bomb ends early. */
#define MAX_DECOMPRESSED_SIZE (256ULL << 20)

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

	int base = 10;

	/* Decimal or 0x hex only: a leading 0 is not octal here. */
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		if (!isxdigit((unsigned char)s[2]))
			return -1;
	}
	errno = 0;
	v = strtoull(s, &end, base);
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

/* Room for the next chunk of output, never past the decompression limit. */
static size_t decompress_room(const struct buf *out)
{
	size_t room = out->cap - out->len, left = MAX_DECOMPRESSED_SIZE + 1 - out->len;

	return room < left ? room : left;
}

/* Grow out for the next chunk of output, or say the image is too big. */
static int decompress_more(const char *path, struct buf *out)
{
	if (out->len > MAX_DECOMPRESSED_SIZE)
		return kx_error("%s: decompresses to more than %llu MiB; not a kernel image", path,
				MAX_DECOMPRESSED_SIZE >> 20);
	return buf_reserve(out, 1 << 20);
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
		if (decompress_more(path, out)) {
			inflateEnd(&zs);
			return -1;
		}
		zs.next_out = out->data + out->len;
		zs.avail_out = (uInt)decompress_room(out);
		ret = inflate(&zs, Z_NO_FLUSH);
		out->len = (size_t)(zs.next_out - out->data);
	} while (ret == Z_OK);
	inflateEnd(&zs);
	if (ret != Z_STREAM_END)
		return kx_error("%s: gzip data is corrupt or truncated (zlib: %s)", path,
				zs.msg ? zs.msg : "unexpected end of input");
	return 0;
}

static const char *lzma_message(lzma_ret ret)
{
	switch (ret) {
	case LZMA_BUF_ERROR:
		return "xz data is truncated";
	case LZMA_DATA_ERROR:
		return "xz data is corrupt";
	case LZMA_FORMAT_ERROR:
		return "not xz data after all";
	case LZMA_OPTIONS_ERROR:
		return "xz data uses options liblzma does not support";
	case LZMA_MEM_ERROR:
		return "out of memory decompressing xz data";
	case LZMA_UNSUPPORTED_CHECK:
		return "xz data uses an unsupported integrity check";
	default:
		return "xz data cannot be decompressed";
	}
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
		if (decompress_more(path, out)) {
			lzma_end(&ls);
			return -1;
		}
		ls.next_out = out->data + out->len;
		ls.avail_out = decompress_room(out);
		ret = lzma_code(&ls, LZMA_FINISH);
		out->len = (size_t)(ls.next_out - out->data);
	} while (ret == LZMA_OK);
	lzma_end(&ls);
	if (ret != LZMA_STREAM_END)
		return kx_error("%s: %s", path, lzma_message(ret));
	return 0;
}

int open_regular_file(const char *path, uint64_t *size)
{
	struct stat st;
	int fd;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return kx_error("cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st)) {
		kx_error("cannot stat %s: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		kx_error("%s is a directory, not a file", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		kx_error("%s is not a regular file", path);
		goto fail;
	}
	if (!st.st_size) {
		kx_error("%s is empty", path);
		goto fail;
	}
	if (fcntl(fd, F_SETFL, 0)) {
		kx_error("cannot read %s: %s", path, strerror(errno));
		goto fail;
	}
	if (size)
		*size = (uint64_t)st.st_size;
	return fd;
fail:
	close(fd);
	return -1;
}

int read_whole_file(const char *path, bool decompress, struct buf *out, bool *was_compressed)
{
	static const unsigned char xz_magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0 };
	struct buf raw = { 0 };
	uint64_t size;
	ssize_t n;
	int fd, ret = 0;

	if (was_compressed)
		*was_compressed = false;
	fd = open_regular_file(path, &size);
	if (fd < 0)
		return -1;
	if (size > MAX_IMAGE_SIZE) {
		close(fd);
		return kx_error("%s is larger than %llu MiB", path, MAX_IMAGE_SIZE >> 20);
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
