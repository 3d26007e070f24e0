# SPDX-License-Identifier: GPL-2.0-or-later
"""kexec_file_load, the choice between the two calls (-s, -c, -a), unload and status."""

import os
import re

import pytest

from hostrun import CAPTURE_APPEND, MACHINES, need_load
from kexecrec import (KEXEC_ARCH_MASK, KEXEC_ARCH_X86_64, KEXEC_FILE_NO_INITRAMFS,
                      KEXEC_FILE_ON_CRASH, KEXEC_FILE_UNLOAD, KEXEC_ON_CRASH, MIB, hexs)

CRASH_LOAD_FLAGS = KEXEC_ON_CRASH | KEXEC_ARCH_X86_64


def file_calls(result):
    return [c for c in result.calls if c.kind == "kexec_file_load"]


def load_calls(result):
    return [c for c in result.calls if c.kind == "kexec_load"]


def crash_args(kx, policy, initrd=True, append=CAPTURE_APPEND, kernel_opts=None):
    kpath, kernel = kx.kernel(**(kernel_opts or {}))
    args = ["-p"] + ([policy] if policy else [])
    if initrd:
        args.append("--initrd=" + kx.initrd(2 * MIB)[0])
    if append is not None:
        args.append("--append=" + append)
    return args + [kpath]


# ---------------------------------------------------------------- -s

@pytest.mark.parametrize("machine", MACHINES)
def test_file_load_crash(kx, machine):
    m = kx.machine(machine)
    kpath, kernel = kx.kernel()
    ipath, _ = kx.initrd(2 * MIB)
    result = kx.run(m, ["-p", "-s", "--initrd=" + ipath, "--append=" + CAPTURE_APPEND, kpath])
    result.assert_ok()
    assert [c.kind for c in result.calls] == ["kexec_file_load"], result.describe()
    call = result.calls[0]
    assert call.flags == KEXEC_FILE_ON_CRASH, "flags %s, expected KEXEC_FILE_ON_CRASH" % (
        hexs(call.flags))
    assert os.path.realpath(call.kernel) == os.path.realpath(kpath)
    assert os.path.realpath(call.initrd) == os.path.realpath(ipath)
    assert call.cmdline == CAPTURE_APPEND
    assert call.cmdline_len == len(CAPTURE_APPEND) + 1, "cmdline_len must count the NUL"
    assert result.recorded("file-kernel.bin") == kernel.data
    assert m.loaded(crash=True) == 1
    assert result.out.strip() == "", "a successful load without -d prints nothing"


def test_file_load_without_initrd(kx):
    result = kx.run(kx.machine("small-vm"), crash_args(kx, "-s", initrd=False))
    result.assert_ok()
    call = file_calls(result)[0]
    assert call.flags == KEXEC_FILE_ON_CRASH | KEXEC_FILE_NO_INITRAMFS, hexs(call.flags)
    assert call.initrd == "-"


def test_file_load_without_cmdline(kx):
    result = kx.run(kx.machine("small-vm"), crash_args(kx, "-s", append=None))
    result.assert_ok()
    call = file_calls(result)[0]
    assert call.cmdline == ""
    assert call.cmdline_len in (0, 1)


def test_file_load_reuse_cmdline(kx):
    m = kx.machine("small-vm")
    kpath, _ = kx.kernel()
    result = kx.run(m, ["-p", "-s", "--reuse-cmdline", "--append=panic=5", kpath])
    result.assert_ok()
    call = file_calls(result)[0]
    expected = [w for w in m.cmdline.split()
                if not w.startswith(("crashkernel=", "BOOT_IMAGE="))] + ["panic=5"]
    assert call.cmdline.split() == expected
    assert "elfcorehdr=" not in call.cmdline, "the kernel adds elfcorehdr= itself"
    assert call.cmdline_len == len(call.cmdline) + 1


@pytest.mark.parametrize("method", ["gzip", "xz"])
def test_file_load_compressed_kernel(kx, method):
    """The kernel's bzImage loader takes no compressed file: the loader hands it
    the decompressed image."""
    kpath, kernel = kx.kernel(compress=method)
    result = kx.run(kx.machine("small-vm"), ["-p", "-s", kpath])
    result.assert_ok()
    assert len(file_calls(result)) == 1, result.describe()
    assert result.recorded("file-kernel.bin") == kernel.data


def test_file_load_failure_is_reported(kx):
    result = kx.run(kx.machine("small-vm"), crash_args(kx, "-s"),
                    env={"KEXEC_TEST_FILE_ERRNO": "ENOMEM"})
    assert result.rc != 0, result.describe()
    assert len(result.calls) == 1, "-s never falls back to kexec_load\n" + result.describe()
    assert result.machine.loaded(crash=True) == 0


def test_file_load_enosys_no_fallback_with_s(kx):
    result = kx.run(kx.machine("small-vm"), crash_args(kx, "-s"),
                    env={"KEXEC_TEST_FILE_ERRNO": "ENOSYS"})
    assert result.rc != 0
    assert not load_calls(result), result.describe()


# ---------------------------------------------------------------- -a and the default

@pytest.mark.parametrize("policy", ["-a", None])
def test_auto_uses_file_load(kx, policy):
    result = kx.run(kx.machine("small-vm"), crash_args(kx, policy))
    result.assert_ok()
    assert [c.kind for c in result.calls] == ["kexec_file_load"], result.describe()
    assert result.calls[0].flags == KEXEC_FILE_ON_CRASH


@pytest.mark.parametrize("err", ["ENOSYS", "ENOEXEC"])
@pytest.mark.parametrize("policy", ["-a", None])
def test_auto_falls_back(kx, err, policy):
    m = kx.machine("small-vm")
    result = kx.run(m, crash_args(kx, policy), env={"KEXEC_TEST_FILE_ERRNO": err})
    result.assert_ok()
    assert [c.kind for c in result.calls] == ["kexec_file_load", "kexec_load"], (
        result.describe())
    assert result.calls[0].errno == err
    assert result.calls[1].ok and result.calls[1].flags == CRASH_LOAD_FLAGS
    assert result.calls[1].nr_segments > 0
    assert m.loaded(crash=True) == 1


def test_auto_fallback_load_is_complete(kx):
    result, load = kx.crash_load("small-vm", policy="-a",
                                 env={"KEXEC_TEST_FILE_ERRNO": "ENOSYS"})
    load = need_load(result, load)
    assert load.digest_bytes() == load.params.sha256
    assert len([s for s in load.segments if s.data[:4] == b"\x7fELF"]) == 1


@pytest.mark.parametrize("policy", ["-a", None, "-s"])
def test_signature_rejected_no_fallback(kx, policy):
    m = kx.machine("small-vm")
    result = kx.run(m, crash_args(kx, policy), env={"KEXEC_TEST_FILE_ERRNO": "EKEYREJECTED"})
    assert result.rc != 0, result.describe()
    assert not load_calls(result), "a rejected signature must not fall back to kexec_load\n" + (
        result.describe())
    assert re.search(r"sign|key", result.out, re.I), (
        "the message should say the kernel's signature was rejected\n" + result.describe())
    assert m.loaded(crash=True) == 0


@pytest.mark.parametrize("policy", ["-a", None])
def test_lockdown_eperm_no_fallback(kx, policy):
    m = kx.machine("small-vm")
    m.set_lockdown("integrity")
    result = kx.run(m, crash_args(kx, policy), env={"KEXEC_TEST_FILE_ERRNO": "EPERM",
                                                    "KEXEC_TEST_LOAD_ERRNO": "EPERM"})
    assert result.rc != 0, result.describe()
    assert not [c for c in load_calls(result) if c.ok], result.describe()
    assert not load_calls(result), "under lockdown kexec_load cannot work: no fallback\n" + (
        result.describe())
    assert re.search(r"lockdown|secure boot", result.out, re.I), result.describe()


def test_lockdown_kexec_load_explains(kx):
    m = kx.machine("small-vm")
    m.set_lockdown("integrity")
    result = kx.run(m, crash_args(kx, "-c"), env={"KEXEC_TEST_LOAD_ERRNO": "EPERM"})
    assert result.rc != 0, result.describe()
    assert not file_calls(result), "-c must not try kexec_file_load\n" + result.describe()
    assert re.search(r"lockdown|secure boot", result.out, re.I), result.describe()
    assert re.search(r"-s\b|kexec_file_load|sign", result.out), (
        "the message should point at -s with a signed kernel\n" + result.describe())


def test_lockdown_file_load_works(kx):
    m = kx.machine("small-vm")
    m.set_lockdown("integrity")
    result = kx.run(m, crash_args(kx, None))
    result.assert_ok()
    assert [c.kind for c in result.calls] == ["kexec_file_load"], result.describe()


@pytest.mark.parametrize("err", ["EBUSY", "ENOMEM", "EINVAL", "EADDRNOTAVAIL"])
def test_kexec_load_failure_is_reported(kx, err):
    m = kx.machine("small-vm")
    result = kx.run(m, crash_args(kx, "-c"), env={"KEXEC_TEST_LOAD_ERRNO": err})
    assert result.rc != 0, result.describe()
    assert result.rc < 125, result.describe()
    assert len(result.calls) == 1, result.describe()
    assert result.out.strip(), "no message for a failed kexec_load"
    assert m.loaded(crash=True) == 0


def test_c_never_uses_file_load(kx):
    result = kx.run(kx.machine("small-vm"), crash_args(kx, "-c"))
    result.assert_ok()
    assert [c.kind for c in result.calls] == ["kexec_load"]


# ---------------------------------------------------------------- unload

def test_unload_crash_kexec_load(kx):
    m = kx.machine("small-vm")
    m.write("sys/kernel/kexec_crash_loaded", "1\n")
    result = kx.run(m, ["-p", "-u", "-c"])
    result.assert_ok()
    assert [c.line for c in result.calls] == [
        "kexec_load entry=0x0 nr_segments=0 flags=%s" % hexs(CRASH_LOAD_FLAGS)]
    assert m.loaded(crash=True) == 0


def test_unload_crash_file_load(kx):
    m = kx.machine("small-vm")
    m.write("sys/kernel/kexec_crash_loaded", "1\n")
    result = kx.run(m, ["-p", "-u", "-s"])
    result.assert_ok()
    assert len(result.calls) == 1 and result.calls[0].kind == "kexec_file_load", (
        result.describe())
    assert result.calls[0].flags == KEXEC_FILE_UNLOAD | KEXEC_FILE_ON_CRASH
    assert m.loaded(crash=True) == 0


@pytest.mark.parametrize("policy", ["-a", None])
def test_unload_crash_auto(kx, policy):
    m = kx.machine("small-vm")
    m.write("sys/kernel/kexec_crash_loaded", "1\n")
    result = kx.run(m, ["-p", "-u"] + ([policy] if policy else []))
    result.assert_ok()
    assert [c.kind for c in result.calls] == ["kexec_file_load"], result.describe()
    assert result.calls[0].flags == KEXEC_FILE_UNLOAD | KEXEC_FILE_ON_CRASH


def test_unload_crash_auto_falls_back(kx):
    m = kx.machine("small-vm")
    m.write("sys/kernel/kexec_crash_loaded", "1\n")
    result = kx.run(m, ["-p", "-u"], env={"KEXEC_TEST_FILE_ERRNO": "ENOSYS"})
    result.assert_ok()
    assert [c.kind for c in result.calls] == ["kexec_file_load", "kexec_load"], (
        result.describe())
    assert result.calls[1].line == "kexec_load entry=0x0 nr_segments=0 flags=%s" % (
        hexs(CRASH_LOAD_FLAGS))
    assert m.loaded(crash=True) == 0


def test_unload_normal_kexec_load(kx):
    m = kx.machine("small-vm")
    result = kx.run(m, ["-u", "-c"])
    result.assert_ok()
    assert len(result.calls) == 1 and result.calls[0].kind == "kexec_load", result.describe()
    call = result.calls[0]
    assert call.entry == 0 and call.nr_segments == 0
    assert call.flags & ~KEXEC_ARCH_MASK == 0, "no KEXEC_ON_CRASH without -p"
    assert call.flags & KEXEC_ARCH_MASK in (0, KEXEC_ARCH_X86_64)


def test_unload_needs_no_kernel_file(kx):
    result = kx.run(kx.machine("small-vm"), ["-p", "-u", "-c"])
    result.assert_ok()


# ---------------------------------------------------------------- status

@pytest.mark.parametrize("args", [["-S"], ["-p", "-S"]])
@pytest.mark.parametrize("loaded", [0, 1])
def test_status_crash(kx, args, loaded):
    m = kx.machine("small-vm")
    m.write("sys/kernel/kexec_crash_loaded", "%d\n" % loaded)
    m.write("sys/kernel/kexec_loaded", "%d\n" % (1 - loaded))
    result = kx.run(m, args)
    assert result.rc == loaded, "-S exits 1 when a crash image is loaded, 0 when not\n" + (
        result.describe())
    assert not result.calls


@pytest.mark.parametrize("loaded", [0, 1])
def test_status_normal(kx, loaded):
    m = kx.machine("small-vm")
    m.write("sys/kernel/kexec_loaded", "%d\n" % loaded)
    m.write("sys/kernel/kexec_crash_loaded", "%d\n" % (1 - loaded))
    result = kx.run(m, ["-l", "-S"])
    assert result.rc == loaded, result.describe()
    assert not result.calls


@pytest.mark.parametrize("policy", ["-c", "-s"])
def test_status_follows_load_and_unload(kx, policy):
    m = kx.machine("small-vm")
    assert kx.run(m, ["-p", "-S"]).rc == 0
    kx.run(m, crash_args(kx, policy)).assert_ok()
    assert kx.run(m, ["-p", "-S"]).rc == 1
    kx.run(m, ["-p", "-u", policy]).assert_ok()
    assert kx.run(m, ["-p", "-S"]).rc == 0


# ---------------------------------------------------------------- a load the kernel refuses

@pytest.mark.parametrize("policy,var", [("-s", "KEXEC_TEST_FILE_ERRNO"),
                                        ("-c", "KEXEC_TEST_LOAD_ERRNO")])
def test_refused_load_says_the_old_capture_kernel_is_gone(kx, policy, var):
    """The kernel frees a loaded capture kernel before it takes the new one, so
    after a load it refused there is none: kexec must say so."""
    m = kx.machine("small-vm")
    m.write("sys/kernel/kexec_crash_loaded", "1\n")
    result = kx.run(m, crash_args(kx, policy), env={var: "ENOMEM"})
    assert result.rc != 0, result.describe()
    assert m.loaded(crash=True) == 0
    assert "no capture kernel is loaded now" in result.stderr, result.describe()


def test_bad_input_keeps_the_loaded_capture_kernel(kx):
    """Bad input is caught before any system call: the loaded image stays."""
    m = kx.machine("small-vm")
    m.write("sys/kernel/kexec_crash_loaded", "1\n")
    result = kx.run(m, ["-p", "-c", "/nonexistent/vmlinuz"])
    result.assert_failed_without_calls("/nonexistent/vmlinuz")
    assert m.loaded(crash=True) == 1
    assert "no capture kernel is loaded now" not in result.stderr
