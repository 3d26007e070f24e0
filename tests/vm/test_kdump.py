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
    assert not problems, "scenario %s (serial log %s):\n- %s" % (
        result.scenario.name, result.serial_log(), "\n- ".join(problems))


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


def test_kexec_load_matches_kexec_file_load(vm):
    """The dump after kexec_load lists the same RAM and CPU notes as after kexec_file_load."""
    problems = kdump.comparison_problems(vm.result("kexec-load"), vm.result("kexec-file"))
    assert not problems, "\n- ".join([""] + problems)
