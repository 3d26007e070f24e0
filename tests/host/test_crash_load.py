# SPDX-License-Identifier: GPL-2.0-or-later
"""kexec -p -c: a crash load through kexec_load with this project's purgatory.

Each machine is loaded once (kernel, initrd and an --append text) and every
test checks one property of what reached the kernel: the segments, the
elfcorehdr, purgatory's digest, boot_params and the capture command line.
"""

import hashlib
import os
import struct

import pytest

import bzimage
from hostrun import CAPTURE_APPEND, MACHINES, need_load
from kexecrec import (E820_RAM, E820_TYPE_OF, ELF_MAGIC, EM_X86_64, ET_CORE, KEXEC_ARCH_X86_64,
                      KEXEC_ON_CRASH, MAX_SEGMENTS, MIB, PAGE, PARAMS_SIZE, PHDR, PT_LOAD,
                      PT_NOTE, PURGATORY_MAX_RANGES, PURGATORY_PARAMS_OFFSET, fmt_ranges, hexs,
                      overlaps, parse_elfcorehdr_arg, subtract, union)

INITRD_SIZE = {"small-vm": 3 * MIB, "large-server": 9 * MIB + 123, "low-high": 5 * MIB + 4095,
               "qemu-6.12": 7 * MIB}


@pytest.fixture(scope="module", params=MACHINES)
def crash(request, kx):
    result, load = kx.crash_load(request.param, initrd_size=INITRD_SIZE[request.param])
    return result, load


@pytest.fixture(scope="module")
def load(crash):
    return need_load(*crash)


# ---------------------------------------------------------------- the call

def test_one_successful_kexec_load(crash):
    result, _ = crash
    result.assert_ok()
    assert [c.kind for c in result.calls] == ["kexec_load"], result.describe()
    assert result.calls[0].ok, result.describe()


def test_flags_are_on_crash_for_x86_64(load):
    assert load.call.flags == KEXEC_ON_CRASH | KEXEC_ARCH_X86_64, (
        "flags %s, expected KEXEC_ON_CRASH | KEXEC_ARCH_X86_64 = %s"
        % (hexs(load.call.flags), hexs(KEXEC_ON_CRASH | KEXEC_ARCH_X86_64)))


def test_crash_loaded_after_load(crash):
    result, _ = crash
    assert result.machine.loaded(crash=True) == 1


def test_silent_on_success(crash):
    result, _ = crash
    result.assert_ok()
    assert result.out.strip() == "", "a successful load without -d prints nothing\n" + result.out


# ---------------------------------------------------------------- segments

def test_segment_count(load):
    assert 1 <= len(load.segments) <= MAX_SEGMENTS
    assert load.call.nr_segments == len(load.segments)


def test_segments_page_aligned(load):
    for seg in load.segments:
        assert seg.mem % PAGE == 0, "%s: mem not page aligned" % seg
        assert seg.memsz % PAGE == 0, "%s: memsz not page aligned" % seg
        assert seg.memsz > 0, "%s: empty" % seg


def test_segments_bufsz_within_memsz(load):
    for seg in load.segments:
        assert seg.bufsz <= seg.memsz, "%s: bufsz > memsz" % seg
        assert len(seg.data) == seg.bufsz, "%s: recorded %d bytes" % (seg, len(seg.data))


def test_segments_inside_main_crash_region(load):
    start, end = load.machine.main_crash_region
    for seg in load.segments:
        assert start <= seg.mem and seg.end <= end, (
            "%s is outside the crash region %#x-%#x the kernel loads into (crashk_res, the "
            "region /sys/kernel/kexec_crash_size measures)" % (seg, start, end - 1))


def test_segments_do_not_overlap(load):
    segs = sorted(load.segments, key=lambda s: s.mem)
    for a, b in zip(segs, segs[1:]):
        assert a.end <= b.mem, "%s overlaps %s" % (a, b)


def test_only_elfcorehdr_starts_with_elf_magic(load):
    elf = [s for s in load.segments if s.data[:4] == ELF_MAGIC]
    assert len(elf) == 1, "segments starting with \\177ELF: %s" % elf


# ---------------------------------------------------------------- purgatory

def test_entry_is_purgatory(load):
    seg = load.purgatory
    # A short (0xeb) or near (0xe9) jump over the parameter block, never ELF.
    assert seg.data[:1] in (b"\xeb", b"\xe9"), "the entry segment does not start with a jump"
    assert load.params  # the magic at offset 0x10


def test_purgatory_is_not_elf(load):
    assert load.purgatory.data[:4] != ELF_MAGIC


def test_digest_range_count(load):
    assert 1 <= load.params.nr_ranges <= PURGATORY_MAX_RANGES


def test_digest_ranges_inside_segments(load):
    segs = union([(s.mem, s.end) for s in load.segments])
    for start, end in load.digest_ranges():
        assert end > start, "empty digest range at %#x" % start
        assert not subtract([(start, end)], segs), (
            "digest range %#x-%#x covers memory outside the segments" % (start, end))


def test_digest_matches(load):
    assert load.digest_bytes() == load.params.sha256, (
        "sha256 over the params ranges %s does not match params.sha256"
        % fmt_ranges(load.digest_ranges()))


def test_digest_leaves_out_parameter_block(load):
    block = (load.purgatory.mem + PURGATORY_PARAMS_OFFSET,
             load.purgatory.mem + PURGATORY_PARAMS_OFFSET + PARAMS_SIZE)
    for r in load.digest_ranges():
        assert not overlaps(r, block), "digest range %#x-%#x covers purgatory's parameters" % r


def test_digest_covers_segment_data(load):
    covered = load.digest_ranges()
    for seg in load.segments:
        if seg is load.purgatory:
            continue
        missing = subtract([(seg.mem, seg.mem + seg.bufsz)], covered)
        assert not missing, "%s: bytes %s are not in the digest" % (seg, fmt_ranges(missing))


def test_digest_covers_exactly_the_loaded_bytes(load):
    """The digest covers each segment's bufsz, the bytes that were loaded, and
    no more: the zero fill up to memsz is the kernel's (the decompressor and
    bss use it), so hashing it would only slow purgatory down."""
    expected = [(s.mem, s.mem + s.bufsz) for s in load.segments
                if s is not load.purgatory and s.bufsz]
    assert sorted(load.digest_ranges()) == sorted(expected)


# ---------------------------------------------------------------- elfcorehdr

def test_elfcorehdr_header(load):
    elf = load.elfcorehdr
    assert elf.ident[:4] == ELF_MAGIC
    assert elf.ident[4] == 2, "not ELFCLASS64"
    assert elf.ident[5] == 1, "not little endian"
    assert elf.ident[6] == 1, "EI_VERSION is not EV_CURRENT"
    assert elf.e_type == ET_CORE
    assert elf.e_machine == EM_X86_64
    assert elf.e_version == 1
    assert elf.e_ehsize == 64
    assert elf.e_phentsize == PHDR.size
    assert elf.e_phnum == len(elf.phdrs) > 0
    assert elf.size <= load.elfcorehdr_segment.bufsz


def test_elfcorehdr_cpu_notes(load):
    notes = load.elfcorehdr.of_type(PT_NOTE)
    vmci = load.machine.vmcoreinfo
    cpu = sorted((p.p_paddr, p.p_memsz) for p in notes if p.p_paddr != vmci[0])
    expected = sorted(load.machine.crash_notes.values())
    assert cpu == expected, "CPU PT_NOTEs %s, expected one per present CPU %s" % (
        [(hexs(a), s) for a, s in cpu][:8], [(hexs(a), s) for a, s in expected][:8])


def test_elfcorehdr_vmcoreinfo_note(load):
    addr, size = load.machine.vmcoreinfo
    found = [p for p in load.elfcorehdr.of_type(PT_NOTE) if p.p_paddr == addr]
    assert len(found) == 1, "no single PT_NOTE at the vmcoreinfo address %#x" % addr
    assert found[0].p_memsz == size


def test_elfcorehdr_notes_readable_by_vmcore(load):
    """The capture kernel reads each segment of old memory at p_offset."""
    for p in load.elfcorehdr.phdrs:
        assert p.p_offset == p.p_paddr, "%s: p_offset is not p_paddr" % p
        assert p.p_filesz == p.p_memsz, "%s: p_filesz is not p_memsz" % p


def test_elfcorehdr_kernel_text(load):
    syms = load.machine.kallsyms
    text = [p for p in load.elfcorehdr.of_type(PT_LOAD) if p.p_vaddr == syms["_text"]]
    assert len(text) == 1, "no single PT_LOAD at _text %#x: %s" % (
        syms["_text"], load.elfcorehdr.of_type(PT_LOAD)[:4])
    assert text[0].p_paddr == load.machine.kernel_code_start
    assert text[0].p_memsz == syms["_end"] - syms["_text"]


def kcore_direct_map(machine):
    """PAGE_OFFSET as the machine's /proc/kcore shows it, or None without one."""
    path = machine.path("/proc/kcore")
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, _, _, vaddr, paddr = struct.unpack_from("<IIQQQ", data, phoff + i * phentsize)
        if p_type == PT_LOAD and paddr != (1 << 64) - 1 and vaddr < 0xffffffff80000000:
            return vaddr - paddr
    return None


def test_elfcorehdr_ram_vaddr_is_the_direct_map(load):
    """RAM PT_LOADs carry PAGE_OFFSET + paddr, PAGE_OFFSET taken from /proc/kcore
    (qemu-6.12 was captured under 5-level paging: 0xff4..., not 0xffff888...)."""
    base = kcore_direct_map(load.machine)
    if base is None:
        pytest.skip("%s has no /proc/kcore" % load.machine.name)
    syms = load.machine.kallsyms
    ram = [p for p in load.elfcorehdr.of_type(PT_LOAD) if p.p_vaddr != syms["_text"]]
    assert ram
    for p in ram:
        assert p.p_vaddr == base + p.p_paddr, "%s: vaddr is not %#x + paddr" % (p, base)


def test_elfcorehdr_system_ram(load):
    syms = load.machine.kallsyms
    ram = [p for p in load.elfcorehdr.of_type(PT_LOAD) if p.p_vaddr != syms["_text"]]
    ranges = sorted((p.p_paddr, p.p_paddr + p.p_memsz) for p in ram)
    for a, b in zip(ranges, ranges[1:]):
        assert a[1] <= b[0], "PT_LOADs %#x-%#x and %#x-%#x overlap" % (a + b)
    expected = load.machine.dump_ram
    assert union(ranges) == expected, (
        "PT_LOADs for RAM cover %s\nexpected System RAM less the crash region(s) and the "
        "first MiB: %s" % (fmt_ranges(union(ranges))[:600], fmt_ranges(expected)[:600]))


def test_elfcorehdr_one_load_per_ram_range(load):
    syms = load.machine.kallsyms
    ram = [p for p in load.elfcorehdr.of_type(PT_LOAD) if p.p_vaddr != syms["_text"]]
    assert len(ram) >= len(load.machine.dump_ram)


# ---------------------------------------------------------------- boot_params

def test_boot_params_has_setup_header(load):
    bp = load.boot_params
    assert bp[0x202:0x206] == b"HdrS", "boot_params has no setup header copied in"
    assert struct.unpack_from("<H", bp, 0x1FE)[0] == 0xAA55


SETUP_HEADER_FIELDS = {  # offset: (size, name), copied from the bzImage unchanged
    0x1F1: (1, "setup_sects"),
    0x206: (2, "version"),
    0x230: (4, "kernel_alignment"),
    0x234: (1, "relocatable_kernel"),
    0x235: (1, "min_alignment"),
    0x236: (2, "xloadflags"),
    0x238: (4, "cmdline_size"),
    0x258: (8, "pref_address"),
    0x260: (4, "init_size"),
}


def test_boot_params_header_fields(load):
    """The 64-bit entry reads kernel_alignment and init_size from boot_params."""
    bp, image = load.boot_params, load.kernel.data
    for off, (size, name) in sorted(SETUP_HEADER_FIELDS.items()):
        assert bp[off:off + size] == image[off:off + size], (
            "boot_params.hdr.%s (%#x) differs from the bzImage's" % (name, off))


def test_boot_params_type_of_loader(load):
    assert load.boot_params[0x210] != 0, "boot_params.hdr.type_of_loader is obligatory (0xff " \
        "for a loader without an assigned id)"


def test_acpi_rsdp_passed_on_efi(load):
    """A capture kernel gets no EFI system table: it needs the RSDP address, in
    boot_params.acpi_rsdp_addr or as acpi_rsdp= on its command line."""
    m = load.machine
    if not m.exists("sys/firmware/efi/systab"):
        pytest.skip("%s boots without EFI" % m.name)
    rsdp = [int(line.split("=")[1], 16) for line in m.read("sys/firmware/efi/systab").split()
            if line.startswith("ACPI20=")][0]
    in_bp = struct.unpack_from("<Q", load.boot_params, 0x070)[0]
    in_cmdline = [w for w in load.cmdline.split() if w.startswith("acpi_rsdp=")]
    assert in_bp == rsdp or [w for w in in_cmdline if int(w.split("=")[1], 0) == rsdp], (
        "RSDP %#x is neither in boot_params.acpi_rsdp_addr (%#x) nor on the command line %r"
        % (rsdp, in_bp, load.cmdline))


def test_boot_params_in_crash_region(load):
    start, end = load.machine.main_crash_region
    assert start <= load.params.boot_params and load.params.boot_params + 4096 <= end


def test_capture_cmdline_has_elfcorehdr(load):
    args = load.elfcorehdr_args
    assert len(args) == 1, "elfcorehdr= given %d times in %r" % (len(args), load.cmdline)
    addr, size = parse_elfcorehdr_arg(args[0])
    assert addr == load.elfcorehdr_segment.mem, (
        "elfcorehdr=%s, the elfcorehdr segment is at %#x" % (args[0],
                                                             load.elfcorehdr_segment.mem))
    if size is not None:
        assert size >= load.elfcorehdr.size


def test_capture_cmdline_has_append(load):
    assert CAPTURE_APPEND in load.cmdline, load.cmdline


def test_capture_cmdline_fits(load):
    assert len(load.cmdline) <= load.kernel.cmdline_size


def test_capture_cmdline_in_crash_region(load):
    ptr = load.bp_u32(0x228) | (load.bp_u32(0x0C8) << 32)
    start, end = load.machine.main_crash_region
    assert start <= ptr < end


def test_e820_crash_regions_are_ram(load):
    """The crash region(s) are the capture kernel's RAM, all but the elfcorehdr,
    which it reads the old memory through (the kernel's own kexec_file_load
    leaves it out the same way)."""
    ram = [(a, a + n) for a, n, t in load.e820 if t == E820_RAM]
    elf = load.elfcorehdr_segment
    for region in load.machine.crash_regions:
        missing = subtract(subtract([region], [(elf.mem, elf.end)]), ram)
        assert not missing, "crash region %#x-%#x is not RAM in the capture e820: %s missing" % (
            region[0], region[1] - 1, fmt_ranges(missing))


def test_e820_excludes_elfcorehdr(load):
    ram = [(a, a + n) for a, n, t in load.e820 if t == E820_RAM]
    elf = load.elfcorehdr_segment
    header = (elf.mem, elf.mem + elf.bufsz)
    assert not [r for r in ram if overlaps(r, header)], (
        "the elfcorehdr %s is RAM in the capture e820: the capture kernel could overwrite "
        "it before /proc/vmcore reads it" % elf)


def test_e820_no_other_ram(load):
    ram = [(a, a + n) for a, n, t in load.e820 if t == E820_RAM]
    extra = subtract(ram, load.machine.crash_regions + [(0, MIB)])
    assert not extra, "the capture e820 gives the capture kernel RAM outside the crash " \
        "region(s): %s" % fmt_ranges(extra)


def test_e820_keeps_acpi_and_reserved(load):
    for name, e820_type in sorted(E820_TYPE_OF.items()):
        have = [(a, a + n) for a, n, t in load.e820 if t == e820_type]
        for r in load.machine.top_level(name):
            if r[1] <= MIB:
                continue
            missing = subtract([r], have)
            assert not missing, "%s %#x-%#x is not type %d in the capture e820" % (
                name, r[0], r[1] - 1, e820_type)


def test_e820_entries_do_not_overlap(load):
    entries = sorted((a, a + n) for a, n, t in load.e820)
    assert entries, "empty capture e820"
    for a, b in zip(entries, entries[1:]):
        assert a[1] <= b[0], "e820 entries %#x-%#x and %#x-%#x overlap" % (a + b)


# ---------------------------------------------------------------- kernel and initrd

def test_kernel_entry_is_64bit_entry(load):
    assert load.params.kernel_entry == load.kernel_segment.mem + 0x200


def test_kernel_segment_holds_protected_mode_part(load):
    seg = load.kernel_segment
    assert seg.data[:len(load.kernel.payload)] == load.kernel.payload, (
        "the kernel segment does not start with the protected-mode part of the bzImage")
    assert seg.bufsz == len(load.kernel.payload) or seg.data[len(load.kernel.payload):] == (
        b"\0" * (seg.bufsz - len(load.kernel.payload)))


def test_kernel_segment_aligned(load):
    assert load.kernel_segment.mem % load.kernel.kernel_alignment == 0, (
        "%s is not aligned to kernel_alignment %#x" % (load.kernel_segment,
                                                       load.kernel.kernel_alignment))


def test_kernel_segment_memsz_covers_init_size(load):
    assert load.kernel_segment.memsz >= load.kernel.init_size, (
        "%s: memsz below init_size %#x" % (load.kernel_segment, load.kernel.init_size))


def test_purgatory_boot_params_pointer(load):
    assert load.memory.segment_at(load.params.boot_params) is not None


def test_initrd_segment(load):
    image, size = load.ramdisk
    assert size == len(load.initrd), "ramdisk_size %#x, initrd is %#x bytes" % (
        size, len(load.initrd))
    seg = load.memory.segment_at(image)
    assert seg is not None and seg.mem == image, "ramdisk_image %#x is not a segment" % image
    assert load.memory.read(image, size) == load.initrd, "the initrd segment differs from the file"


# ---------------------------------------------------------------- variants on small-vm

def test_digest_detects_a_changed_byte(load):
    """The digest check above is not vacuous: one byte changed anywhere the
    digest covers changes it."""
    start, length = load.params.ranges[-1]
    seg = load.memory.segment_at(start + length // 2)
    off = start + length // 2 - seg.mem
    saved = seg.data
    try:
        data = bytearray(saved.ljust(off + 1, b"\0"))
        data[off] ^= 0x01
        seg.data = bytes(data)
        assert load.digest_bytes() != load.params.sha256
    finally:
        seg.data = saved


def old_vmcoreinfo(machine):
    """Kernels before %pa printed the vmcoreinfo address without 0x."""
    addr, size = machine.vmcoreinfo
    machine.write("sys/kernel/vmcoreinfo", "%x %x\n" % (addr, size))


def test_vmcoreinfo_without_0x(kx):
    load = need_load(*kx.crash_load("small-vm", prepare=old_vmcoreinfo))
    addr, size = load.machine.vmcoreinfo
    assert [p for p in load.elfcorehdr.of_type(PT_NOTE) if p.p_paddr == addr and
            p.p_memsz == size]


def test_kernel_not_loadable_above_4g(kx):
    """low-high's crash region for segments (crashk_res) is above 4 GiB; the
    low one is no place for segments, the kernel refuses those with
    EADDRNOTAVAIL. A kernel without XLF_CAN_BE_LOADED_ABOVE_4G cannot go
    anywhere: the loader must say so instead of making the call."""
    kpath, _ = kx.kernel(xloadflags=bzimage.XLF_KERNEL_64)
    result = kx.run(kx.machine("low-high"), ["-p", "-c", kpath])
    result.assert_failed_without_calls(kpath)


def test_without_initrd(kx):
    result, load = kx.crash_load("small-vm", initrd_size=0)
    load = need_load(result, load)
    assert load.ramdisk == (0, 0), "no initrd given but ramdisk_image/size are %s" % (
        [hexs(v) for v in load.ramdisk])
    assert load.digest_bytes() == load.params.sha256


def test_without_append(kx):
    result, load = kx.crash_load("small-vm", append=None)
    load = need_load(result, load)
    assert len(load.elfcorehdr_args) == 1


def test_command_line_synonym(kx):
    result, load = kx.crash_load("small-vm", append=None,
                                 extra=["--command-line=" + CAPTURE_APPEND])
    load = need_load(result, load)
    assert CAPTURE_APPEND in load.cmdline


def reuse_words(machine):
    return [w for w in machine.cmdline.split()
            if not w.startswith("crashkernel=") and not w.startswith("BOOT_IMAGE=")]


def is_subsequence(words, within):
    it = iter(within)
    return all(w in it for w in words)


@pytest.mark.parametrize("machine", MACHINES)
def test_reuse_cmdline(kx, machine):
    result, load = kx.crash_load(machine, append=None, extra=["--reuse-cmdline"])
    load = need_load(result, load)
    words = load.cmdline.split()
    assert not [w for w in words if w.startswith("crashkernel=") or w.startswith("BOOT_IMAGE=")]
    assert is_subsequence(reuse_words(load.machine), words), (
        "capture command line %r lacks the words of /proc/cmdline %r"
        % (load.cmdline, load.machine.cmdline))


def test_reuse_cmdline_and_append(kx):
    result, load = kx.crash_load("low-high", extra=["--reuse-cmdline"])
    load = need_load(result, load)
    words = load.cmdline.split()
    assert is_subsequence(reuse_words(load.machine) + CAPTURE_APPEND.split(), words), (
        load.cmdline)


def test_initrd_as_separate_argument(kx):
    path, data = kx.initrd(2 * MIB)
    kpath, kernel = kx.kernel()
    machine = kx.machine("small-vm")
    result = kx.run(machine, ["-p", "-c", "--initrd", path, kpath])
    result.assert_ok()
    loads = [c for c in result.calls if c.kind == "kexec_load"]
    assert loads and loads[0].ok, result.describe()


def test_kernel_before_options(kx):
    path, _ = kx.initrd(2 * MIB)
    kpath, _ = kx.kernel()
    result = kx.run(kx.machine("small-vm"), ["-p", kpath, "-c", "--initrd=" + path])
    result.assert_ok()
    assert [c.kind for c in result.calls] == ["kexec_load"], result.describe()


@pytest.mark.parametrize("method", ["gzip", "xz"])
def test_compressed_kernel_file(kx, method):
    result, load = kx.crash_load("small-vm", kernel_opts={"compress": method})
    load = need_load(result, load)
    assert load.kernel_segment.data[:len(load.kernel.payload)] == load.kernel.payload


def test_kernel_alignment_16m(kx):
    result, load = kx.crash_load("small-vm", kernel_opts={"kernel_alignment": 0x1000000})
    load = need_load(result, load)
    assert load.kernel_segment.mem % 0x1000000 == 0


def test_protocol_2_12(kx):
    result, load = kx.crash_load("small-vm", kernel_opts={"version": 0x020C})
    need_load(result, load)


def test_large_kernel_and_initrd(kx):
    """A distribution-sized kernel (init_size 60 MiB) with a 64 MiB initrd in 256 MiB."""
    result, load = kx.crash_load("small-vm", initrd_size=64 * MIB,
                                 kernel_opts={"payload_size": 8 * MIB, "init_size": 60 * MIB})
    load = need_load(result, load)
    assert load.digest_bytes() == load.params.sha256
    assert load.kernel_segment.memsz >= 60 * MIB


def test_load_is_deterministic(kx):
    """The crash plan is pure: the same inputs give the same segments, byte for byte."""
    first = need_load(*kx.crash_load("small-vm", initrd_size=INITRD_SIZE["small-vm"]))
    kpath, _ = kx.kernel()
    ipath, _ = kx.initrd(INITRD_SIZE["small-vm"])
    again = kx.run(kx.machine("small-vm"), ["-p", "-c", "--initrd=" + ipath,
                                            "--append=" + CAPTURE_APPEND, kpath])
    again.assert_ok()
    a = [(s.mem, s.memsz, hashlib.sha256(s.data).hexdigest()) for s in first.segments]
    b = [(s.mem, s.memsz, hashlib.sha256(s.data).hexdigest()) for s in again.segments]
    assert a == b
