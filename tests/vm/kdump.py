# SPDX-License-Identifier: GPL-2.0-or-later
"""Kdump scenarios in a QEMU guest, shared by the pytest tests and tests/vm/demo.

A scenario boots the first kernel, optionally loads a capture kernel with a
command, runs steps (hotplug) after the load, panics the guest and collects
what the capture kernel's /proc/vmcore holds. run_scenario() returns a
Result with everything a test compares; nothing here asserts.

Environment:
  KEXEC_BUILDDIR   build directory holding kexec/kexec-static (default ./_build)
  KEXEC_VM_OUT     where run logs go (default tests/vm/out/)
  KEXEC_VM_KEEP    how many run directories to keep there (default 10)
  KEXEC_VM_CACHE, KEXEC_VM_KERNEL, KEXEC_VM_MIRROR   see tests/vm/fetch-kernel
  KEXEC_VM_TIMEOUT_SCALE, KEXEC_VM_QEMU, KEXEC_VM_QEMU_DEBUG   see qemu.py
"""

import hashlib
import importlib.machinery
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass, field

import initramfs
import qemu

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))

# The capture kernel's command line; the loader adds elfcorehdr= itself.
CAPTURE_APPEND = "console=ttyS0 irqpoll nr_cpus=1 reset_devices panic=1"
GUEST_KERNEL = "/boot/vmlinuz"
GUEST_INITRD = "/boot/initrd.img"
KERNEL_TEXT_BASE = 0xffffffff80000000
DIMM_BASE = 0x100000000
LOW_MEM_END = 0x100000

BOOT_TIMEOUT = 120
LOAD_TIMEOUT = 180
CAPTURE_TIMEOUT = 240


class SetupError(Exception):
    """Something the VM tests need is missing: a test fails with this message."""


# -- what the tests need on the host ---------------------------------------

def _fetch_module():
    path = os.path.join(HERE, "fetch-kernel")
    loader = importlib.machinery.SourceFileLoader("fetch_kernel", path)
    spec = importlib.util.spec_from_loader("fetch_kernel", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def kernel():
    """The cached guest kernel, fetched on first use."""
    fetch = _fetch_module()
    try:
        return fetch.fetch()
    except fetch.FetchError as e:
        raise SetupError("the VM test kernel %s is not cached and cannot be fetched: %s "
                         "(run tests/vm/fetch-kernel, or set KEXEC_VM_KERNEL to a vmlinuz; "
                         "KEXEC_SKIP_VM=1 skips the VM tests)" % (fetch.PACKAGE, e))


def builddir():
    return os.path.abspath(os.environ.get("KEXEC_BUILDDIR") or os.path.join(TOP, "_build"))


def kexec_static():
    path = os.path.join(builddir(), "kexec", "kexec-static")
    if not os.path.isfile(path):
        raise SetupError("%s does not exist: build the loader (./bootstrap && mkdir -p _build && "
                         "cd _build && ../configure && make) and point KEXEC_BUILDDIR at the "
                         "build directory; KEXEC_SKIP_VM=1 skips the VM tests" % path)
    return path


def out_root():
    return os.path.abspath(os.environ.get("KEXEC_VM_OUT") or os.path.join(HERE, "out"))


def _prune(root, keep):
    """Remove all but the newest keep run directories (each holds ~30 MiB of images)."""
    runs = [os.path.join(root, d) for d in os.listdir(root)
            if re.match(r"^[a-z]+-\d{8}-\d{6}-\d+$", d) and os.path.isdir(os.path.join(root, d))]
    runs.sort(key=os.path.getmtime)
    for old in runs[:max(0, len(runs) - keep + 1)]:
        shutil.rmtree(old, ignore_errors=True)


def new_run_dir(label="run"):
    """A fresh directory for one session's logs; out/latest points at it."""
    root = out_root()
    os.makedirs(root, exist_ok=True)
    _prune(root, int(os.environ.get("KEXEC_VM_KEEP", "10")))
    path = os.path.join(root, "%s-%s-%d" % (label, time.strftime("%Y%m%d-%H%M%S"), os.getpid()))
    os.makedirs(path)
    latest = os.path.join(root, "latest")
    try:
        if os.path.islink(latest):
            os.unlink(latest)
        os.symlink(os.path.basename(path), latest)
    except OSError:
        pass
    return path


def build_static(source, outdir):
    out = os.path.join(outdir, os.path.splitext(os.path.basename(source))[0])
    cmd = ["gcc", "-static", "-O2", "-Wall", "-Wextra", "-std=gnu11", "-o", out, source]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    if proc.returncode != 0:
        raise SetupError("building %s failed (static glibc: apt-get install gcc libc6-dev):\n%s"
                         % (source, proc.stdout))
    return out


@dataclass
class Images:
    kernel: str
    initrd: str
    kexec: str = None


def prepare(outdir, with_kexec=True, udev=False, udev_rules=(), files=(),
            kexec_path="/sbin/kexec"):
    """Kernel and first-kernel initramfs; with_kexec puts the loader under test in it
    (at kexec_path), udev adds Debian's udev with the given rule files (host paths),
    files are (guest path, text, mode) to add last."""
    kexec = kexec_static() if with_kexec else None
    vmlinuz = kernel()
    bindir = os.path.join(outdir, "bin")
    os.makedirs(bindir, exist_ok=True)
    vmcore_info = build_static(os.path.join(HERE, "vmcore-info.c"), bindir)
    file_load = build_static(os.path.join(HERE, "crash-file-load.c"), bindir)
    name = "initramfs" + ("-kexec" if kexec else "") + ("-udev" if udev else "")
    if udev_rules or files or kexec_path != "/sbin/kexec":
        key = "\0".join(list(udev_rules) + [kexec_path] +
                        ["%s\0%s\0%o" % f for f in files])
        name += "-" + hashlib.sha1(key.encode()).hexdigest()[:8]
    try:
        rules = []
        for path in udev_rules:
            with open(path) as f:
                rules.append((os.path.basename(path), f.read()))
        first = initramfs.build(os.path.join(outdir, name), vmlinuz, vmcore_info, kexec,
                                [file_load], udev=udev, udev_rules=rules,
                                files=[(p, t.encode(), m) for p, t, m in files],
                                kexec_path=kexec_path)
    except (OSError, initramfs.InitramfsError) as e:
        raise SetupError("cannot build the initramfs: %s" % e)
    return Images(vmlinuz, first, kexec)


# -- what a dump holds -----------------------------------------------------

def _fields(words):
    out = {}
    for w in words:
        if "=" in w:
            k, v = w.split("=", 1)
            out[k] = int(v, 16) if v.startswith("0x") else v
    return out


@dataclass
class Dump:
    """vmcore-info's report on the capture kernel's /proc/vmcore."""
    notes: list = field(default_factory=list)      # (name, type, fields)
    loads: list = field(default_factory=list)      # dicts: paddr memsz vaddr filesz offset
    summary: dict = field(default_factory=dict)
    status: int = None
    cmdline: str = ""

    @classmethod
    def parse(cls, lines):
        dump = cls()
        for line in lines:
            words = line.split()
            if not words:
                continue
            if words[0] == "note" and len(words) >= 3:
                dump.notes.append((words[1], words[2], _fields(words[3:])))
            elif words[0] == "load":
                dump.loads.append(_fields(words[1:]))
            elif words[0] == "summary":
                dump.summary = _fields(words[1:])
            elif words[0] == "cmdline":
                dump.cmdline = line.split(" ", 1)[1] if " " in line else ""
            elif words[0] == "@@VMCORE" and len(words) > 1:
                dump.status = int(words[1].split("=")[1])
        return dump

    @property
    def prstatus(self):
        return [n for n in self.notes if n[0] == "CORE" and n[1] == "NT_PRSTATUS"]

    @property
    def vmcoreinfo(self):
        return [n for n in self.notes if n[0] == "VMCOREINFO"]

    @property
    def ram_ranges(self):
        """(start, end) of the RAM PT_LOADs, end exclusive, sorted and merged."""
        return merge([(l["paddr"], l["paddr"] + l["memsz"]) for l in self.loads
                      if l["vaddr"] < KERNEL_TEXT_BASE])

    @property
    def kernel_text_loads(self):
        return [l for l in self.loads if l["vaddr"] >= KERNEL_TEXT_BASE]


def merge(ranges):
    out = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def subtract(ranges, holes):
    out = []
    for start, end in ranges:
        pieces = [(start, end)]
        for hs, he in holes:
            pieces = [p for s, e in pieces
                      for p in ((s, min(e, hs)), (max(s, he), e)) if p[0] < p[1]]
        out.extend(pieces)
    return merge(out)


def parse_iomem(text):
    """Top-level System RAM ranges and all Crash kernel ranges, end exclusive."""
    ram, crash = [], []
    for line in text.splitlines():
        m = re.match(r"^(\s*)([0-9a-f]+)-([0-9a-f]+) : (.*)$", line)
        if not m:
            continue
        rng = (int(m.group(2), 16), int(m.group(3), 16) + 1)
        if m.group(4) == "System RAM" and not m.group(1):
            ram.append(rng)
        elif m.group(4) == "Crash kernel":
            crash.append(rng)
    return merge(ram), merge(crash)


def iomem_kernel_code(text):
    """Start and end (exclusive) of the 'Kernel code' resource, or None."""
    m = re.search(r"^\s*([0-9a-f]+)-([0-9a-f]+) : Kernel code$", text, re.M)
    return (int(m.group(1), 16), int(m.group(2), 16) + 1) if m else None


def kcore_page_offset(lines):
    """The direct-map base (PAGE_OFFSET, randomised by KASLR, 5-level under
    -cpu max) from /proc/kcore's program headers as vmcore-info -H prints
    them: vaddr - paddr of a RAM PT_LOAD outside the kernel text mapping."""
    for line in lines:
        words = line.split()
        if words[:2] != ["phdr", "type=LOAD"]:
            continue
        f = _fields(words[2:])
        if f["paddr"] not in (0, 0xffffffffffffffff) and f["vaddr"] < KERNEL_TEXT_BASE:
            return f["vaddr"] - f["paddr"]
    return None


def fmt_ranges(ranges):
    return ", ".join("0x%x-0x%x" % (s, e - 1) for s, e in ranges) or "none"


# -- scenarios -------------------------------------------------------------

def kexec_command(syscall, hotplug=False, append=CAPTURE_APPEND, extra=()):
    """The loader under test loading the capture kernel: syscall is '-c' or '-s'."""
    args = ["kexec", "-p", "-d", syscall] + (["--hotplug"] if hotplug else []) + list(extra)
    args += [GUEST_KERNEL, "--initrd=" + GUEST_INITRD, "--append=" + append]
    return " ".join(shlex.quote(a) for a in args)


# Exits 1 when a capture kernel is loaded, 0 when not.
KEXEC_STATUS = "kexec -p -S"


def reference_command(append=CAPTURE_APPEND):
    """The kernel's own kexec_file_load through tests/vm/crash-file-load."""
    return " ".join(shlex.quote(a) for a in ("crash-file-load", GUEST_KERNEL, GUEST_INITRD,
                                             append))


@dataclass
class Scenario:
    name: str
    load: str = None            # guest command that loads the capture kernel, None: no load
    needs_kexec: bool = True    # the loader under test must be in the initramfs
    status: str = None          # guest command whose exit status tells if a load is there
    steps: tuple = ()           # callables (guest, result) run after the load
    append_extra: str = ""      # added to the first kernel's command line
    qemu_args: tuple = ()
    udev: bool = False          # run Debian's udev in the first kernel
    udev_rules: tuple = ()      # host paths of rule files for its /etc/udev/rules.d
    files: tuple = ()           # (guest path, text, mode) added to the first initramfs
    kexec_path: str = "/sbin/kexec"   # where the loader under test goes in the guest
    describe: str = ""


@dataclass
class Result:
    scenario: Scenario
    logdir: str
    ram: list = field(default_factory=list)          # first kernel's System RAM at boot
    crash_regions: list = field(default_factory=list)
    ram_at_crash: list = field(default_factory=list)  # System RAM just before the panic
    cpus_online_at_crash: str = ""
    kallsyms: dict = field(default_factory=dict)
    kernel_code: tuple = None
    page_offset: int = None     # direct-map base, from /proc/kcore
    load_status: int = None
    load_output: list = field(default_factory=list)
    status_before: int = None   # exit status of scenario.status before and after the load
    status_after: int = None
    sysfs: dict = field(default_factory=dict)      # after the load (and the steps)
    captured: bool = False
    capture_lines: list = field(default_factory=list)
    dump: Dump = None
    qemu_status: int = None
    timings: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)      # what happened, for the reader
    udev: dict = field(default_factory=dict)       # the udev scenarios' observations

    def serial_log(self):
        return os.path.join(self.logdir, "serial.log")

    def console_excerpt(self, pattern=r"(?i)panic|crash|kexec|purgatory|elfcorehdr|Linux version"
                        r"|Command line|error|fail|BUG|RIP", limit=60):
        try:
            with open(os.path.join(self.logdir, "console.log"), errors="replace") as f:
                lines = [l.rstrip() for l in f if re.search(pattern, l)]
        except OSError:
            return ""
        return "\n".join(lines[-limit:])

    def expected_ram(self):
        """What /proc/vmcore must cover: RAM at the panic less the crash regions
        and less the first MiB, which the kernel's own kexec_file_load leaves
        out of the elfcorehdr on x86 (the reference these tests follow)."""
        return subtract(self.ram_at_crash or self.ram, self.crash_regions + [(0, LOW_MEM_END)])

    def console_lines(self):
        try:
            with open(os.path.join(self.logdir, "console.log"), errors="replace") as f:
                return [l.rstrip("\r\n") for l in f]
        except OSError:
            return []

    def panicked(self):
        """The first kernel printed its panic line, with 'Kdump: loaded' or not."""
        for line in self.console_lines():
            if "Kernel panic - not syncing" in line:
                return True
        return False

    def capture_kernel_started(self):
        """A second kernel printed its banner after the panic."""
        seen_panic = False
        for line in self.console_lines():
            if "Kernel panic - not syncing" in line:
                seen_panic = True
            elif seen_panic and "Linux version" in line:
                return True
        return False


SYSFS_AFTER_LOAD = (
    "/sys/kernel/kexec_crash_loaded",
    "/sys/kernel/kexec_crash_size",
    "/sys/devices/system/cpu/crash_hotplug",
    "/sys/devices/system/memory/crash_hotplug",
)


def _record_state(guest, result):
    iomem = "\n".join(guest.run("cat /proc/iomem")[1])
    result.ram, result.crash_regions = parse_iomem(iomem)
    result.kernel_code = iomem_kernel_code(iomem)
    status, phdrs = guest.run("vmcore-info -H /proc/kcore", check=False)
    result.page_offset = kcore_page_offset(phdrs) if status == 0 else None
    for line in guest.run("grep -E ' (_text|_stext|_end)$' /proc/kallsyms", check=False)[1]:
        words = line.split()
        if len(words) == 3:
            result.kallsyms[words[2]] = int(words[0], 16)


def run_scenario(images, scenario, logdir, log=None):
    """Boot, load, run the steps, panic and read the dump; never raises on a
    missing capture (the Result says what happened), only on a guest that
    stops answering."""
    say = log or (lambda msg: None)
    result = Result(scenario, logdir)
    t0 = time.monotonic()
    append = qemu.BASE_APPEND + (" " + scenario.append_extra if scenario.append_extra else "")
    with qemu.Guest(images.kernel, images.initrd, logdir, append=append,
                    extra_args=scenario.qemu_args, name=scenario.name) as guest:
        say("booting the first kernel (log: %s)" % result.serial_log())
        guest.wait_ready("first", BOOT_TIMEOUT)
        result.timings["boot"] = time.monotonic() - t0
        _record_state(guest, result)
        say("first kernel up after %.1fs; System RAM %s; crash region %s"
            % (result.timings["boot"], fmt_ranges(result.ram), fmt_ranges(result.crash_regions)))

        if scenario.status:
            result.status_before = guest.run(scenario.status, check=False)[0]
        if scenario.load:
            say("loading: %s" % scenario.load)
            t = time.monotonic()
            result.load_status, result.load_output = guest.run(
                scenario.load + " 2>&1", LOAD_TIMEOUT, check=False)
            result.timings["load"] = time.monotonic() - t
            for line in result.load_output:
                say("  | " + line)
            say("load exit status %d after %.1fs" % (result.load_status, result.timings["load"]))
        if scenario.status:
            result.status_after = guest.run(scenario.status, check=False)[0]
            say("%s: exit status %d before the load, %d after"
                % (scenario.status, result.status_before, result.status_after))

        for step in scenario.steps:
            say("step: %s" % (step.__doc__ or step.__name__).strip().splitlines()[0])
            step(guest, result)

        for path in SYSFS_AFTER_LOAD:
            result.sysfs[path] = guest.read(path)
        result.ram_at_crash = parse_iomem("\n".join(guest.run("cat /proc/iomem")[1]))[0]
        result.cpus_online_at_crash = guest.read("/sys/devices/system/cpu/online")
        say("kexec_crash_loaded=%s cpu/crash_hotplug=%s memory/crash_hotplug=%s"
            % (result.sysfs["/sys/kernel/kexec_crash_loaded"],
               result.sysfs["/sys/devices/system/cpu/crash_hotplug"],
               result.sysfs["/sys/devices/system/memory/crash_hotplug"]))

        if scenario.load and result.load_status != 0:
            result.notes.append("the load failed, so the guest was not crashed")
            result.timings["total"] = time.monotonic() - t0
            return result

        say("panicking the guest: echo c > /proc/sysrq-trigger")
        t = time.monotonic()
        guest.send("echo c > /proc/sysrq-trigger")
        m = guest.control.wait(r"^@@READY capture$", qemu.scaled(CAPTURE_TIMEOUT))
        if m:
            result.timings["capture_boot"] = time.monotonic() - t
            say("capture kernel up after %.1fs" % result.timings["capture_boot"])
            start = guest.control.pos
            guest.wait_control(r"^@@CAPTURE-END$", 120, "end of the capture report")
            result.captured = True
            result.capture_lines = guest.control.since(start)[:-1]
            result.dump = Dump.parse(result.capture_lines)
        elif guest.proc.poll() is not None:
            result.notes.append("QEMU exited %.1fs after the panic with no capture kernel report"
                                % (time.monotonic() - t))
        else:
            result.notes.append("no capture kernel reported within %ds of the panic"
                                % CAPTURE_TIMEOUT)
        result.qemu_status = guest.wait_exit(60)
        if result.qemu_status is None:
            result.notes.append("QEMU still ran 60s after the capture ended (no power-off)")
        result.timings["total"] = time.monotonic() - t0
    return result


# -- what a good capture shows ----------------------------------------------

def capture_problems(result, cpus=1, dimm=None, removed=None):
    """Why the result is not a correct kdump, as a list of sentences (empty: good).

    cpus is the number of NT_PRSTATUS notes expected; dimm, a (start, end)
    range, must then be covered by a RAM PT_LOAD. removed is the range of a
    DIMM removed before the panic, which the dump may still list: the kernel
    rebuilds the elfcorehdr when the memory goes offline, before the range is
    gone (tests/vm compares that case with kexec_file_load instead).
    """
    problems = []
    if result.scenario.load and result.load_status != 0:
        return ["the load failed with exit status %s:\n    %s"
                % (result.load_status, "\n    ".join(result.load_output) or "(no output)")]
    if result.scenario.status and (result.status_before, result.status_after) != (0, 1):
        problems.append("'%s' exited %s before the load and %s after it, not 0 and 1"
                        % (result.scenario.status, result.status_before, result.status_after))
    if result.sysfs.get("/sys/kernel/kexec_crash_loaded") != "1":
        problems.append("/sys/kernel/kexec_crash_loaded reads %r after the load, not '1'"
                        % result.sysfs.get("/sys/kernel/kexec_crash_loaded"))
    if not result.captured:
        how = "started but never reported" if result.capture_kernel_started() else "never started"
        problems.append("the capture kernel %s (%s); console excerpt:\n%s"
                        % (how, "; ".join(result.notes) or "no notes",
                           result.console_excerpt()))
        return problems

    dump = result.dump
    if dump.status != 0:
        problems.append("vmcore-info failed on /proc/vmcore:\n    %s"
                        % "\n    ".join(result.capture_lines))
        return problems
    if len(dump.prstatus) != cpus:
        problems.append("%d NT_PRSTATUS notes, expected %d (CPUs online at the panic: %s)"
                        % (len(dump.prstatus), cpus, result.cpus_online_at_crash))
    if len(dump.vmcoreinfo) != 1:
        problems.append("%d VMCOREINFO notes, expected 1" % len(dump.vmcoreinfo))

    ram = dump.ram_ranges
    missing = subtract(result.expected_ram(), ram)
    if missing:
        problems.append("RAM missing from the dump: %s (dump: %s)"
                        % (fmt_ranges(missing), fmt_ranges(ram)))
    inside = [r for r in ram for c in result.crash_regions if r[0] < c[1] and c[0] < r[1]]
    if inside:
        problems.append("RAM PT_LOADs %s overlap the crash region %s"
                        % (fmt_ranges(inside), fmt_ranges(result.crash_regions)))
    outside = subtract(ram, (result.ram_at_crash or result.ram) + ([removed] if removed else []))
    if outside:
        problems.append("PT_LOADs %s are not System RAM" % fmt_ranges(outside))
    if dimm and subtract([dimm], ram):
        problems.append("no PT_LOAD covers the DIMM at %s" % fmt_ranges([dimm]))

    text = dump.kernel_text_loads
    start, end = result.kallsyms.get("_text"), result.kallsyms.get("_end")
    if len(text) != 1:
        problems.append("%d kernel text PT_LOADs, expected 1" % len(text))
    elif start and end and result.kernel_code:
        load = text[0]
        if not (load["vaddr"] <= start and end <= load["vaddr"] + load["memsz"]):
            problems.append("the kernel text PT_LOAD (vaddr 0x%x memsz 0x%x) does not cover "
                            "_text 0x%x to _end 0x%x" % (load["vaddr"], load["memsz"], start, end))
        elif load["paddr"] + (start - load["vaddr"]) != result.kernel_code[0]:
            problems.append("the kernel text PT_LOAD maps _text to paddr 0x%x, but 'Kernel code' "
                            "starts at 0x%x" % (load["paddr"] + start - load["vaddr"],
                                                result.kernel_code[0]))
    return problems


def vaddr_problems(result):
    """RAM PT_LOADs whose vaddr is not the first kernel's direct map address of
    their paddr (dump tools such as makedumpfile take PAGE_OFFSET from it)."""
    if not result.dump or result.page_offset is None:
        return ["no dump or no direct-map base from /proc/kcore to check against"]
    wrong = [l for l in result.dump.loads if l["vaddr"] < KERNEL_TEXT_BASE and
             l["vaddr"] != result.page_offset + l["paddr"]]
    return ["RAM PT_LOAD paddr 0x%x has vaddr 0x%x, but /proc/kcore of the first kernel puts "
            "the direct map at 0x%x, so vaddr should be 0x%x"
            % (l["paddr"], l["vaddr"], result.page_offset, result.page_offset + l["paddr"])
            for l in wrong]


def comparison_problems(mine, reference):
    """How the dump of one load differs from the reference load's dump."""
    for r in (mine, reference):
        if not r.captured or not r.dump:
            return ["cannot compare: scenario %s has no dump (%s)"
                    % (r.scenario.name, "; ".join(r.notes) or "see its own test")]
    problems = []
    a, b = mine.dump, reference.dump
    if len(a.prstatus) != len(b.prstatus):
        problems.append("%s has %d NT_PRSTATUS notes, %s has %d"
                        % (mine.scenario.name, len(a.prstatus), reference.scenario.name,
                           len(b.prstatus)))
    if len(a.vmcoreinfo) != len(b.vmcoreinfo):
        problems.append("%s has %d VMCOREINFO notes, %s has %d"
                        % (mine.scenario.name, len(a.vmcoreinfo), reference.scenario.name,
                           len(b.vmcoreinfo)))
    ra, rb = a.ram_ranges, b.ram_ranges
    if mine.crash_regions != reference.crash_regions:
        # KASLR can put the kernel where the crash region usually goes, which
        # moves the region: then compare the RAM each dump accounts for.
        ra = merge(ra + mine.crash_regions)
        rb = merge(rb + reference.crash_regions)
    if ra != rb:
        problems.append("RAM PT_LOADs differ:\n    %-12s %s\n    %-12s %s"
                        % (mine.scenario.name, fmt_ranges(a.ram_ranges),
                           reference.scenario.name, fmt_ranges(b.ram_ranges)))
    return problems


# -- steps for the hotplug scenarios ----------------------------------------

def _poll(guest, command, timeout=60, what=None):
    deadline = time.monotonic() + qemu.scaled(timeout)
    while time.monotonic() < deadline:
        if guest.run(command, check=False)[0] == 0:
            return
        time.sleep(0.5)
    raise qemu.GuestError("guest never satisfied: %s" % (what or command))


def hot_add_cpu(guest, result):
    """hot-add a CPU through QMP and bring it online"""
    props = guest.hotplug_cpu("cpu1")
    result.notes.append("hot-added CPU %s" % props)
    _poll(guest, "test -e /sys/devices/system/cpu/cpu1/online", what="cpu1 appears")
    guest.run("echo 1 > /sys/devices/system/cpu/cpu1/online")
    _poll(guest, "grep -q 1 /sys/devices/system/cpu/cpu1/online", what="cpu1 online")


def hot_add_dimm(guest, result):
    """hot-add a 128 MiB pc-dimm through QMP and wait for its System RAM"""
    data = guest.hotplug_dimm(128 << 20, "dimm1")
    result.notes.append("hot-added DIMM at 0x%x size 0x%x" % (data.get("addr", 0),
                                                               data.get("size", 0)))
    _poll(guest, "grep -q '^%x-.* : System RAM' /proc/iomem" % data.get("addr", DIMM_BASE),
          what="the DIMM's System RAM in /proc/iomem")


def offline_and_remove_dimm(dev_id):
    def step(guest, result):
        """offline the memory blocks at or above 4 GiB and unplug the DIMM"""
        guest.run("for b in /sys/devices/system/memory/memory*; do "
                  "n=${b##*memory}; "
                  "[ $((n * 0x$(cat /sys/devices/system/memory/block_size_bytes))) -ge "
                  "%d ] && echo offline > $b/state; done; true" % DIMM_BASE, 120)
        guest.device_del(dev_id)
        result.notes.append("offlined and removed %s" % dev_id)
    step.__name__ = "offline_and_remove_" + dev_id
    return step


COLD_DIMM_ARGS = ("-object", "memory-backend-ram,id=mem-dimm0,size=128M",
                  "-device", "pc-dimm,id=dimm0,memdev=mem-dimm0")


# -- the kdump integration (kdump/) under real udev --------------------------

# Where `make install` puts kdump/ for a distribution layout (configure
# --prefix=/usr --sbindir=/sbin --sysconfdir=/etc --libexecdir=/usr/libexec),
# with the @...@ names kdump/local.mk substitutes.
GUEST_INSTALL_DIRS = {
    "sbindir": "/sbin",
    "sysconfdir": "/etc",
    "pkglibexecdir": "/usr/libexec/kexec-hp",
}
GUEST_UDEVRULESDIR = "/usr/lib/udev/rules.d"      # $(prefix)/lib/udev/rules.d
KDUMP_RULE = GUEST_UDEVRULESDIR + "/98-kexec-hp-kdump.rules"
KDUMP_RELOAD = GUEST_INSTALL_DIRS["pkglibexecdir"] + "/kdump-reload"
KDUMP_CONF = GUEST_INSTALL_DIRS["sysconfdir"] + "/kexec-hp/kdump.conf"
# The guest's /sbin/kexec is a wrapper that logs every call; the loader itself:
KEXEC_BIN = "/sbin/kexec.bin"
KEXEC_CALLS = "/run/kexec-calls.log"
UDEV_EVENTS = "/run/udev-hotplug-events.log"
GUEST_SYSLOG = "/run/messages"     # busybox syslogd, started by init with udev

# /sbin/kexec of the udev guests. A rule's RUN program (and what it starts)
# has the event's ACTION, DEVPATH and SEQNUM in its environment, so each
# line says which event, if any, caused the call. During a load a sampler
# counts how often /sys/kernel/kexec_crash_loaded read 0 and 1.
KEXEC_WRAPPER = r"""#!/bin/sh
log=%(log)s
read -r t0 _ < /proc/uptime
tag=/run/kexec-sample.$$
case " $* " in
*" -S "* | *" --status "* | *" -u "* | *" --unload "*) sample= ;;
*) sample=1 ;;
esac
if [ -n "$sample" ]; then
	rm -f "$tag.stop" "$tag.out"
	(
		n0=0 n1=0
		while [ ! -e "$tag.stop" ]; do
			read -r v < /sys/kernel/kexec_crash_loaded
			if [ "$v" = 1 ]; then n1=$((n1 + 1)); else n0=$((n0 + 1)); fi
		done
		echo "$n0 $n1" > "$tag.out"
	) < /dev/null > /dev/null 2>&1 &
	sampler=$!
fi
%(kexec)s "$@"
rc=$?
samples=-
if [ -n "$sample" ]; then
	touch "$tag.stop"
	wait "$sampler"
	read -r n0 n1 < "$tag.out"
	samples=$n0/$n1
	rm -f "$tag.stop" "$tag.out"
fi
read -r t1 _ < /proc/uptime
echo "start=$t0 end=$t1 rc=$rc seqnum=${SEQNUM:--} action=${ACTION:--}" \
	"devpath=${DEVPATH:--} unloaded/loaded=$samples args=$*" >> "$log"
exit $rc
""" % {"log": KEXEC_CALLS, "kexec": KEXEC_BIN}

# Every CPU and memory uevent udev handles, when it starts on it, with
# crash_hotplug as the kdump rule sees it (ATTRS: the parent's). PROGRAM runs
# while the rules are read, before any RUN program, and this file sorts
# before the kdump rule.
TRACE_RULE_PATH = "/etc/udev/rules.d/00-hotplug-trace.rules"
TRACE_RULE = 'SUBSYSTEM=="cpu|memory", PROGRAM="/bin/udev-hotplug-trace"\n'
TRACE_SCRIPT = r"""#!/bin/sh
read -r t _ < /proc/uptime
ch=$(cat "/sys$DEVPATH/../crash_hotplug" 2>/dev/null)
echo "t=$t seqnum=$SEQNUM action=$ACTION devpath=$DEVPATH crash_hotplug=${ch:--}" >> %s
""" % UDEV_EVENTS


def kdump_subst(text, dirs=None):
    """kdump/local.mk's kdump_subst: @pkglibexecdir@ and friends, for the guest."""
    for name, value in (dirs or GUEST_INSTALL_DIRS).items():
        text = text.replace("@%s@" % name, value)
    left = sorted(set(re.findall(r"@[A-Za-z_]+@", text)))
    if left:
        raise SetupError("kdump/ uses %s, which tests/vm/kdump.py does not substitute"
                         % ", ".join(left))
    return text


def guest_kdump_conf(kexec_args="-c"):
    """The guest's kdump.conf: what kdump-reload loads again, as the scenarios load it."""
    return ("KDUMP_KERNEL=%s\nKDUMP_INITRD=%s\nKDUMP_APPEND=%s\nKDUMP_KEXEC_ARGS=%s\n"
            % (GUEST_KERNEL, GUEST_INITRD, shlex.quote(CAPTURE_APPEND), shlex.quote(kexec_args)))


def kdump_integration_files():
    """The rule, helper and configuration as `make install` lays them out, plus the
    kexec wrapper and the event trace: (guest path, text, mode) for Scenario.files."""
    def source(name):
        with open(os.path.join(TOP, "kdump", name)) as f:
            return f.read()
    return (
        (KDUMP_RULE, kdump_subst(source("98-kexec-hp-kdump.rules.in")), 0o644),
        (KDUMP_RELOAD, kdump_subst(source("kdump-reload.in")), 0o755),
        (KDUMP_CONF, guest_kdump_conf(), 0o644),
        ("/sbin/kexec", KEXEC_WRAPPER, 0o755),
        (TRACE_RULE_PATH, TRACE_RULE, 0o644),
        ("/bin/udev-hotplug-trace", TRACE_SCRIPT, 0o755),
    )


def _fields_line(line):
    """key=value words of a log line; args= takes the rest of the line."""
    head, sep, args = line.partition(" args=")
    out = dict(w.split("=", 1) for w in head.split() if "=" in w)
    if sep:
        out["args"] = args
    return out


def remove_kdump_rule(guest, result):
    """remove the kdump rule from the guest and make udevd reread its rules"""
    guest.run("rm %s && udevadm control --reload" % KDUMP_RULE)
    result.notes.append("removed %s" % KDUMP_RULE)


def watch_udev(guest, result):
    """keep what udev did at boot, then start counting kexec calls and uevents afresh"""
    result.udev["boot_calls"] = [_fields_line(l) for l in
                                 guest.run("cat %s 2>/dev/null; true" % KEXEC_CALLS)[1]]
    guest.run(": > %s; : > %s" % (KEXEC_CALLS, UDEV_EVENTS))
    result.udev["status_before"] = guest.run(KEXEC_STATUS, check=False)[0]
    result.udev["rule_present"] = guest.run("test -e %s" % KDUMP_RULE, check=False)[0] == 0


def settle_udev(guest, result):
    """wait until udev has handled the CPU add and memory online events, then settle"""
    t = time.monotonic()
    _poll(guest, "grep -q 'action=add devpath=/devices/system/cpu/cpu1 ' %s" % UDEV_EVENTS,
          120, "udev handles the add event of cpu1")
    _poll(guest, "grep -q 'action=online devpath=/devices/system/memory/' %s" % UDEV_EVENTS,
          120, "udev handles a memory online event")
    guest.run("udevadm settle --timeout=120", 150)
    result.timings["udev_settle"] = time.monotonic() - t
    # The -S below goes through the wrapper as well: read its log first.
    calls = [_fields_line(l) for l in guest.run("cat %s" % KEXEC_CALLS)[1]]
    result.udev["status_after"] = guest.run(KEXEC_STATUS, check=False)[0]
    result.udev["calls"] = calls
    result.udev["events"] = [_fields_line(l) for l in guest.run("cat %s" % UDEV_EVENTS)[1]]
    result.udev["syslog"] = guest.run("grep kdump-reload %s; true" % GUEST_SYSLOG)[1]
    reloads = [c for c in calls if c.get("action", "-") != "-" and "/" in
               c.get("unloaded/loaded", "-")]
    if reloads:
        samples = [tuple(map(int, c["unloaded/loaded"].split("/"))) for c in reloads]
        result.notes.append("%d reload(s) from udev; during them kexec_crash_loaded read 0 "
                            "in %d of %d samples" % (len(reloads), sum(s[0] for s in samples),
                                                     sum(s[0] + s[1] for s in samples)))
    with open(os.path.join(result.logdir, "udev.txt"), "w") as f:
        f.write(udev_summary(result) + "\n")


def udev_summary(result):
    """One line per uevent and kexec call after the load, for failure messages and
    udev.txt in the scenario's log directory."""
    u = result.udev
    lines = ["events:"] + ["  t=%s %s %s crash_hotplug=%s" % (e.get("t"), e.get("action"),
                                                              e.get("devpath"),
                                                              e.get("crash_hotplug"))
                           for e in u.get("events", [])]
    lines += ["kexec calls:"] + ["  %s-%s rc=%s event=%s %s unloaded/loaded=%s: kexec %s"
                                 % (c.get("start"), c.get("end"), c.get("rc"), c.get("action"),
                                    c.get("devpath"), c.get("unloaded/loaded"), c.get("args"))
                                 for c in u.get("calls", [])]
    lines += ["syslog:"] + ["  " + l for l in u.get("syslog", [])]
    return "\n".join(lines)


def udev_scenario(name, load, steps_before=(), describe=""):
    return Scenario(name, load, status=KEXEC_STATUS,
                    steps=tuple(steps_before) + (watch_udev, hot_add_cpu, hot_add_dimm,
                                                 settle_udev),
                    udev=True, files=kdump_integration_files(), kexec_path=KEXEC_BIN,
                    describe=describe)


def scenarios():
    """Every scenario by name; the tests and the demo pick from these."""
    s = [
        Scenario("no-load", None, needs_kexec=False,
                 describe="panic with nothing loaded: no capture kernel may boot"),
        Scenario("reference", reference_command(), needs_kexec=False,
                 describe="the kernel's own kexec_file_load via crash-file-load"),
        Scenario("reference-hotplug", reference_command(), needs_kexec=False,
                 steps=(hot_add_cpu, hot_add_dimm),
                 describe="kexec_file_load, then a CPU and a DIMM hot-added"),
        Scenario("kexec-load", kexec_command("-c"), status=KEXEC_STATUS,
                 describe="kexec -p -c (kexec_load)"),
        Scenario("kexec-file", kexec_command("-s"), status=KEXEC_STATUS,
                 describe="kexec -p -s (kexec_file_load)"),
        Scenario("kexec-load-hotplug", kexec_command("-c", hotplug=True),
                 steps=(hot_add_cpu, hot_add_dimm),
                 describe="kexec -p -c --hotplug, then a CPU and a DIMM hot-added"),
        Scenario("kexec-load-nohotplug", kexec_command("-c"),
                 steps=(hot_add_cpu, hot_add_dimm),
                 describe="kexec -p -c without --hotplug, then a CPU and a DIMM hot-added"),
        Scenario("kexec-load-dimm-remove", kexec_command("-c", hotplug=True),
                 steps=(offline_and_remove_dimm("dimm0"),),
                 append_extra="memhp_default_state=online_movable", qemu_args=COLD_DIMM_ARGS,
                 describe="kexec -p -c --hotplug, cold-plugged movable DIMM removed"),
        Scenario("kexec-file-dimm-remove", kexec_command("-s"),
                 steps=(offline_and_remove_dimm("dimm0"),),
                 append_extra="memhp_default_state=online_movable", qemu_args=COLD_DIMM_ARGS,
                 describe="kexec -p -s, cold-plugged movable DIMM removed"),
        udev_scenario("udev-hotplug", kexec_command("-c", hotplug=True),
                      describe="kexec -p -c --hotplug under udev with the kdump rule: "
                               "no reload"),
        udev_scenario("udev-reload", kexec_command("-c"),
                      describe="kexec -p -c under udev with the kdump rule: kdump-reload "
                               "reloads"),
        udev_scenario("udev-no-rule", kexec_command("-c"), steps_before=(remove_kdump_rule,),
                      describe="kexec -p -c under udev, the kdump rule removed: stale dump"),
    ]
    return {x.name: x for x in s}
