# SPDX-License-Identifier: GPL-2.0-or-later
"""Input the loader must refuse: a clear message naming what is at fault, a
non-zero exit and no system call at all."""

import os

import pytest

import bzimage
from hostrun import CAPTURE_APPEND
from kexecrec import MIB

POLICIES = ["-c", "-s", None]


def run_crash(kx, machine, kernel, initrd=None, policy="-c", extra=()):
    args = ["-p"] + ([policy] if policy else [])
    if initrd:
        args.append("--initrd=" + initrd)
    args += ["--append=" + CAPTURE_APPEND] + list(extra) + [kernel]
    return kx.run(machine, args)


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("kind", ["random", "elf", "text"])
def test_not_a_bzimage(kx, kind, policy):
    path = kx.file("not-a-bzimage-%s" % kind, bzimage.not_a_bzimage(kind))
    result = run_crash(kx, kx.machine("small-vm"), path, kx.initrd()[0], policy)
    result.assert_failed_without_calls(path)


@pytest.mark.parametrize("policy", POLICIES)
def test_empty_kernel_file(kx, policy):
    path = kx.file("empty-kernel", b"")
    result = run_crash(kx, kx.machine("small-vm"), path, policy=policy)
    result.assert_failed_without_calls(path)


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("where", ["header", "setup", "payload"])
def test_truncated_bzimage(kx, where, policy):
    path, _ = kx.kernel(truncate=where)
    result = run_crash(kx, kx.machine("small-vm"), path, kx.initrd()[0], policy)
    result.assert_failed_without_calls(path)


@pytest.mark.parametrize("policy", POLICIES)
def test_truncated_compressed_bzimage(kx, policy):
    k = bzimage.Kernel()
    data = bzimage.compress(k.data, "gzip")
    path = kx.file("vmlinuz-cut.gz", data[:len(data) // 2])
    result = run_crash(kx, kx.machine("small-vm"), path, policy=policy)
    result.assert_failed_without_calls(path)


@pytest.mark.parametrize("policy", POLICIES)
def test_no_64bit_entry(kx, policy):
    path, _ = kx.kernel(xloadflags=bzimage.XLF_CAN_BE_LOADED_ABOVE_4G)
    result = run_crash(kx, kx.machine("small-vm"), path, kx.initrd()[0], policy)
    result.assert_failed_without_calls(path)


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("version", [0x020B, 0x0206])
def test_protocol_too_old(kx, version, policy):
    path, _ = kx.kernel(version=version)
    result = run_crash(kx, kx.machine("small-vm"), path, kx.initrd()[0], policy)
    result.assert_failed_without_calls(path)


@pytest.mark.parametrize("policy", POLICIES)
def test_missing_kernel(kx, policy, tmp_path):
    path = str(tmp_path / "no-such-vmlinuz")
    result = run_crash(kx, kx.machine("small-vm"), path, kx.initrd()[0], policy)
    result.assert_failed_without_calls(path)


@pytest.mark.parametrize("policy", POLICIES)
def test_kernel_is_a_directory(kx, policy, tmp_path):
    result = run_crash(kx, kx.machine("small-vm"), str(tmp_path), policy=policy)
    result.assert_failed_without_calls(str(tmp_path))


@pytest.mark.parametrize("policy", POLICIES)
def test_missing_initrd(kx, policy, tmp_path):
    path = str(tmp_path / "no-such-initrd.img")
    result = run_crash(kx, kx.machine("small-vm"), kx.kernel()[0], path, policy)
    result.assert_failed_without_calls(path)


@pytest.mark.parametrize("policy", POLICIES)
def test_unreadable_initrd(kx, policy, tmp_path):
    # A directory: unreadable as a file even for root, who may read any mode.
    path = str(tmp_path / "initrd.d")
    os.mkdir(path)
    result = run_crash(kx, kx.machine("small-vm"), kx.kernel()[0], path, policy)
    result.assert_failed_without_calls(path)


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("machine", ["small-vm", "low-high"])
def test_no_crash_region(kx, machine, policy):
    m = kx.machine(machine)
    m.drop_crash_region()
    result = run_crash(kx, m, kx.kernel()[0], kx.initrd()[0], policy)
    result.assert_failed_without_calls("crash")


def test_crash_region_too_small_for_kernel(kx):
    m = kx.machine("small-vm")
    m.set_crash_region(0x2F000000, 16 * MIB)
    path, _ = kx.kernel(init_size=24 * MIB)
    result = run_crash(kx, m, path, policy="-c")
    result.assert_failed_without_calls("crash")


def test_crash_region_too_small_for_initrd(kx):
    m = kx.machine("small-vm")
    m.set_crash_region(0x2F000000, 16 * MIB)
    result = run_crash(kx, m, kx.kernel()[0], kx.initrd(20 * MIB)[0], policy="-c")
    result.assert_failed_without_calls("crash")


def test_tiny_crash_region_still_fits_small_load(kx):
    """16 MiB is enough for a small kernel (init_size 4 MiB) and initrd."""
    m = kx.machine("small-vm")
    m.set_crash_region(0x2F000000, 16 * MIB)
    result = run_crash(kx, m, kx.kernel()[0], kx.initrd(1 * MIB)[0], policy="-c")
    result.assert_ok()
    assert [c.kind for c in result.calls] == ["kexec_load"], result.describe()


def test_unknown_option(kx):
    result = kx.run(kx.machine("small-vm"), ["-p", "--bogus-option", kx.kernel()[0]])
    result.assert_failed_without_calls("--bogus-option")


def test_unknown_short_option(kx):
    result = kx.run(kx.machine("small-vm"), ["-p", "-Z", kx.kernel()[0]])
    result.assert_failed_without_calls()
    assert "'Z'" in result.out or "-Z" in result.out, result.describe()


@pytest.mark.parametrize("policy", POLICIES)
def test_crash_load_without_kernel(kx, policy):
    result = kx.run(kx.machine("small-vm"), ["-p"] + ([policy] if policy else []))
    result.assert_failed_without_calls("kernel")


def test_conflicting_syscall_options(kx):
    result = kx.run(kx.machine("small-vm"), ["-p", "-c", "-s", kx.kernel()[0]])
    if result.rc == 0:
        # kexec-tools lets the last one win; either is acceptable, but one call only.
        assert len(result.calls) == 1, result.describe()
    else:
        result.assert_failed_without_calls()


def test_initrd_that_looks_like_an_elfcorehdr(kx):
    """On hotplug the kernel takes the last kexec_load segment starting with
    \\177ELF for the elfcorehdr: with --hotplug no other segment may start so."""
    data = b"\x7fELF" + bzimage.initrd(MIB)[4:]
    path = kx.file("initrd-elf.img", data)
    result = run_crash(kx, kx.machine("small-vm"), kx.kernel()[0], path, "-c", ["--hotplug"])
    result.assert_failed_without_calls(path)


@pytest.mark.parametrize("args", [["-p", "-c"], ["-l", "-c"], ["-p", "-s"]])
def test_initrd_starting_with_elf_magic_without_hotplug(kx, args):
    """Without --hotplug the kernel never looks for the ELF magic: such an
    initrd loads like any other."""
    data = b"\x7fELF" + bzimage.initrd(MIB)[4:]
    path = kx.file("initrd-elf.img", data)
    kpath, _ = kx.kernel()
    result = kx.run(kx.machine("small-vm"), args + [kpath, "--initrd=" + path])
    result.assert_ok()
