#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Synthetic x86 bzImage and initrd files for the host tests.

A bzImage here is what a boot loader sees of a real one: a real-mode setup
part of (setup_sects + 1) sectors holding the boot protocol setup header
(Documentation/arch/x86/boot.rst), followed by the protected-mode part, whose
first byte is loaded at the kernel's load address and whose 64-bit entry is
0x200 further on. The protected-mode part is deterministic pseudo-random
bytes: nothing here ever runs, the tests only check where the loader puts it.

Used as a module by the tests and as a command:
  bzimage.py kernel OUT [options]   a bzImage, or a broken or compressed one
  bzimage.py initrd OUT --size N    an initrd (a cpio magic, then noise)
"""

import argparse
import gzip
import lzma
import random
import struct
import sys

SECTOR = 512
PAGE = 4096

# Offsets into the setup part (boot.rst, "THE REAL-MODE KERNEL HEADER").
OFF_SETUP_SECTS = 0x1F1
OFF_ROOT_FLAGS = 0x1F2
OFF_SYSSIZE = 0x1F4
OFF_VID_MODE = 0x1FA
OFF_BOOT_FLAG = 0x1FE
OFF_JUMP = 0x200
OFF_HEADER = 0x202
OFF_VERSION = 0x206
OFF_START_SYS_SEG = 0x20C
OFF_KERNEL_VERSION = 0x20E
OFF_LOADFLAGS = 0x211
OFF_SETUP_MOVE_SIZE = 0x212
OFF_CODE32_START = 0x214
OFF_INITRD_ADDR_MAX = 0x22C
OFF_KERNEL_ALIGNMENT = 0x230
OFF_RELOCATABLE = 0x234
OFF_MIN_ALIGNMENT = 0x235
OFF_XLOADFLAGS = 0x236
OFF_CMDLINE_SIZE = 0x238
OFF_PAYLOAD_OFFSET = 0x248
OFF_PAYLOAD_LENGTH = 0x24C
OFF_PREF_ADDRESS = 0x258
OFF_INIT_SIZE = 0x260
OFF_HANDOVER_OFFSET = 0x264
OFF_KERNEL_INFO_OFFSET = 0x268

LOADED_HIGH = 0x01

XLF_KERNEL_64 = 0x01
XLF_CAN_BE_LOADED_ABOVE_4G = 0x02
XLF_EFI_HANDOVER_32 = 0x04
XLF_EFI_HANDOVER_64 = 0x08
XLF_EFI_KEXEC = 0x10

DEFAULT_VERSION = 0x020F  # 2.15, what current kernels report
DEFAULT_XLOADFLAGS = (XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G | XLF_EFI_HANDOVER_64
                      | XLF_EFI_KEXEC)
DEFAULT_PAYLOAD_SIZE = 512 * 1024
DEFAULT_SETUP_SECTS = 30

KERNEL_INFO_OFFSET = 0x100  # into the protected-mode part
KERNEL_VERSION_STRING = b"6.12.0-synthetic (kexec-hp tests) #1 SMP PREEMPT_DYNAMIC\0"


def noise(size, seed):
    """size deterministic pseudo-random bytes."""
    return random.Random(seed).randbytes(size)


def round_up(value, align):
    return (value + align - 1) // align * align


def header_end(version):
    """Where the setup header ends for a protocol version: the jump at 0x200 skips it."""
    if version >= 0x020F:
        return OFF_KERNEL_INFO_OFFSET + 4
    if version >= 0x020B:
        return OFF_HANDOVER_OFFSET + 4
    if version >= 0x020A:
        return OFF_INIT_SIZE + 4
    return OFF_PREF_ADDRESS


class Kernel:
    """A synthetic bzImage: .data is the file, the other fields what it declares."""

    def __init__(self, payload_size=DEFAULT_PAYLOAD_SIZE, version=DEFAULT_VERSION,
                 xloadflags=DEFAULT_XLOADFLAGS, kernel_alignment=0x200000, min_alignment=21,
                 relocatable=True, init_size=None, pref_address=0x1000000,
                 setup_sects=DEFAULT_SETUP_SECTS, cmdline_size=2047, seed=1):
        self.payload_size = payload_size
        self.version = version
        self.xloadflags = xloadflags
        self.kernel_alignment = kernel_alignment
        self.min_alignment = min_alignment
        self.relocatable = relocatable
        self.init_size = init_size or round_up(max(payload_size * 5, 4 << 20), PAGE)
        self.pref_address = pref_address
        self.setup_sects = setup_sects
        self.cmdline_size = cmdline_size
        self.seed = seed

        self.setup_size = (setup_sects + 1) * SECTOR
        self.payload_offset = round_up(payload_size // 8, 16)
        self.payload_length = payload_size - self.payload_offset - round_up(payload_size // 16, 16)
        self.payload = self._protected_mode()
        self.data = self._setup() + self.payload

    def _protected_mode(self):
        pm = bytearray(noise(self.payload_size, self.seed))
        # startup_32 begins with cld; cli, nothing like the ELF magic or a jump.
        pm[0:2] = b"\xfc\xfa"
        if self.version >= 0x020F:
            struct.pack_into("<4sIII", pm, KERNEL_INFO_OFFSET, b"LToP", 16, 16, 0x0A)
        return bytes(pm)

    def _setup(self):
        setup = bytearray(self.setup_size)
        setup[0:2] = b"MZ"  # the EFI stub's PE header, as in every distribution kernel
        struct.pack_into("<I", setup, 0x3C, 0x40)
        setup[0x40:0x44] = b"PE\0\0"
        tail = noise(self.setup_size - 0x300, self.seed + 1000)
        setup[0x300:] = tail
        setup[0x300:0x300 + len(KERNEL_VERSION_STRING)] = KERNEL_VERSION_STRING

        end = header_end(self.version)
        setup[OFF_SETUP_SECTS] = self.setup_sects
        struct.pack_into("<H", setup, OFF_ROOT_FLAGS, 1)
        struct.pack_into("<I", setup, OFF_SYSSIZE, round_up(self.payload_size, 16) // 16)
        struct.pack_into("<H", setup, OFF_VID_MODE, 0xFFFF)
        struct.pack_into("<H", setup, OFF_BOOT_FLAG, 0xAA55)
        setup[OFF_JUMP] = 0xEB
        setup[OFF_JUMP + 1] = end - OFF_HEADER
        setup[OFF_HEADER:OFF_HEADER + 4] = b"HdrS"
        struct.pack_into("<H", setup, OFF_VERSION, self.version)
        struct.pack_into("<H", setup, OFF_START_SYS_SEG, 0x1000)
        struct.pack_into("<H", setup, OFF_KERNEL_VERSION, 0x300 - 0x200)
        setup[OFF_LOADFLAGS] = LOADED_HIGH
        struct.pack_into("<H", setup, OFF_SETUP_MOVE_SIZE, 0x8000)
        struct.pack_into("<I", setup, OFF_CODE32_START, 0x100000)
        struct.pack_into("<I", setup, OFF_INITRD_ADDR_MAX, 0x7FFFFFFF)
        struct.pack_into("<I", setup, OFF_KERNEL_ALIGNMENT, self.kernel_alignment)
        setup[OFF_RELOCATABLE] = 1 if self.relocatable else 0
        setup[OFF_MIN_ALIGNMENT] = self.min_alignment
        struct.pack_into("<H", setup, OFF_XLOADFLAGS, self.xloadflags)
        struct.pack_into("<I", setup, OFF_CMDLINE_SIZE, self.cmdline_size)
        struct.pack_into("<I", setup, OFF_PAYLOAD_OFFSET, self.payload_offset)
        struct.pack_into("<I", setup, OFF_PAYLOAD_LENGTH, self.payload_length)
        struct.pack_into("<Q", setup, OFF_PREF_ADDRESS, self.pref_address)
        struct.pack_into("<I", setup, OFF_INIT_SIZE, self.init_size)
        struct.pack_into("<I", setup, OFF_HANDOVER_OFFSET, 0x190)
        struct.pack_into("<I", setup, OFF_KERNEL_INFO_OFFSET,
                         KERNEL_INFO_OFFSET if self.version >= 0x020F else 0)
        # Bytes past the header end belong to the setup code, not to the header.
        for off in range(end, 0x300):
            setup[off] = 0
        return bytes(setup)

    def truncated(self, where):
        """The file cut short: "header" inside the setup header, "setup" after the
        header but before the protected-mode part, "payload" in the middle of the
        compressed kernel, or a byte count."""
        if where == "header":
            return self.data[:OFF_INITRD_ADDR_MAX]
        if where == "setup":
            return self.data[:self.setup_size - SECTOR]
        if where == "payload":
            return self.data[:self.setup_size + self.payload_offset + self.payload_length // 2]
        return self.data[:int(where)]


def compress(data, method):
    if method == "gzip":
        return gzip.compress(data, compresslevel=6, mtime=0)
    if method == "xz":
        return lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64)
    raise ValueError("unknown compression %r" % method)


def not_a_bzimage(kind, size=64 * 1024, seed=7):
    """A file that is no bzImage: "random" noise, an "elf" vmlinux-like file, or "text"."""
    if kind == "random":
        data = bytearray(noise(size, seed))
        data[0x202:0x206] = b"HdrX"  # never "HdrS" by chance
        return bytes(data)
    if kind == "elf":
        body = noise(size, seed)
        ehdr = struct.pack("<4sBBBBB7sHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0, b"\0" * 7,
                           2, 62, 1, 0xFFFFFFFF81000000, 64, 0, 0, 64, 56, 1, 64, 0, 0)
        phdr = struct.pack("<IIQQQQQQ", 1, 7, 0x1000, 0xFFFFFFFF81000000, 0x1000000,
                           len(body), len(body), 0x200000)
        return (ehdr + phdr).ljust(0x1000, b"\0") + body
    if kind == "text":
        return b"#!/bin/sh\necho this is not a kernel\n" * 64
    raise ValueError("unknown kind %r" % kind)


def initrd(size, seed=3):
    """An initrd of size bytes: a newc cpio magic, then noise."""
    data = bytearray(noise(size, seed))
    data[0:6] = b"070701"[:size]
    return bytes(data[:size])


def parse_size(text):
    """Decimal or 0x hex, with an optional K, M or G suffix."""
    text = text.strip()
    shift = {"k": 10, "m": 20, "g": 30}.get(text[-1:].lower(), 0)
    if shift:
        text = text[:-1]
    return int(text, 0) << shift


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)

    k = sub.add_parser("kernel", help="write a bzImage")
    k.add_argument("out")
    k.add_argument("--payload-size", type=parse_size, default=DEFAULT_PAYLOAD_SIZE,
                   help="bytes of the protected-mode part")
    k.add_argument("--version", type=lambda s: int(s, 0), default=DEFAULT_VERSION,
                   help="boot protocol version, e.g. 0x020c for 2.12")
    k.add_argument("--no-64bit", action="store_true", help="clear XLF_KERNEL_64")
    k.add_argument("--xloadflags", type=lambda s: int(s, 0))
    k.add_argument("--init-size", type=parse_size)
    k.add_argument("--kernel-alignment", type=parse_size, default=0x200000)
    k.add_argument("--pref-address", type=parse_size, default=0x1000000)
    k.add_argument("--not-relocatable", action="store_true")
    k.add_argument("--seed", type=int, default=1)
    k.add_argument("--truncate", metavar="header|setup|payload|BYTES")
    k.add_argument("--compress", choices=("gzip", "xz"))
    k.add_argument("--kind", choices=("bzimage", "random", "elf", "text"), default="bzimage",
                   help="write something that is not a bzImage")

    i = sub.add_parser("initrd", help="write an initrd")
    i.add_argument("out")
    i.add_argument("--size", type=parse_size, required=True)
    i.add_argument("--seed", type=int, default=3)

    args = ap.parse_args(argv)
    if args.what == "initrd":
        data = initrd(args.size, args.seed)
    elif args.kind != "bzimage":
        data = not_a_bzimage(args.kind, seed=args.seed)
    else:
        xlf = args.xloadflags if args.xloadflags is not None else DEFAULT_XLOADFLAGS
        if args.no_64bit:
            xlf &= ~XLF_KERNEL_64
        kernel = Kernel(payload_size=args.payload_size, version=args.version, xloadflags=xlf,
                        kernel_alignment=args.kernel_alignment, init_size=args.init_size,
                        pref_address=args.pref_address, relocatable=not args.not_relocatable,
                        seed=args.seed)
        data = kernel.truncated(args.truncate) if args.truncate else kernel.data
    if args.what == "kernel" and args.compress:
        data = compress(data, args.compress)
    with open(args.out, "wb") as f:
        f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
