# SPDX-License-Identifier: GPL-2.0-or-later
# The loader: everything but main() and the system calls lives in libkexec.a,
# so the tests link the very same code with recorded system calls.
noinst_LIBRARIES += kexec/libkexec.a
kexec_libkexec_a_CFLAGS = $(AM_CFLAGS) $(ZLIB_CFLAGS) $(LZMA_CFLAGS) $(NETTLE_CFLAGS)
kexec_libkexec_a_SOURCES = \
	kexec/arch/x86_64/bootparams.c \
	kexec/arch/x86_64/bootparams.h \
	kexec/arch/x86_64/bzimage.c \
	kexec/arch/x86_64/bzimage.h \
	kexec/crashdump.c \
	kexec/crashdump.h \
	kexec/image.c \
	kexec/image.h \
	kexec/kexec.c \
	kexec/load.c \
	kexec/load.h \
	kexec/memrange.c \
	kexec/memrange.h \
	kexec/options.c \
	kexec/options.h \
	kexec/platform.h \
	kexec/sysview.c \
	kexec/sysview.h \
	kexec/util.c \
	kexec/util.h
nodist_kexec_libkexec_a_SOURCES = purgatory/purgatory-blob.c

KEXEC_LIBS = kexec/libkexec.a $(ZLIB_LIBS) $(LZMA_LIBS) $(NETTLE_LIBS)

sbin_PROGRAMS += kexec/kexec
kexec_kexec_SOURCES = kexec/main.c
kexec_kexec_LDADD = $(KEXEC_LIBS)

if STATIC_KEXEC
sbin_PROGRAMS += kexec/kexec-static
kexec_kexec_static_SOURCES = kexec/main.c
kexec_kexec_static_LDFLAGS = -static
kexec_kexec_static_LDADD = kexec/libkexec.a $(STATIC_LIBS)
endif
