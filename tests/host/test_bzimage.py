# SPDX-License-Identifier: GPL-2.0-or-later
"""The test inputs themselves: the synthetic bzImage and the fixture trees.

These need no loader; they keep the other tests honest.
"""

import gzip
import lzma
import os
import struct
import subprocess
import sys

import pytest

import bzimage
from hostrun import FIXTURES, HERE, MACHINES
from kexecrec import MIB, subtract, union


def u8(data, off):
    return data[off]


def u16(data, off):
    return struct.unpack_from("<H", data, off)[0]


def u32(data, off):
    return struct.unpack_from("<I", data, off)[0]


def test_setup_header_fields():
    k = bzimage.Kernel(payload_size=300000, init_size=0x2000000, kernel_alignment=0x1000000)
    d = k.data
    assert u8(d, 0x1F1) == bzimage.DEFAULT_SETUP_SECTS
    assert u16(d, 0x1FE) == 0xAA55
    assert d[0x202:0x206] == b"HdrS"
    assert u16(d, 0x206) == 0x020F
    assert u8(d, 0x211) & 0x01  # LOADED_HIGH
    assert u32(d, 0x230) == 0x1000000
    assert u8(d, 0x234) == 1
    assert u8(d, 0x235) == 21
    assert u16(d, 0x236) & (bzimage.XLF_KERNEL_64 | bzimage.XLF_CAN_BE_LOADED_ABOVE_4G) == 3
    assert u32(d, 0x238) == 2047
    assert u32(d, 0x260) == 0x2000000
    assert struct.unpack_from("<Q", d, 0x258)[0] == 0x1000000
    assert d[0x200] == 0xEB and 0x202 + d[0x201] == 0x26C


def test_protected_mode_part():
    k = bzimage.Kernel(payload_size=123456)
    setup = (u8(k.data, 0x1F1) + 1) * 512
    assert k.data[setup:] == k.payload
    assert len(k.payload) == 123456
    assert u32(k.data, 0x1F4) * 16 >= len(k.payload)
    off, length = u32(k.data, 0x248), u32(k.data, 0x24C)
    assert off + length <= len(k.payload)
    assert k.payload[:4] != b"\x7fELF"


def test_deterministic():
    assert bzimage.Kernel(seed=5).data == bzimage.Kernel(seed=5).data
    assert bzimage.Kernel(seed=5).payload != bzimage.Kernel(seed=6).payload


def test_truncations_are_short():
    k = bzimage.Kernel()
    setup = (bzimage.DEFAULT_SETUP_SECTS + 1) * 512
    assert 0x202 < len(k.truncated("header")) < 0x260
    assert len(k.truncated("setup")) < setup
    assert setup < len(k.truncated("payload")) < len(k.data)


def test_old_protocol_header_end():
    k = bzimage.Kernel(version=0x020B)
    assert 0x202 + k.data[0x201] == 0x268
    assert u32(k.data, 0x268) == 0


def test_compression_round_trip():
    k = bzimage.Kernel(payload_size=65536)
    assert gzip.decompress(bzimage.compress(k.data, "gzip")) == k.data
    assert lzma.decompress(bzimage.compress(k.data, "xz")) == k.data


def test_not_a_bzimage():
    for kind in ("random", "elf", "text"):
        data = bzimage.not_a_bzimage(kind)
        assert data[0x202:0x206] != b"HdrS"
    assert bzimage.not_a_bzimage("elf")[:4] == b"\x7fELF"


def test_initrd():
    data = bzimage.initrd(MIB + 7)
    assert len(data) == MIB + 7 and data[:6] == b"070701"


def test_command_line(tmp_path):
    out = tmp_path / "k"
    subprocess.run([sys.executable, os.path.join(HERE, "bzimage.py"), "kernel", str(out),
                    "--payload-size", "64K", "--no-64bit", "--compress", "xz"], check=True)
    data = lzma.decompress(out.read_bytes())
    assert u16(data, 0x236) & bzimage.XLF_KERNEL_64 == 0
    subprocess.run([sys.executable, os.path.join(HERE, "bzimage.py"), "initrd", str(out),
                    "--size", "0x1000"], check=True)
    assert out.stat().st_size == 0x1000


# ---------------------------------------------------------------- fixture trees

@pytest.fixture(scope="module", params=MACHINES)
def machine(request, kx):
    return kx.machine(request.param)


def test_fixture_crash_regions_inside_ram(machine):
    assert machine.crash_regions, "every committed tree has a crash region"
    for r in machine.crash_regions:
        assert not subtract([r], machine.system_ram), "%#x-%#x not in System RAM" % r


def test_fixture_crash_size(machine):
    start, end = machine.main_crash_region
    assert int(machine.read("sys/kernel/kexec_crash_size")) == end - start


def test_fixture_notes_and_vmcoreinfo_outside_crash_region(machine):
    ram = machine.dump_ram
    for cpu, (addr, size) in machine.crash_notes.items():
        assert size == 368
        assert not subtract([(addr, addr + size)], ram), "cpu%d notes not in dumped RAM" % cpu
    addr, size = machine.vmcoreinfo
    assert size == 0x1024
    assert not subtract([(addr, addr + size)], ram)


def test_fixture_kernel_text(machine):
    syms = machine.kallsyms
    bss_end = [e.end for e in machine.iomem if e.name == "Kernel bss"][0]
    # _end lies past the bss resource on real kernels (brk and such follow it).
    assert syms["_end"] - syms["_text"] >= bss_end - machine.kernel_code_start


def test_fixture_iomem_nesting(machine):
    """Children lie inside their parent; siblings are in order and apart."""
    parents, last_child = [], {}
    for e in machine.iomem:
        assert e.depth <= len(parents), "%r is nested deeper than its parent" % e
        del parents[e.depth:]
        parent = parents[-1] if parents else None
        if parent:
            assert parent.start <= e.start and e.end <= parent.end, "%r outside %r" % (e, parent)
        prev = last_child.get(id(parent))
        if prev:
            assert prev.end <= e.start, "%r overlaps %r" % (prev, e)
        last_child[id(parent)] = e
        parents.append(e)


def test_fixture_firmware_map(machine):
    base = machine.path("sys/firmware/memmap")
    entries = []
    for name in sorted(os.listdir(base), key=int):
        start = int(machine.read("sys/firmware/memmap/%s/start" % name), 16)
        end = int(machine.read("sys/firmware/memmap/%s/end" % name), 16)
        kind = machine.read("sys/firmware/memmap/%s/type" % name).strip()
        entries.append((start, end + 1, kind))
    assert entries == sorted(entries)
    ram = union((s, e) for s, e, k in entries if k == "System RAM")
    assert union(machine.system_ram + [(0, 0x1000)]) == ram


def test_large_server_is_large(kx):
    m = kx.machine("large-server")
    assert len(m.system_ram) >= 300
    assert len(m.possible_cpus) == 256
    assert sum(e - s for s, e in m.system_ram) > 1400 << 30
    assert m.main_crash_region[1] - m.main_crash_region[0] == 512 * MIB


def test_low_high_has_two_regions(kx):
    m = kx.machine("low-high")
    regions = sorted(m.crash_regions)
    assert len(regions) == 2
    assert regions[0][1] <= 1 << 32 < regions[1][0]
    assert m.main_crash_region == regions[1]


def test_committed_trees_untouched():
    """No run wrote into the committed trees: runs work on copies."""
    for name in ("small-vm", "low-high"):
        for state in ("kexec_loaded", "kexec_crash_loaded"):
            with open(os.path.join(FIXTURES, name, "sys/kernel", state)) as f:
                assert f.read() == "0\n", "a test wrote into the committed %s tree" % name


# ---------------------------------------------------------------- the trap itself

def test_trap_needs_root(kx):
    kx.check_built()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEXEC_TEST_")}
    proc = subprocess.run([kx.trapped, "-h"], env=env, capture_output=True, text=True)
    assert proc.returncode == 125 and "KEXEC_TEST_ROOT" in proc.stderr


def test_trap_rejects_unknown_errno(kx):
    result = kx.run(kx.machine("small-vm"), ["-h"], env={"KEXEC_TEST_LOAD_ERRNO": "EWHATEVER"})
    assert result.rc == 125 and "KEXEC_TEST_LOAD_ERRNO" in result.stderr


def test_trap_numeric_errno_is_named(kx):
    m = kx.machine("small-vm")
    result = kx.run(m, ["-p", "-u", "-s"], env={"KEXEC_TEST_FILE_ERRNO": "38"})
    assert [c.errno for c in result.calls][:1] == ["ENOSYS"], result.describe()
