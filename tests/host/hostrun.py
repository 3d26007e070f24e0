# SPDX-License-Identifier: GPL-2.0-or-later
"""Running kexec-trapped against copies of the fixture trees.

The build directory comes from KEXEC_BUILDDIR (default: _build at the top of
the repository). Fixture trees are copied into a temporary directory for each
run, so a run may change them (the trap records a crash load in
sys/kernel/kexec_crash_loaded) and the committed trees stay as they are.
"""

import os
import shutil
import subprocess
import sys

import pytest

import bzimage
import kexecrec
from kexecrec import MIB, parse_iomem, subtract

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(REPO, "tests", "fixtures")
# The three modelled machines, and the tree tests/vm captured from a real guest.
MACHINES = ("small-vm", "large-server", "low-high") + (
    ("qemu-6.12",) if os.path.isdir(os.path.join(FIXTURES, "qemu-6.12")) else ())

# What a kdump service typically appends for the capture kernel.
CAPTURE_APPEND = "irqpoll nr_cpus=1 reset_devices console=ttyS0,115200 panic=10"

RUN_TIMEOUT = 120


def builddir():
    return os.path.abspath(os.environ.get("KEXEC_BUILDDIR") or os.path.join(REPO, "_build"))


def parse_cpu_list(text):
    cpus = set()
    for part in text.strip().split(","):
        if not part:
            continue
        if "-" in part:
            lo, hi = part.split("-")
            cpus.update(range(int(lo), int(hi) + 1))
        else:
            cpus.add(int(part))
    return cpus


class Machine:
    """A copy of a fixture tree, rooted like /, and what it says about the machine."""

    def __init__(self, name, root):
        self.name = name
        self.root = root

    def path(self, rel):
        return os.path.join(self.root, rel.lstrip("/"))

    def exists(self, rel):
        return os.path.exists(self.path(rel))

    def read(self, rel):
        with open(self.path(rel)) as f:
            return f.read()

    def write(self, rel, text):
        path = self.path(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def remove(self, rel):
        if os.path.exists(self.path(rel)):
            os.remove(self.path(rel))

    # What the tree describes.

    @property
    def iomem(self):
        return parse_iomem(self.read("proc/iomem"))

    @property
    def crash_regions(self):
        return [e.range for e in self.iomem if e.name == "Crash kernel"]

    @property
    def main_crash_region(self):
        """The region the kernel loads crash segments into (crashk_res): the one
        /sys/kernel/kexec_crash_size measures; with a low one as well, the high one."""
        regions = self.crash_regions
        if not regions:
            return None
        size = int(self.read("sys/kernel/kexec_crash_size"))
        sized = [r for r in regions if r[1] - r[0] == size]
        return max(sized or regions)

    @property
    def system_ram(self):
        return [e.range for e in self.iomem if e.depth == 0 and e.name == "System RAM"]

    def top_level(self, name):
        return [e.range for e in self.iomem if e.depth == 0 and e.name == name]

    @property
    def dump_ram(self):
        """The RAM a dump must describe: System RAM, less the crash regions and
        the first MiB, as the kernel's own elfcorehdr has it."""
        return subtract(self.system_ram, self.crash_regions + [(0, MIB)])

    @property
    def kernel_code_start(self):
        return [e.start for e in self.iomem if e.name == "Kernel code"][0]

    @property
    def present_cpus(self):
        return parse_cpu_list(self.read("sys/devices/system/cpu/present"))

    @property
    def possible_cpus(self):
        return parse_cpu_list(self.read("sys/devices/system/cpu/possible"))

    @property
    def crash_notes(self):
        """{cpu: (addr, size)} for the present CPUs."""
        notes = {}
        for cpu in sorted(self.present_cpus):
            d = "sys/devices/system/cpu/cpu%d/" % cpu
            notes[cpu] = (int(self.read(d + "crash_notes"), 16),
                          int(self.read(d + "crash_notes_size")))
        return notes

    @property
    def vmcoreinfo(self):
        addr, size = self.read("sys/kernel/vmcoreinfo").split()
        return int(addr, 16), int(size, 16)

    @property
    def kallsyms(self):
        syms = {}
        for line in self.read("proc/kallsyms").splitlines():
            parts = line.split()
            if len(parts) >= 3:
                syms.setdefault(parts[2], int(parts[0], 16))
        return syms

    @property
    def cmdline(self):
        return self.read("proc/cmdline").strip()

    @property
    def elfcorehdr_size(self):
        return int(self.read("sys/kernel/crash_elfcorehdr_size"))

    def loaded(self, crash=True):
        return int(self.read("sys/kernel/kexec_crash_loaded" if crash
                             else "sys/kernel/kexec_loaded"))

    # Variants of a tree, made on the fly.

    def set_crash_region(self, start, size):
        """Replace the crash region(s) by one [start, start + size)."""
        entries = [e for e in self.iomem if e.name != "Crash kernel"]
        parent = [i for i, e in enumerate(entries) if e.depth == 0 and e.name == "System RAM"
                  and e.start <= start and start + size <= e.end]
        if not parent:
            raise ValueError("no System RAM holds %#x+%#x" % (start, size))
        i = parent[0] + 1
        while i < len(entries) and entries[i].depth > 0 and entries[i].start <= start:
            i += 1
        entries.insert(i, kexecrec.IomemEntry(1, start, start + size, "Crash kernel"))
        self.write("proc/iomem", "".join("%s%08x-%08x : %s\n" % ("  " * e.depth, e.start,
                                                                  e.end - 1, e.name)
                                         for e in entries))
        self.write("sys/kernel/kexec_crash_size", "%d\n" % size)
        self.set_cmdline_crashkernel("crashkernel=%dM" % (size >> 20))

    def drop_crash_region(self):
        self.write("proc/iomem", "".join(
            line for line in self.read("proc/iomem").splitlines(True)
            if not line.rstrip().endswith(": Crash kernel")))
        self.write("sys/kernel/kexec_crash_size", "0\n")
        self.set_cmdline_crashkernel(None)

    def set_cmdline_crashkernel(self, word):
        words = [w for w in self.cmdline.split() if not w.startswith("crashkernel=")]
        if word:
            words.append(word)
        self.write("proc/cmdline", " ".join(words) + "\n")

    def drop_crash_hotplug(self):
        """A kernel without CONFIG_CRASH_HOTPLUG (before 6.6)."""
        for rel in ("sys/kernel/crash_elfcorehdr_size", "sys/devices/system/cpu/crash_hotplug",
                    "sys/devices/system/memory/crash_hotplug"):
            self.remove(rel)

    def set_lockdown(self, mode):
        modes = ["none", "integrity", "confidentiality"]
        self.write("sys/kernel/security/lockdown",
                   " ".join("[%s]" % m if m == mode else m for m in modes) + "\n")


class Result:
    def __init__(self, machine, args, proc, record):
        self.machine = machine
        self.args = args
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.record = record
        self.calls = kexecrec.read_calls(record)
        self.segments = kexecrec.read_segments(record)

    @property
    def out(self):
        return self.stdout + self.stderr

    def describe(self):
        return ("kexec %s\nexit status %d\nstdout:\n%s\nstderr:\n%s\ncalls:\n%s"
                % (" ".join(self.args), self.rc, self.stdout, self.stderr,
                   "\n".join(c.line for c in self.calls) or "(none)"))

    def recorded(self, name):
        path = os.path.join(self.record, name)
        if not os.path.exists(path):
            return None
        with open(path, "rb") as f:
            return f.read()

    def assert_ok(self):
        assert self.rc == 0, self.describe()

    def assert_failed_without_calls(self, *names):
        """A refusal: non-zero exit, no system call, a message naming each of names."""
        assert self.rc != 0, "expected a failure\n" + self.describe()
        assert self.rc != 125, "kexec-trapped was misused\n" + self.describe()
        assert self.rc < 128, "the loader crashed\n" + self.describe()
        assert not self.calls, "expected no system call\n" + self.describe()
        assert self.stderr.strip() or self.stdout.strip(), "no message\n" + self.describe()
        for name in names:
            assert name.lower() in self.out.lower(), (
                "the message does not name %r\n%s" % (name, self.describe()))


class Harness:
    def __init__(self, tmp_path_factory):
        self.tmp = tmp_path_factory
        self.trapped = os.path.join(builddir(), "tests", "trap", "kexec-trapped")
        self.images = str(tmp_path_factory.mktemp("images"))
        self._sources = {}
        self._files = {}
        self._loads = {}

    def check_built(self):
        if not os.access(self.trapped, os.X_OK):
            pytest.fail("%s is not built: run tests/run, or make check in the build "
                        "directory (KEXEC_BUILDDIR=%s)" % (self.trapped, builddir()),
                        pytrace=False)

    def source(self, name):
        if name not in self._sources:
            if name == "large-server":
                out = str(self.tmp.mktemp("large-server-source"))
                subprocess.run([sys.executable, os.path.join(FIXTURES, "gen-large-server"), out],
                               check=True)
                self._sources[name] = out
            else:
                self._sources[name] = os.path.join(FIXTURES, name)
        return self._sources[name]

    def machine(self, name):
        root = os.path.join(str(self.tmp.mktemp("root-%s" % name)), "root")
        shutil.copytree(self.source(name), root, symlinks=True)
        return Machine(name, root)

    def file(self, name, data):
        path = os.path.join(self.images, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def kernel(self, compress=None, truncate=None, name=None, **opts):
        """(path, bzimage.Kernel) for a synthetic kernel, written once per set of options."""
        key = ("kernel", compress, truncate, tuple(sorted(opts.items())))
        if key not in self._files:
            k = bzimage.Kernel(**opts)
            data = k.truncated(truncate) if truncate else k.data
            if compress:
                data = bzimage.compress(data, compress)
            fname = name or "vmlinuz-%d%s" % (len(self._files), "." + compress if compress
                                              else "")
            self._files[key] = (self.file(fname, data), k)
        return self._files[key]

    def initrd(self, size=1 * MIB, seed=3):
        key = ("initrd", size, seed)
        if key not in self._files:
            data = bzimage.initrd(size, seed)
            self._files[key] = (self.file("initrd-%d-%d.img" % (size, seed), data), data)
        return self._files[key]

    def run(self, machine, args, env=None):
        self.check_built()
        record = str(self.tmp.mktemp("record"))
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("KEXEC_TEST_")}
        full_env.update({"KEXEC_TEST_ROOT": machine.root, "KEXEC_TEST_RECORD": record,
                         "LC_ALL": "C"})
        full_env.update(env or {})
        try:
            proc = subprocess.run([self.trapped] + list(args), env=full_env,
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  errors="replace", timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail("kexec %s did not finish within %d s" % (" ".join(args), RUN_TIMEOUT))
        return Result(machine, list(args), proc, record)

    def crash_load(self, machine_name, policy="-c", initrd_size=1 * MIB, append=CAPTURE_APPEND,
                   extra=(), kernel_opts=None, env=None, prepare=None):
        """Run a crash load once per set of arguments; (Result, CrashLoad or None).

        prepare, a function of the Machine, changes the tree first; name it in
        the key by passing a function object that is the same across calls.
        """
        kernel_opts = dict(kernel_opts or {})
        key = (machine_name, policy, initrd_size, append, tuple(extra),
               tuple(sorted(kernel_opts.items())), tuple(sorted((env or {}).items())), prepare)
        if key not in self._loads:
            machine = self.machine(machine_name)
            if prepare:
                prepare(machine)
            kpath, kernel = self.kernel(**kernel_opts)
            args = ["-p"] + ([policy] if policy else [])
            initrd = None
            if initrd_size:
                ipath, initrd = self.initrd(initrd_size)
                args.append("--initrd=" + ipath)
            if append is not None:
                args.append("--append=" + append)
            args += list(extra) + [kpath]
            result = self.run(machine, args, env)
            load = None
            loads = [c for c in result.calls if c.kind == "kexec_load" and c.nr_segments]
            if loads:
                load = kexecrec.CrashLoad(loads[-1], result.segments, machine, kernel, initrd)
            self._loads[key] = (result, load)
        return self._loads[key]



def need_load(result, load):
    """The CrashLoad of a run that must have made a successful kexec_load."""
    assert result.rc == 0, result.describe()
    assert load is not None, "no kexec_load with segments was made\n" + result.describe()
    assert load.call.ok, "kexec_load failed\n" + result.describe()
    return load
