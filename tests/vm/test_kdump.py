# SPDX-License-Identifier: GPL-2.0-or-later
"""Kdump in a QEMU guest: boot Debian's 6.12 cloud kernel, load a capture
kernel, panic, and check what the capture kernel's /proc/vmcore describes.

Run with: KEXEC_BUILDDIR=_build /usr/bin/python3 -m pytest tests/vm
Each scenario boots once per session (see conftest.py); logs are under
tests/vm/out/latest/<scenario>/serial.log.
"""

import pytest

import kdump


def assert_good_capture(result, **expect):
    problems = kdump.capture_problems(result, **expect)
    if problems:
        pytest.fail("scenario %s (serial log %s):\n- %s" % (
            result.scenario.name, result.serial_log(), "\n- ".join(problems)), pytrace=False)


def test_no_load_no_capture(vm):
    """Without a load the panic must not boot anything: proves a test can fail."""
    r = vm.result("no-load")
    assert r.panicked(), "the guest never panicked; serial log %s" % r.serial_log()
    assert r.sysfs["/sys/kernel/kexec_crash_loaded"] == "0"
    assert not r.captured, "a capture kernel reported with nothing loaded: %s" % r.serial_log()
    assert not r.capture_kernel_started(), "a kernel booted after the panic: %s" % r.serial_log()


def test_reference_capture(vm):
    """The kernel's own kexec_file_load, without the loader: checks the test rig."""
    assert_good_capture(vm.result("reference"))


def test_reference_capture_after_hotplug(vm):
    """The kernel updates its own elfcorehdr after a CPU and a DIMM are hot-added."""
    r = vm.result("reference-hotplug")
    assert r.sysfs["/sys/devices/system/cpu/crash_hotplug"] == "1"
    assert r.sysfs["/sys/devices/system/memory/crash_hotplug"] == "1"
    assert_good_capture(r, cpus=2, dimm=(kdump.DIMM_BASE, kdump.DIMM_BASE + (128 << 20)))


@pytest.mark.parametrize("name", ["kexec-load", "kexec-file"])
def test_capture(vm, name):
    """kexec -p -c (kexec_load) and kexec -p -s (kexec_file_load) each give a good dump."""
    assert_good_capture(vm.result(name))


@pytest.mark.parametrize("name", ["kexec-load", "kexec-file"])
def test_ram_vaddr_is_the_direct_map(vm, name):
    """RAM PT_LOADs carry the first kernel's direct-map (PAGE_OFFSET + paddr) vaddr."""
    r = vm.result(name)
    problems = kdump.vaddr_problems(r)
    if problems:
        pytest.fail("scenario %s:\n- %s" % (name, "\n- ".join(problems[:3])), pytrace=False)


def test_kexec_load_matches_kexec_file_load(vm):
    """The dump after kexec_load lists the same RAM and CPU notes as after kexec_file_load."""
    problems = kdump.comparison_problems(vm.result("kexec-load"), vm.result("kexec-file"))
    assert not problems, "\n- ".join([""] + problems)


DIMM = (kdump.DIMM_BASE, kdump.DIMM_BASE + (128 << 20))


def test_hotplug_updates_the_dump(vm):
    """kexec -p -c --hotplug: a CPU and a DIMM hot-added after the load are in the dump."""
    r = vm.result("kexec-load-hotplug")
    if r.load_status == 0:
        assert r.sysfs["/sys/devices/system/cpu/crash_hotplug"] == "1"
        assert r.sysfs["/sys/devices/system/memory/crash_hotplug"] == "1"
    assert_good_capture(r, cpus=2, dimm=DIMM)


def test_without_hotplug_the_dump_is_stale(vm):
    """kexec -p -c without --hotplug: the kernel leaves the elfcorehdr alone, so the
    dump misses the hot-added CPU and DIMM. A rig that cannot see this proves nothing."""
    r = vm.result("kexec-load-nohotplug")
    assert r.load_status == 0, "the load failed:\n%s" % "\n".join(r.load_output)
    assert r.sysfs["/sys/devices/system/cpu/crash_hotplug"] == "0"
    assert r.sysfs["/sys/devices/system/memory/crash_hotplug"] == "0"
    assert r.captured, "no capture kernel: %s" % "; ".join(r.notes)
    assert len(r.dump.prstatus) == 1, r.capture_lines
    assert kdump.subtract([DIMM], r.dump.ram_ranges) == [DIMM], r.capture_lines


def test_dimm_removal_matches_file_load(vm):
    """A cold-plugged movable DIMM offlined and removed after the load: the dump after
    kexec -p -c --hotplug lists the same RAM as after kexec -p -s."""
    mine, ref = vm.result("kexec-load-dimm-remove"), vm.result("kexec-file-dimm-remove")
    for r in (mine, ref):
        assert_good_capture(r, removed=DIMM)
    problems = kdump.comparison_problems(mine, ref)
    assert not problems, "\n- ".join([""] + problems)
