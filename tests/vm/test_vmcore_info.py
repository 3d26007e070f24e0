# SPDX-License-Identifier: GPL-2.0-or-later
"""vmcore-info on the host, against synthetic ELF64 core files."""

import os
import struct
import subprocess

import pytest

import kdump

PT_LOAD, PT_NOTE = 1, 4
NT_PRSTATUS = 1


@pytest.fixture(scope="module")
def tool(tmp_path_factory):
    return kdump.build_static(os.path.join(kdump.HERE, "vmcore-info.c"),
                              str(tmp_path_factory.mktemp("bin")))


def note(name, ntype, desc):
    name = name.encode() + b"\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)  # noqa: E731
    return struct.pack("<III", len(name), len(desc), ntype) + pad(name) + pad(desc)


def prstatus(pid, rip):
    desc = bytearray(0x150)
    struct.pack_into("<I", desc, 32, pid)
    struct.pack_into("<Q", desc, 112 + 16 * 8, rip)
    return bytes(desc)


def core(segments, loads, e_type=4, phnum=None):
    """An ELF64 core: one PT_NOTE per notes blob, then the given PT_LOADs."""
    phoff = 64
    count = len(segments) + len(loads)
    data_off = phoff + 56 * count
    phdrs, blobs = b"", b""
    for blob in segments:
        phdrs += struct.pack("<IIQQQQQQ", PT_NOTE, 0, data_off + len(blobs), 0, 0,
                             len(blob), len(blob), 0)
        blobs += blob
    for paddr, size, vaddr in loads:
        phdrs += struct.pack("<IIQQQQQQ", PT_LOAD, 7, 0, vaddr, paddr, 0, size, 0)
    ident = b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 9
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", e_type, 62, 1, 0, phoff, 0, 0, 64, 56,
                               count if phnum is None else phnum, 0, 0, 0)
    return ehdr + phdrs + blobs


def run(tool, path, *args):
    return subprocess.run([tool] + list(args) + [str(path)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)


def test_notes_and_loads(tool, tmp_path):
    cpu0 = note("CORE", NT_PRSTATUS, prstatus(42, 0xffffffff81000123)) + b"\0" * 64
    cpu1 = note("CORE", NT_PRSTATUS, prstatus(0, 0xffffffff81000456))
    info = note("VMCOREINFO", 0, b"OSRELEASE=6.12.43\nPAGESIZE=4096\n")
    path = tmp_path / "core"
    path.write_bytes(core([cpu0, cpu1, info], [(0x100000, 0x3ff00000, 0xffff888000100000),
                                               (0x100000000, 0x8000000, 0xffff888100000000)]))
    p = run(tool, path)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "elf type=CORE machine=62 phnum=5"
    assert "note CORE NT_PRSTATUS descsz=0x150 pid=42 rip=0xffffffff81000123" in lines
    assert "note CORE NT_PRSTATUS descsz=0x150 pid=0 rip=0xffffffff81000456" in lines
    assert "note VMCOREINFO 0x0 descsz=0x20 osrelease=6.12.43" in lines
    assert ("load paddr=0x100000000 memsz=0x8000000 vaddr=0xffff888100000000 filesz=0x0 "
            "offset=0x0") in lines
    assert lines[-1] == "summary notes=3 prstatus=2 vmcoreinfo=1 loads=2 load_bytes=0x47f00000"

    dump = kdump.Dump.parse(lines + ["@@VMCORE rc=0"])
    assert len(dump.prstatus) == 2 and len(dump.vmcoreinfo) == 1 and dump.status == 0
    assert dump.ram_ranges == [(0x100000, 0x40000000), (0x100000000, 0x108000000)]


def test_headers_only(tool, tmp_path):
    # An elfcorehdr: the PT_NOTE offset is a physical address far past the file's end.
    data = bytearray(core([b"\0" * 0x40], [(0x100000, 0x1000, 0xffff888000100000)]))
    struct.pack_into("<Q", data, 64 + 8, 0x3f000000)
    path = tmp_path / "elfcorehdr"
    path.write_bytes(bytes(data))
    p = run(tool, path, "-H")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [
        "elf type=CORE machine=62 phnum=2",
        "phdr type=NOTE offset=0x3f000000 paddr=0x0 vaddr=0x0 filesz=0x40 memsz=0x40",
        "phdr type=LOAD offset=0x0 paddr=0x100000 vaddr=0xffff888000100000 filesz=0x0 "
        "memsz=0x1000",
        "summary phdrs=2 loads=1 load_bytes=0x1000",
    ]
    assert run(tool, path).returncode == 1


@pytest.mark.parametrize("case", ["not-elf", "truncated", "note-overrun", "no-phdrs", "missing"])
def test_bad_input_fails_cleanly(tool, tmp_path, case):
    good = core([note("CORE", NT_PRSTATUS, prstatus(1, 2))], [(0, 0x1000, 0)])
    overrun = bytearray(good)
    struct.pack_into("<I", overrun, 64 + 56 * 2 + 4, 0x1000)  # descsz past the PT_NOTE
    data = {
        "not-elf": b"hello world\n" * 10,
        "truncated": good[:100],
        "note-overrun": bytes(overrun),
        "no-phdrs": core([], [], phnum=0),
        "missing": None,
    }[case]
    path = tmp_path / "core"
    if data is not None:
        path.write_bytes(data)
    p = run(tool, path)
    assert p.returncode == 1
    assert p.stderr.startswith("vmcore-info: ") and str(path) in p.stderr
