# SPDX-License-Identifier: GPL-2.0-or-later
# Purgatory: a freestanding, position-independent blob built with its own
# compiler and linker flags (never AM_CFLAGS or the user's CFLAGS, which may
# ask for stack protectors, SSE or fortify wrappers purgatory cannot have),
# checked against include/purgatory.h and embedded in the loader as
# purgatory/purgatory-blob.c. kexec/local.mk compiles that file into
# libkexec.a. Override PURGATORY_CC_FLAGS or PURGATORY_LD_FLAGS on the make
# command line to experiment.

PURGATORY_INCLUDES = -I$(srcdir)/purgatory -I$(top_srcdir)/include
PURGATORY_CC_FLAGS = -m64 -O2 -std=gnu11 -Wall -Wextra \
	-ffreestanding -fno-builtin -nostdlib -fpie \
	-fno-stack-protector -fno-stack-clash-protection -fcf-protection=none \
	-mno-red-zone -mgeneral-regs-only \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -fno-common \
	-ffunction-sections -fdata-sections
# A PIE link turns every absolute address into a dynamic relocation, which
# the linker script and check-blob.sh then refuse: that is what proves the
# blob runs wherever the loader puts it.
PURGATORY_LD_FLAGS = -m64 -nostdlib -pie -Wl,--no-dynamic-linker \
	-Wl,-z,text -Wl,-z,norelro -Wl,-z,noexecstack -Wl,-z,noseparate-code \
	-Wl,--build-id=none -Wl,--hash-style=gnu -Wl,--gc-sections \
	-Wl,--orphan-handling=error -Wl,-T,$(srcdir)/purgatory/purgatory.lds
# configure finds objcopy; objdump comes from the same binutils.
PURGATORY_OBJDUMP = $(OBJCOPY:objcopy=objdump)

PURGATORY_OBJECTS = \
	purgatory/blob-entry.o \
	purgatory/blob-purgatory.o \
	purgatory/blob-serial.o \
	purgatory/blob-sha256.o \
	purgatory/blob-string.o

PURGATORY_COMPILE = $(CC) $(PURGATORY_INCLUDES) $(PURGATORY_CC_FLAGS)

purgatory/blob-entry.o: $(srcdir)/purgatory/entry.S $(srcdir)/purgatory/layout.h
	@$(MKDIR_P) purgatory
	$(AM_V_CC)$(PURGATORY_COMPILE) -c -o $@ $(srcdir)/purgatory/entry.S

purgatory/blob-purgatory.o: $(srcdir)/purgatory/purgatory.c $(srcdir)/purgatory/layout.h \
		$(srcdir)/purgatory/serial.h $(srcdir)/purgatory/sha256.h \
		$(top_srcdir)/include/purgatory.h
	@$(MKDIR_P) purgatory
	$(AM_V_CC)$(PURGATORY_COMPILE) -c -o $@ $(srcdir)/purgatory/purgatory.c

purgatory/blob-serial.o: $(srcdir)/purgatory/serial.c $(srcdir)/purgatory/serial.h
	@$(MKDIR_P) purgatory
	$(AM_V_CC)$(PURGATORY_COMPILE) -c -o $@ $(srcdir)/purgatory/serial.c

purgatory/blob-sha256.o: $(srcdir)/purgatory/sha256.c $(srcdir)/purgatory/sha256.h
	@$(MKDIR_P) purgatory
	$(AM_V_CC)$(PURGATORY_COMPILE) -c -o $@ $(srcdir)/purgatory/sha256.c

purgatory/blob-string.o: $(srcdir)/purgatory/string.c
	@$(MKDIR_P) purgatory
	$(AM_V_CC)$(PURGATORY_COMPILE) -c -o $@ $(srcdir)/purgatory/string.c

purgatory/purgatory.elf: $(PURGATORY_OBJECTS) $(srcdir)/purgatory/purgatory.lds
	$(AM_V_CCLD)$(CC) $(PURGATORY_LD_FLAGS) -o $@ $(PURGATORY_OBJECTS)

# Only the sections the blob is made of: the dynamic ones a PIE link adds sit past memsz.
purgatory/purgatory.bin: purgatory/purgatory.elf
	$(AM_V_GEN)$(OBJCOPY) -O binary -j .head -j .text -j .rodata -j .data \
		purgatory/purgatory.elf $@

purgatory/purgatory-blob.c: purgatory/purgatory.elf purgatory/purgatory.bin \
		$(srcdir)/purgatory/check-blob.sh $(srcdir)/purgatory/gen-blob.sh \
		$(top_srcdir)/include/purgatory.h
	$(AM_V_GEN)READELF='$(READELF)' OBJDUMP='$(PURGATORY_OBJDUMP)' \
		$(SHELL) $(srcdir)/purgatory/check-blob.sh purgatory/purgatory.elf \
		purgatory/purgatory.bin $(top_srcdir)/include/purgatory.h && \
	READELF='$(READELF)' $(SHELL) $(srcdir)/purgatory/gen-blob.sh \
		purgatory/purgatory.elf purgatory/purgatory.bin $@

# The build already refuses a bad blob; this repeats the checks so 'make check' reports them.
purgatory/check-blob: Makefile
	$(AM_V_GEN)( \
	echo '#!/bin/sh'; \
	echo "READELF='$(READELF)' OBJDUMP='$(PURGATORY_OBJDUMP)' exec $(SHELL)" \
		"'$(abs_top_srcdir)/purgatory/check-blob.sh'" \
		"'$(abs_top_builddir)/purgatory/purgatory.elf'" \
		"'$(abs_top_builddir)/purgatory/purgatory.bin'" \
		"'$(abs_top_srcdir)/include/purgatory.h'"; \
	) > $@.tmp && chmod +x $@.tmp && mv $@.tmp $@

BUILT_SOURCES += purgatory/purgatory-blob.c
CLEANFILES += purgatory/purgatory-blob.c purgatory/purgatory.elf purgatory/purgatory.bin \
	$(PURGATORY_OBJECTS) purgatory/check-blob
EXTRA_DIST += \
	include/purgatory.h \
	purgatory/check-blob.sh \
	purgatory/entry.S \
	purgatory/gen-blob.sh \
	purgatory/layout.h \
	purgatory/purgatory.c \
	purgatory/purgatory.lds \
	purgatory/serial.c \
	purgatory/serial.h \
	purgatory/sha256.c \
	purgatory/sha256.h \
	purgatory/string.c

TESTS += purgatory/check-blob

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-sha256
TESTS += tests/unit/test-sha256
tests_unit_test_sha256_SOURCES = tests/unit/test-sha256.c purgatory/sha256.c purgatory/sha256.h
tests_unit_test_sha256_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/purgatory
tests_unit_test_sha256_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(NETTLE_CFLAGS)
tests_unit_test_sha256_LDADD = $(CMOCKA_LIBS) $(NETTLE_LIBS)
endif

# The real blob run in a KVM guest entered like a crashing kernel would; skipped without /dev/kvm.
check_PROGRAMS += purgatory/test-blob-kvm
TESTS += purgatory/test-blob-kvm
purgatory_test_blob_kvm_SOURCES = purgatory/test-blob-kvm.c
nodist_purgatory_test_blob_kvm_SOURCES = purgatory/purgatory-blob.c
purgatory_test_blob_kvm_CFLAGS = $(AM_CFLAGS) $(NETTLE_CFLAGS)
purgatory_test_blob_kvm_LDADD = $(NETTLE_LIBS)
