# SPDX-License-Identifier: GPL-2.0-or-later
"""Help, version and -d, the plan a kernel developer reads."""

import os
import re

from hostrun import REPO, need_load
from kexecrec import hex_numbers


def package_version():
    with open(os.path.join(REPO, "configure.ac")) as f:
        m = re.search(r"AC_INIT\(\[[^]]*\],\s*\[([^]]+)\]", f.read())
    return m.group(1)


def test_help(kx):
    result = kx.run(kx.machine("small-vm"), ["-h"])
    assert result.rc == 0, result.describe()
    assert re.search(r"usage", result.out, re.I), result.describe()
    for option in ("-p", "-u", "-s", "-c", "-S", "--initrd", "--append", "--reuse-cmdline"):
        assert option in result.out, "usage does not mention %s\n%s" % (option, result.out)
    assert not result.calls


def test_help_long(kx):
    result = kx.run(kx.machine("small-vm"), ["--help"])
    assert result.rc == 0, result.describe()
    assert re.search(r"usage", result.out, re.I)


def test_version(kx):
    result = kx.run(kx.machine("small-vm"), ["-v"])
    assert result.rc == 0, result.describe()
    assert package_version() in result.out, result.describe()
    assert not result.calls


def test_version_long(kx):
    result = kx.run(kx.machine("small-vm"), ["--version"])
    assert result.rc == 0, result.describe()
    assert package_version() in result.out


def test_no_arguments(kx):
    result = kx.run(kx.machine("small-vm"), [])
    assert result.rc != 0 or re.search(r"usage", result.out, re.I), result.describe()
    assert not result.calls


def test_debug_prints_plan(kx):
    result, load = kx.crash_load("small-vm", extra=["-d"])
    load = need_load(result, load)
    numbers = hex_numbers(result.out)
    for seg in load.segments:
        assert seg.mem in numbers, "-d does not show %s's address in hex\n%s" % (seg, result.out)
        assert seg.memsz in numbers, "-d does not show %s's memsz in hex\n%s" % (seg, result.out)
    assert re.search(r"digest|sha-?256", result.out, re.I), (
        "-d does not say what the digest covers\n" + result.out)
    assert re.search(r"elfcorehdr", result.out), result.out


def test_debug_loads_the_same(kx):
    plain = need_load(*kx.crash_load("small-vm"))
    debug = need_load(*kx.crash_load("small-vm", extra=["-d"]))
    assert [(s.mem, s.memsz, s.data) for s in plain.segments] == [
        (s.mem, s.memsz, s.data) for s in debug.segments]


def test_debug_file_load(kx):
    kpath, _ = kx.kernel()
    result = kx.run(kx.machine("small-vm"), ["-d", "-p", "-s", kpath])
    result.assert_ok()
    assert result.out.strip(), "-d prints nothing for kexec_file_load"


# ---------------------------------------------------------------- -e

def test_exec_boots_loaded_kernel(kx):
    m = kx.machine("small-vm")
    m.write("sys/kernel/kexec_loaded", "1\n")
    result = kx.run(m, ["-e"])
    assert [c.kind for c in result.calls] == ["reboot_kexec"], result.describe()


def test_exec_with_nothing_loaded(kx):
    m = kx.machine("small-vm")
    result = kx.run(m, ["-e"])
    result.assert_failed_without_calls()


def test_exec_failure_is_reported(kx):
    m = kx.machine("small-vm")
    m.write("sys/kernel/kexec_loaded", "1\n")
    result = kx.run(m, ["-e"], env={"KEXEC_TEST_REBOOT_ERRNO": "EPERM"})
    assert result.rc != 0, result.describe()
    assert [c.kind for c in result.calls] == ["reboot_kexec"]
