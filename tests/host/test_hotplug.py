# SPDX-License-Identifier: GPL-2.0-or-later
"""--hotplug and --elfcorehdrsz: crash hotplug for kexec_load (the next issue).

With --hotplug the kernel rewrites the elfcorehdr segment in place on CPU and
memory hotplug, so the load asks for it (KEXEC_UPDATE_ELFCOREHDR), leaves the
elfcorehdr out of purgatory's digest, and sizes the segment for growth.
Every test here carries the "hotplug" mark: pytest -m hotplug runs just these.
"""

import re

import pytest

from hostrun import MACHINES, need_load
from kexecrec import (ELF_MAGIC, KEXEC_ARCH_X86_64, KEXEC_ON_CRASH, KEXEC_UPDATE_ELFCOREHDR,
                      fmt_ranges, hexs, overlaps, page_up, subtract, union)

pytestmark = pytest.mark.hotplug

HOTPLUG_FLAGS = KEXEC_ON_CRASH | KEXEC_UPDATE_ELFCOREHDR | KEXEC_ARCH_X86_64
MAX_MEMORY_RANGES = 8192  # CONFIG_CRASH_MAX_MEMORY_RANGES
PHDR_SIZE = 56
EHDR_SIZE = 64


def drop_elfcorehdr_size(machine):
    machine.remove("sys/kernel/crash_elfcorehdr_size")


def no_crash_hotplug(machine):
    machine.drop_crash_hotplug()


def computed_size(machine):
    n = len(machine.possible_cpus) + 1 + 1 + MAX_MEMORY_RANGES
    return page_up(n * PHDR_SIZE + EHDR_SIZE)


@pytest.fixture(scope="module", params=MACHINES)
def hp(request, kx):
    return need_load(*kx.crash_load(request.param, extra=["--hotplug"]))


def test_flags_ask_for_elfcorehdr_updates(hp):
    assert hp.call.flags == HOTPLUG_FLAGS, "flags %s, expected %s" % (hexs(hp.call.flags),
                                                                      hexs(HOTPLUG_FLAGS))


def test_elfcorehdr_left_out_of_digest(hp):
    seg = hp.elfcorehdr_segment
    for r in hp.digest_ranges():
        assert not overlaps(r, (seg.mem, seg.end)), (
            "digest range %#x-%#x covers the elfcorehdr %s, which the kernel rewrites"
            % (r + (seg,)))


def test_other_segments_in_digest(hp):
    covered = hp.digest_ranges()
    for seg in hp.segments:
        if seg is hp.purgatory or seg is hp.elfcorehdr_segment:
            continue
        missing = subtract([(seg.mem, seg.mem + seg.bufsz)], covered)
        assert not missing, "%s: %s not in the digest" % (seg, fmt_ranges(missing))


def test_digest_matches(hp):
    assert hp.digest_bytes() == hp.params.sha256


def test_elfcorehdr_memsz_from_sysfs(hp):
    expected = page_up(hp.machine.elfcorehdr_size)
    assert hp.elfcorehdr_segment.memsz == expected, (
        "elfcorehdr memsz %s, expected /sys/kernel/crash_elfcorehdr_size %d rounded up to a "
        "page: %s" % (hexs(hp.elfcorehdr_segment.memsz), hp.machine.elfcorehdr_size,
                      hexs(expected)))


def test_elfcorehdr_content_unchanged(hp):
    elf = hp.elfcorehdr
    ram = [p for p in elf.phdrs if p.p_type == 1 and p.p_vaddr != hp.machine.kallsyms["_text"]]
    assert union((p.p_paddr, p.p_paddr + p.p_memsz) for p in ram) == hp.machine.dump_ram
    assert len([p for p in elf.phdrs if p.p_type == 4]) == len(hp.machine.crash_notes) + 1


def test_e820_excludes_whole_elfcorehdr(hp):
    """The kernel may grow the header up to memsz: none of it is capture RAM."""
    elf = hp.elfcorehdr_segment
    ram = [(a, a + n) for a, n, t in hp.e820 if t == 1]
    assert not [r for r in ram if overlaps(r, (elf.mem, elf.end))], (
        "part of the elfcorehdr %s is RAM in the capture e820" % elf)


def test_only_elfcorehdr_starts_with_elf_magic(hp):
    assert len([s for s in hp.segments if s.data[:4] == ELF_MAGIC]) == 1


def test_segments_still_fit_crash_region(hp):
    start, end = hp.machine.main_crash_region
    segs = sorted(hp.segments, key=lambda s: s.mem)
    for seg in segs:
        assert start <= seg.mem and seg.end <= end, seg
    for a, b in zip(segs, segs[1:]):
        assert a.end <= b.mem, "%s overlaps %s" % (a, b)


def test_without_hotplug_no_update_flag(kx):
    load = need_load(*kx.crash_load("small-vm"))
    assert not load.call.flags & KEXEC_UPDATE_ELFCOREHDR


@pytest.mark.parametrize("arg,expected", [
    ("2M", 2 << 20),
    ("0x180000", 0x180000),
    ("1536K", 1536 << 10),
    ("600000", page_up(600000)),
])
def test_elfcorehdrsz(kx, arg, expected):
    load = need_load(*kx.crash_load("small-vm", extra=["--hotplug", "--elfcorehdrsz=" + arg]))
    assert load.elfcorehdr_segment.memsz == expected, (
        "--elfcorehdrsz=%s gave memsz %s, expected %s" % (arg, hexs(load.elfcorehdr_segment.memsz),
                                                          hexs(expected)))
    assert load.call.flags == HOTPLUG_FLAGS
    assert load.digest_bytes() == load.params.sha256


def test_elfcorehdrsz_large_server(kx):
    load = need_load(*kx.crash_load("large-server", extra=["--hotplug", "--elfcorehdrsz=4M"]))
    assert load.elfcorehdr_segment.memsz == 4 << 20


@pytest.mark.parametrize("machine", MACHINES)
def test_size_computed_without_sysfs(kx, machine):
    load = need_load(*kx.crash_load(machine, extra=["--hotplug"], prepare=drop_elfcorehdr_size))
    minimum = computed_size(load.machine)
    assert load.elfcorehdr_segment.memsz >= minimum, (
        "without /sys/kernel/crash_elfcorehdr_size the elfcorehdr memsz %s is below "
        "(possible CPUs + 2 + 8192) program headers: %s" % (hexs(load.elfcorehdr_segment.memsz),
                                                           hexs(minimum)))
    assert load.call.flags == HOTPLUG_FLAGS


@pytest.mark.parametrize("machine,arg", [
    ("small-vm", "0"),
    ("small-vm", "-1"),
    ("small-vm", "-4096"),
    ("small-vm", "abc"),
    ("small-vm", "12Q"),
    ("small-vm", "0x"),
    ("small-vm", "4M4"),
    ("small-vm", ""),
    ("small-vm", "64"),
    ("small-vm", "1G"),
    ("small-vm", "99999999999999999999"),
    ("small-vm", "16E"),
    ("large-server", "8K"),
])
def test_bad_elfcorehdrsz(kx, machine, arg):
    kpath, _ = kx.kernel()
    result = kx.run(kx.machine(machine), ["-p", "-c", "--hotplug", "--elfcorehdrsz=" + arg,
                                          kpath])
    result.assert_failed_without_calls()
    assert "elfcorehdrsz" in result.out or (arg and arg in result.out), (
        "the message names neither --elfcorehdrsz nor %r\n%s" % (arg, result.describe()))


def test_hotplug_on_kernel_without_crash_hotplug(kx):
    m = kx.machine("small-vm")
    m.drop_crash_hotplug()
    kpath, _ = kx.kernel()
    result = kx.run(m, ["-p", "-c", "--hotplug", kpath])
    result.assert_failed_without_calls()
    assert re.search(r"elfcorehdr|hotplug", result.out, re.I) and re.search(
        r"kernel", result.out, re.I), (
        "the message should say the running kernel cannot update the elfcorehdr\n"
        + result.describe())


def test_kernel_without_crash_hotplug_loads_without_hotplug(kx):
    load = need_load(*kx.crash_load("small-vm", prepare=no_crash_hotplug))
    assert load.call.flags == KEXEC_ON_CRASH | KEXEC_ARCH_X86_64


@pytest.mark.parametrize("policy", ["-s", "-a", None])
def test_hotplug_changes_nothing_for_file_load(kx, policy):
    kpath, _ = kx.kernel()
    ipath, _ = kx.initrd()
    base = ["-p"] + ([policy] if policy else []) + ["--initrd=" + ipath, "--append=quiet"]
    without = kx.run(kx.machine("small-vm"), base + [kpath])
    with_hp = kx.run(kx.machine("small-vm"), base + ["--hotplug", kpath])
    without.assert_ok()
    with_hp.assert_ok()
    assert [c.line for c in with_hp.calls] == [c.line for c in without.calls], (
        with_hp.describe())
    assert [c.kind for c in with_hp.calls] == ["kexec_file_load"]


def test_hotplug_auto_fallback_asks_for_updates(kx):
    result, load = kx.crash_load("small-vm", policy=None, extra=["--hotplug"],
                                 env={"KEXEC_TEST_FILE_ERRNO": "ENOSYS"})
    load = need_load(result, load)
    assert [c.kind for c in result.calls] == ["kexec_file_load", "kexec_load"]
    assert load.call.flags == HOTPLUG_FLAGS
