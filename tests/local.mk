# SPDX-License-Identifier: GPL-2.0-or-later
# Tests. "make check" builds the trapped loader the host tests run and runs the
# cmocka unit tests; tests/run runs those, the host tests and the VM tests.

# The loader with its system calls recorded: see tests/trap/trap.c.
check_PROGRAMS += tests/trap/kexec-trapped
tests_trap_kexec_trapped_SOURCES = tests/trap/trap.c
tests_trap_kexec_trapped_LDADD = $(KEXEC_LIBS)

# Unit tests in C with cmocka, linked against libkexec.a: to add
# tests/unit/test-NAME.c, add tests/unit/test-NAME to UNIT_TESTS. That is the
# one line; a test that needs more sources or flags sets
# tests_unit_test_NAME_SOURCES or _CFLAGS as well. The default LDADD below
# serves them: every other program in the tree sets its own _LDADD.
# (tests/unit/test-sha256 tests purgatory code and lives in purgatory/local.mk.)
LDADD = $(KEXEC_LIBS) $(CMOCKA_LIBS)

if HAVE_CMOCKA
UNIT_TESTS = \
	tests/unit/test-crashdump

check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
endif

EXTRA_DIST += \
	tools/install-deps \
	tests/run \
	tests/host/conftest.py \
	tests/host/bzimage.py \
	tests/host/hostrun.py \
	tests/host/kexecrec.py \
	tests/host/test_bzimage.py \
	tests/host/test_cli.py \
	tests/host/test_crash_load.py \
	tests/host/test_bad_input.py \
	tests/host/test_file_load.py \
	tests/host/test_hotplug.py \
	tests/fixtures/README.md \
	tests/fixtures/gen-large-server \
	tests/fixtures/small-vm \
	tests/fixtures/low-high

CLEANFILES += tests/host-junit.xml
