# SPDX-License-Identifier: GPL-2.0-or-later
"""Reading what kexec-trapped recorded, and taking a crash load apart.

Pure functions and small classes, no pytest: conftest.py runs the loader,
the tests ask these what it handed to the kernel. A load that cannot be
taken apart raises AssertionError with the reason, so that each test fails
on its own point.
"""

import hashlib
import os
import re
import struct

PAGE = 4096
MIB = 1 << 20

KEXEC_ON_CRASH = 0x1
KEXEC_UPDATE_ELFCOREHDR = 0x4
KEXEC_ARCH_X86_64 = 62 << 16
KEXEC_ARCH_MASK = 0xFFFF0000
KEXEC_FILE_UNLOAD = 0x1
KEXEC_FILE_ON_CRASH = 0x2
KEXEC_FILE_NO_INITRAMFS = 0x4
MAX_SEGMENTS = 16

PURGATORY_PARAMS_OFFSET = 0x10
PURGATORY_MAGIC = 0x3130505248584B4B
PURGATORY_MAX_RANGES = 16
PARAMS_HEAD = struct.Struct("<QQQIHH32s")
PARAMS_SIZE = PARAMS_HEAD.size + PURGATORY_MAX_RANGES * 16

ELF_MAGIC = b"\x7fELF"
ET_CORE = 4
EM_X86_64 = 62
PT_LOAD = 1
PT_NOTE = 4
EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")

E820_RAM = 1
E820_RESERVED = 2
E820_ACPI = 3
E820_NVS = 4
E820_TYPE_OF = {
    "ACPI Tables": E820_ACPI,
    "ACPI Non-volatile Storage": E820_NVS,
    "Reserved": E820_RESERVED,
}

# struct boot_params offsets (Documentation/arch/x86/zero-page.rst)
BP_EXT_RAMDISK_IMAGE = 0x0C0
BP_EXT_RAMDISK_SIZE = 0x0C4
BP_EXT_CMD_LINE_PTR = 0x0C8
BP_E820_ENTRIES = 0x1E8
BP_HDR = 0x1F1
BP_RAMDISK_IMAGE = 0x218
BP_RAMDISK_SIZE = 0x21C
BP_CMD_LINE_PTR = 0x228
BP_E820_TABLE = 0x2D0
BP_E820_MAX = 128
BOOT_PARAMS_SIZE = 4096


def page_up(value):
    return (value + PAGE - 1) // PAGE * PAGE


def hexs(value):
    return "0x%x" % value


# ---------------------------------------------------------------- intervals
# Half-open [start, end) pairs throughout.

def union(ranges):
    out = []
    for start, end in sorted(r for r in ranges if r[1] > r[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def subtract(ranges, holes):
    out = []
    holes = union(holes)
    for start, end in union(ranges):
        cur = start
        for hs, he in holes:
            if he <= cur or hs >= end:
                continue
            if hs > cur:
                out.append((cur, hs))
            cur = max(cur, he)
        if cur < end:
            out.append((cur, end))
    return out


def overlaps(a, b):
    return a[0] < b[1] and b[0] < a[1]


def fmt_ranges(ranges):
    return ", ".join("%#x-%#x" % (s, e) for s, e in ranges) or "none"


# ---------------------------------------------------------------- memparse

def memparse(text):
    """The kernel's memparse(): a C integer (0x hex, 0 octal, decimal) and an
    optional K/M/G/T/P/E suffix. Returns (value, rest of the string)."""
    m = re.match(r"(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([KkMmGgTtPpEe]?)", text)
    if not m:
        raise ValueError("not a number: %r" % text)
    digits, suffix = m.groups()
    value = int(digits, 16) if digits[:2].lower() == "0x" else int(digits, 8 if
                                                                  digits[0] == "0" else 10)
    value <<= {"": 0, "k": 10, "m": 20, "g": 30, "t": 40, "p": 50, "e": 60}[suffix.lower()]
    return value, text[m.end():]


def parse_elfcorehdr_arg(value):
    """elfcorehdr=[size@]addr as the capture kernel reads it: (addr, size or None)."""
    first, rest = memparse(value)
    if rest.startswith("@"):
        addr, rest = memparse(rest[1:])
        size = first
    else:
        addr, size = first, None
    if rest:
        raise ValueError("trailing %r in elfcorehdr=%s" % (rest, value))
    return addr, size


# ---------------------------------------------------------------- the record

class Call:
    LOAD_RE = re.compile(r"^kexec_load entry=(0x[0-9a-f]+) nr_segments=(\d+) flags=(0x[0-9a-f]+)"
                         r"(?: -> (\w+))?$")
    FILE_RE = re.compile(r"^kexec_file_load kernel=(.*?) initrd=(.*?) cmdline_len=(\d+) "
                         r"flags=(0x[0-9a-f]+) cmdline=(.*?)(?: -> (\w+))?$")

    def __init__(self, line):
        self.line = line
        self.errno = None
        m = self.LOAD_RE.match(line)
        if m:
            self.kind = "kexec_load"
            self.entry = int(m.group(1), 16)
            self.nr_segments = int(m.group(2))
            self.flags = int(m.group(3), 16)
            self.errno = m.group(4)
            return
        m = self.FILE_RE.match(line)
        if m:
            self.kind = "kexec_file_load"
            self.kernel, self.initrd = m.group(1), m.group(2)
            self.cmdline_len = int(m.group(3))
            self.flags = int(m.group(4), 16)
            self.cmdline = m.group(5)
            self.errno = m.group(6)
            return
        m = re.match(r"^reboot_kexec(?: -> (\w+))?$", line)
        if m:
            self.kind = "reboot_kexec"
            self.errno = m.group(1)
            return
        raise AssertionError("unparsable line in RECORD/calls: %r" % line)

    @property
    def ok(self):
        return self.errno is None

    def __repr__(self):
        return "<%s>" % self.line


class Segment:
    def __init__(self, index, mem, memsz, bufsz, data):
        self.index, self.mem, self.memsz, self.bufsz, self.data = index, mem, memsz, bufsz, data

    @property
    def end(self):
        return self.mem + self.memsz

    def __repr__(self):
        return "seg%d[mem=%#x memsz=%#x bufsz=%#x]" % (self.index, self.mem, self.memsz,
                                                        self.bufsz)


def read_calls(record):
    path = os.path.join(record, "calls")
    if not os.path.exists(path):
        return []
    with open(path, errors="replace") as f:
        return [Call(line.rstrip("\n")) for line in f if line.strip()]


def read_segments(record):
    path = os.path.join(record, "segments")
    if not os.path.exists(path):
        return []
    segs = []
    with open(path) as f:
        for line in f:
            m = re.match(r"^(\d+) mem=(0x[0-9a-f]+) memsz=(0x[0-9a-f]+) bufsz=(0x[0-9a-f]+)$",
                         line.strip())
            if not m:
                raise AssertionError("unparsable line in RECORD/segments: %r" % line)
            index = int(m.group(1))
            with open(os.path.join(record, "seg%d.bin" % index), "rb") as b:
                data = b.read()
            segs.append(Segment(index, int(m.group(2), 16), int(m.group(3), 16),
                                int(m.group(4), 16), data))
    return segs


class Memory:
    """Physical memory as the capture side will find it: the segments, each
    zero-filled from bufsz to memsz."""

    def __init__(self, segments):
        self.segments = segments

    def segment_at(self, addr):
        for seg in self.segments:
            if seg.mem <= addr < seg.end:
                return seg
        return None

    def read(self, addr, size, what="memory"):
        out = bytearray()
        while size > 0:
            seg = self.segment_at(addr)
            if seg is None:
                raise AssertionError("%s at %#x is in no segment (segments: %s)"
                                     % (what, addr, self.segments))
            off = addr - seg.mem
            n = min(size, seg.end - addr)
            chunk = seg.data[off:off + n]
            out += chunk + b"\0" * (n - len(chunk))
            addr += n
            size -= n
        return bytes(out)

    def read_cstring(self, addr, limit, what):
        seg = self.segment_at(addr)
        if seg is None:
            raise AssertionError("%s at %#x is in no segment" % (what, addr))
        data = self.read(addr, min(limit, seg.end - addr), what)
        if b"\0" not in data:
            raise AssertionError("%s at %#x has no NUL within %d bytes" % (what, addr, len(data)))
        return data[:data.index(b"\0")].decode("ascii", "replace")


# ---------------------------------------------------------------- /proc/iomem

class IomemEntry:
    def __init__(self, depth, start, end, name):
        self.depth, self.start, self.end, self.name = depth, start, end, name

    @property
    def range(self):
        return (self.start, self.end)

    def __repr__(self):
        return "%s%#x-%#x : %s" % ("  " * self.depth, self.start, self.end - 1, self.name)


def parse_iomem(text):
    """Entries with exclusive ends and their nesting depth."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^( *)([0-9a-f]+)-([0-9a-f]+) : (.*)$", line)
        if not m:
            continue
        out.append(IomemEntry(len(m.group(1)) // 2, int(m.group(2), 16),
                              int(m.group(3), 16) + 1, m.group(4)))
    return out


# ---------------------------------------------------------------- ELF core header

class Phdr:
    def __init__(self, raw):
        (self.p_type, self.p_flags, self.p_offset, self.p_vaddr, self.p_paddr, self.p_filesz,
         self.p_memsz, self.p_align) = PHDR.unpack(raw)

    def __repr__(self):
        kind = {PT_LOAD: "PT_LOAD", PT_NOTE: "PT_NOTE"}.get(self.p_type, str(self.p_type))
        return "%s[off=%#x vaddr=%#x paddr=%#x filesz=%#x memsz=%#x]" % (
            kind, self.p_offset, self.p_vaddr, self.p_paddr, self.p_filesz, self.p_memsz)


class ElfCore:
    def __init__(self, data):
        if len(data) < EHDR.size:
            raise AssertionError("elfcorehdr is %d bytes, shorter than an ELF header" % len(data))
        (ident, self.e_type, self.e_machine, self.e_version, self.e_entry, self.e_phoff,
         self.e_shoff, self.e_flags, self.e_ehsize, self.e_phentsize, self.e_phnum,
         self.e_shentsize, self.e_shnum, self.e_shstrndx) = EHDR.unpack_from(data)
        self.ident = ident
        self.phdrs = []
        if self.e_phentsize != PHDR.size:
            return
        end = self.e_phoff + self.e_phnum * PHDR.size
        if end > len(data):
            raise AssertionError("elfcorehdr program headers end at %#x, past bufsz %#x"
                                 % (end, len(data)))
        for i in range(self.e_phnum):
            off = self.e_phoff + i * PHDR.size
            self.phdrs.append(Phdr(data[off:off + PHDR.size]))

    @property
    def size(self):
        return max(self.e_phoff + self.e_phnum * self.e_phentsize, EHDR.size)

    def of_type(self, p_type):
        return [p for p in self.phdrs if p.p_type == p_type]


# ---------------------------------------------------------------- purgatory

class PurgatoryParams:
    def __init__(self, data):
        head = data[PURGATORY_PARAMS_OFFSET:PURGATORY_PARAMS_OFFSET + PARAMS_HEAD.size]
        if len(head) < PARAMS_HEAD.size:
            raise AssertionError("purgatory segment too short for its parameter block")
        (self.magic, self.kernel_entry, self.boot_params, self.flags, self.serial_port,
         self.nr_ranges, self.sha256) = PARAMS_HEAD.unpack(head)
        off = PURGATORY_PARAMS_OFFSET + PARAMS_HEAD.size
        raw = data[off:off + PURGATORY_MAX_RANGES * 16].ljust(PURGATORY_MAX_RANGES * 16, b"\0")
        self.all_ranges = [struct.unpack_from("<QQ", raw, i * 16)
                           for i in range(PURGATORY_MAX_RANGES)]

    @property
    def ranges(self):
        """The digest's (start, len) pairs, in order."""
        return self.all_ranges[:min(self.nr_ranges, PURGATORY_MAX_RANGES)]


# ---------------------------------------------------------------- a crash load

class CrashLoad:
    """One recorded kexec_load crash load, taken apart.

    Every property raises AssertionError, naming what is missing, when the
    load does not have the piece it looks for.
    """

    def __init__(self, call, segments, machine, kernel, initrd):
        self.call = call
        self.segments = segments
        self.memory = Memory(segments)
        self.machine = machine
        self.kernel = kernel  # a bzimage.Kernel
        self.initrd = initrd  # bytes or None

    def find(self, pred, what):
        found = [s for s in self.segments if pred(s)]
        if len(found) != 1:
            raise AssertionError("expected exactly one %s segment, found %d among %s"
                                 % (what, len(found), self.segments))
        return found[0]

    @property
    def purgatory(self):
        seg = self.memory.segment_at(self.call.entry)
        if seg is None:
            raise AssertionError("entry %#x is in no segment %s" % (self.call.entry,
                                                                     self.segments))
        if seg.mem != self.call.entry:
            raise AssertionError("entry %#x is not the start of its segment %s"
                                 % (self.call.entry, seg))
        return seg

    @property
    def params(self):
        params = PurgatoryParams(self.purgatory.data)
        if params.magic != PURGATORY_MAGIC:
            raise AssertionError("no purgatory parameter block (magic %#x) at offset 0x10 of "
                                 "the entry segment %s" % (params.magic, self.purgatory))
        return params

    @property
    def elfcorehdr_segment(self):
        return self.find(lambda s: s.data[:4] == ELF_MAGIC, "elfcorehdr (\\177ELF)")

    @property
    def elfcorehdr(self):
        return ElfCore(self.elfcorehdr_segment.data)

    @property
    def boot_params(self):
        return self.memory.read(self.params.boot_params, BOOT_PARAMS_SIZE, "boot_params")

    def bp_u32(self, off):
        return struct.unpack_from("<I", self.boot_params, off)[0]

    @property
    def cmdline(self):
        ptr = self.bp_u32(BP_CMD_LINE_PTR) | (self.bp_u32(BP_EXT_CMD_LINE_PTR) << 32)
        if not ptr:
            raise AssertionError("boot_params.hdr.cmd_line_ptr is 0")
        return self.memory.read_cstring(ptr, 1 << 16, "the capture command line")

    @property
    def elfcorehdr_args(self):
        return [w[len("elfcorehdr="):] for w in self.cmdline.split()
                if w.startswith("elfcorehdr=")]

    @property
    def e820(self):
        bp = self.boot_params
        n = bp[BP_E820_ENTRIES]
        if n > BP_E820_MAX:
            raise AssertionError("boot_params.e820_entries is %d, more than %d" % (n, BP_E820_MAX))
        return [struct.unpack_from("<QQI", bp, BP_E820_TABLE + 20 * i) for i in range(n)]

    @property
    def kernel_segment(self):
        addr = self.params.kernel_entry - 0x200
        seg = self.memory.segment_at(addr)
        if seg is None or seg.mem != addr:
            raise AssertionError("kernel_entry %#x - 0x200 is not the start of a segment %s"
                                 % (self.params.kernel_entry, self.segments))
        return seg

    @property
    def ramdisk(self):
        image = self.bp_u32(BP_RAMDISK_IMAGE) | (self.bp_u32(BP_EXT_RAMDISK_IMAGE) << 32)
        size = self.bp_u32(BP_RAMDISK_SIZE) | (self.bp_u32(BP_EXT_RAMDISK_SIZE) << 32)
        return image, size

    def digest_bytes(self):
        h = hashlib.sha256()
        for start, length in self.params.ranges:
            h.update(self.memory.read(start, length, "digest range %#x+%#x" % (start, length)))
        return h.digest()

    def digest_ranges(self):
        return [(s, s + n) for s, n in self.params.ranges]


# ---------------------------------------------------------------- output

HEX_RE = re.compile(r"(?<![0-9a-zA-Z_])(?:0x)?([0-9a-fA-F]{4,16})(?![0-9a-zA-Z_])")


def hex_numbers(text):
    """Every number in text that reads as hex, with or without 0x."""
    out = set()
    for m in HEX_RE.finditer(text):
        out.add(int(m.group(1), 16))
    for m in re.finditer(r"0x([0-9a-fA-F]+)", text):
        out.add(int(m.group(1), 16))
    return out
