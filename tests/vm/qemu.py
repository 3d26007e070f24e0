# SPDX-License-Identifier: GPL-2.0-or-later
"""Drive one QEMU guest for the VM tests: serial channels, commands, QMP.

The guest has two serial ports, each connected to a Unix socket the driver
listens on before it starts QEMU (so nothing the guest prints is lost):

- ttyS0, the console: kernel messages and the init script's trace;
- ttyS1, the control channel: the init script's markers and the output of
  the commands the driver sends (see tests/vm/init for the protocol).

QMP goes over a third socket. Every wait has a timeout and raises
GuestError with the tail of the console, so a hung guest fails the test
instead of hanging it; closing the guest always kills QEMU. All traffic is
logged under the guest's log directory:

  serial.log    console and control lines interleaved, control lines prefixed "ctl| "
  console.log   the console alone, as received
  control.log   the control channel alone
  qmp.log       every QMP command, reply and event
  qemu.log      QEMU's own stdout and stderr, with its command line first
"""

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
import time

QEMU = os.environ.get("KEXEC_VM_QEMU", "qemu-system-x86_64")
TIMEOUT_SCALE = float(os.environ.get("KEXEC_VM_TIMEOUT_SCALE", "1"))

MEMORY = "1G,slots=2,maxmem=2G"
SMP = "1,sockets=2,maxcpus=2"
BASE_APPEND = "console=ttyS0 crashkernel=256M memhp_default_state=online panic=1"


class GuestError(Exception):
    pass


def scaled(seconds):
    return seconds * TIMEOUT_SCALE


class Channel:
    """Lines read from one socket by a thread, for waits with a cursor."""

    def __init__(self, name, sock, raw_log, serial_log, prefix, lock):
        self.name = name
        self.sock = sock
        self.lines = []
        self.pos = 0
        self.closed = False
        self.cond = threading.Condition()
        self._raw_log = raw_log
        self._serial_log = serial_log
        self._prefix = prefix
        self._log_lock = lock
        self._thread = threading.Thread(target=self._reader, name="vm-" + name, daemon=True)
        self._thread.start()

    def _reader(self):
        pending = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            self._raw_log.write(chunk)
            self._raw_log.flush()
            pending += chunk
            *complete, pending = pending.split(b"\n")
            self._add([c.decode("utf-8", "replace").rstrip("\r") for c in complete])
        if pending:
            self._add([pending.decode("utf-8", "replace").rstrip("\r")])
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def _add(self, lines):
        if not lines:
            return
        with self._log_lock:
            for line in lines:
                self._serial_log.write(self._prefix + line + "\n")
            self._serial_log.flush()
        with self.cond:
            self.lines.extend(lines)
            self.cond.notify_all()

    def send(self, text):
        self.sock.sendall(text.encode())

    def wait(self, pattern, timeout, what=None, fail=None):
        """Consume lines up to the first matching pattern; return its match.

        fail, a pattern too, stops the wait early with an error. Returns None
        when the channel closes (QEMU exited) or the timeout passes first;
        the caller decides whether that is an error.
        """
        regex = re.compile(pattern)
        fail_re = re.compile(fail) if fail else None
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                while self.pos < len(self.lines):
                    line = self.lines[self.pos]
                    self.pos += 1
                    m = regex.search(line)
                    if m:
                        return m
                    if fail_re and fail_re.search(line):
                        raise GuestError("%s: while waiting for %s, the guest printed: %s"
                                         % (self.name, what or pattern, line))
                if self.closed:
                    return None
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def since(self, start):
        with self.cond:
            return list(self.lines[start:self.pos])

    def tail(self, n=40):
        with self.cond:
            return self.lines[-n:]


class Guest:
    """One QEMU process. Use as a context manager; close() always kills it."""

    def __init__(self, kernel, initrd, logdir, append=BASE_APPEND, memory=MEMORY, smp=SMP,
                 extra_args=(), name="guest"):
        self.kernel = kernel
        self.initrd = initrd
        self.logdir = logdir
        self.append = append
        self.memory = memory
        self.smp = smp
        self.extra_args = list(extra_args)
        self.name = name
        self.proc = None
        self.console = None
        self.control = None
        self._qmp = None
        self._qmp_buf = b""
        self._qmp_lock = threading.Lock()
        self._cmd_id = 0
        self._sockdir = None
        self._logs = []
        self.events = []
        self.started = None

    def command_line(self, sockdir):
        cmd = [
            QEMU, "-no-user-config", "-nodefaults", "-machine", "pc", "-cpu", "max",
            "-m", self.memory, "-smp", self.smp, "-display", "none", "-no-reboot",
            "-kernel", self.kernel, "-initrd", self.initrd, "-append", self.append,
            "-chardev", "socket,id=console,path=%s/console" % sockdir,
            "-serial", "chardev:console",
            "-chardev", "socket,id=control,path=%s/control" % sockdir,
            "-serial", "chardev:control",
            "-qmp", "unix:%s/qmp" % sockdir,
        ]
        if os.environ.get("KEXEC_VM_QEMU_DEBUG"):
            cmd += ["-d", "cpu_reset,guest_errors", "-D", os.path.join(self.logdir, "qemu-debug.log")]
        return cmd + self.extra_args

    def _open_log(self, name, mode="wb"):
        f = open(os.path.join(self.logdir, name), mode)
        self._logs.append(f)
        return f

    def start(self, timeout=30):
        os.makedirs(self.logdir, exist_ok=True)
        # Unix socket paths are short (108 bytes): keep them out of logdir.
        self._sockdir = tempfile.mkdtemp(prefix="kexec-vm-")
        listeners = {}
        for name in ("console", "control", "qmp"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(os.path.join(self._sockdir, name))
            s.listen(1)
            s.settimeout(scaled(timeout))
            listeners[name] = s

        cmd = self.command_line(self._sockdir)
        qemu_log = self._open_log("qemu.log")
        qemu_log.write((" ".join(shlex.quote(c) for c in cmd) + "\n\n").encode())
        qemu_log.flush()
        self._qmp_log = self._open_log("qmp.log", "w")
        serial_log = self._open_log("serial.log", "w")
        log_lock = threading.Lock()
        self.started = time.monotonic()
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qemu_log,
                                         stderr=subprocess.STDOUT)
        except OSError as e:
            raise GuestError("cannot run %s: %s (Debian: apt-get install qemu-system-x86)"
                             % (QEMU, e))
        try:
            conns = {}
            for name, s in listeners.items():
                try:
                    conns[name], _ = s.accept()
                except socket.timeout:
                    raise GuestError("QEMU did not connect its %s socket within %ds; see %s"
                                     % (name, timeout, os.path.join(self.logdir, "qemu.log")))
        finally:
            for s in listeners.values():
                s.close()
        self.console = Channel("console", conns["console"], self._open_log("console.log"),
                               serial_log, "", log_lock)
        self.control = Channel("control", conns["control"], self._open_log("control.log"),
                               serial_log, "ctl| ", log_lock)
        self._qmp = conns["qmp"]
        self._qmp.settimeout(scaled(timeout))
        greeting = self._qmp_read()
        if "QMP" not in greeting:
            raise GuestError("unexpected QMP greeting: %r" % greeting)
        self.qmp("qmp_capabilities")
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def elapsed(self):
        return time.monotonic() - self.started if self.started else 0.0

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for sock in (self._qmp, self.console and self.console.sock,
                     self.control and self.control.sock):
            if sock:
                try:
                    sock.close()
                except OSError:
                    pass
        for chan in (self.console, self.control):
            if chan:
                chan._thread.join(timeout=5)
        for f in self._logs:
            f.close()
        self._logs = []
        if self._sockdir:
            shutil.rmtree(self._sockdir, ignore_errors=True)
            self._sockdir = None

    # -- waiting and commands ------------------------------------------------

    def _failure(self, message):
        tail = "\n".join("    " + line for line in self.console.tail(30))
        state = "QEMU exited with %s" % self.proc.returncode if self.proc.poll() is not None \
            else "QEMU still running"
        return GuestError("%s (%s, %.1fs after start); serial log %s; console tail:\n%s"
                          % (message, state, self.elapsed(),
                             os.path.join(self.logdir, "serial.log"), tail))

    def wait_control(self, pattern, timeout, what=None):
        m = self.control.wait(pattern, scaled(timeout), what)
        if not m:
            raise self._failure("no %s on the control channel within %ds"
                                % (what or repr(pattern), timeout))
        return m

    def wait_console(self, pattern, timeout, what=None):
        m = self.console.wait(pattern, scaled(timeout), what)
        if not m:
            raise self._failure("no %s on the console within %ds"
                                % (what or repr(pattern), timeout))
        return m

    def wait_ready(self, role="first", timeout=120):
        self.wait_control(r"^@@READY %s$" % role, timeout, "%s kernel's ready marker" % role)

    def run(self, command, timeout=60, check=True):
        """Run a shell command in the first kernel; return (status, output lines)."""
        self._cmd_id += 1
        cid = self._cmd_id
        if "\n" in command:
            raise ValueError("a guest command is one line")
        self.control.send("RUN %d %s\n" % (cid, command))
        self.wait_control(r"^@@BEGIN %d$" % cid, timeout, "start of command %d" % cid)
        start = self.control.pos
        m = self.wait_control(r"^@@END %d rc=(\d+)$" % cid, timeout,
                              "end of command %d (%s)" % (cid, command))
        output = self.control.since(start)[:-1]
        status = int(m.group(1))
        if check and status != 0:
            raise GuestError("guest command %r exited with %d:\n%s"
                             % (command, status, "\n".join(output)))
        return status, output

    def read(self, path, timeout=30):
        """The stripped content of a guest file, or None if it cannot be read."""
        status, out = self.run("cat %s" % shlex.quote(path), timeout, check=False)
        return "\n".join(out).strip() if status == 0 else None

    def send(self, command):
        """Start a command that does not return (a panic): no reply is awaited."""
        self._cmd_id += 1
        self.control.send("RUN %d %s\n" % (self._cmd_id, command))

    def wait_exit(self, timeout):
        """QEMU's exit status, or None if it still runs after timeout seconds."""
        try:
            return self.proc.wait(timeout=scaled(timeout))
        except subprocess.TimeoutExpired:
            return None

    # -- QMP -------------------------------------------------------------

    def _qmp_read(self):
        while b"\n" not in self._qmp_buf:
            try:
                chunk = self._qmp.recv(65536)
            except socket.timeout:
                raise self._failure("QMP did not answer")
            if not chunk:
                raise self._failure("QMP connection closed")
            self._qmp_buf += chunk
        line, self._qmp_buf = self._qmp_buf.split(b"\n", 1)
        text = line.decode("utf-8", "replace").strip()
        self._qmp_log.write("<- %s\n" % text)
        self._qmp_log.flush()
        return text

    def qmp(self, execute, **arguments):
        """Run one QMP command; return its 'return' value or raise GuestError."""
        request = {"execute": execute}
        if arguments:
            request["arguments"] = arguments
        text = json.dumps(request)
        with self._qmp_lock:
            self._qmp_log.write("-> %s\n" % text)
            self._qmp.sendall(text.encode() + b"\n")
            while True:
                reply = json.loads(self._qmp_read())
                if "event" in reply:
                    self.events.append(reply)
                    continue
                if "error" in reply:
                    raise GuestError("QMP %s failed: %s" % (execute, reply["error"].get("desc")))
                return reply.get("return")

    def hotplug_cpu(self, dev_id="cpu1"):
        """Add the first free hot-pluggable CPU; return its QMP properties."""
        for cpu in self.qmp("query-hotpluggable-cpus"):
            if "qom-path" not in cpu:
                props = dict(cpu["props"])
                self.qmp("device_add", driver=cpu["type"], id=dev_id, **props)
                return props
        raise GuestError("no free hot-pluggable CPU slot (is -smp maxcpus larger than the boot CPUs?)")

    def hotplug_dimm(self, size=128 << 20, dev_id="dimm1"):
        """Add a pc-dimm of size bytes backed by a fresh memory-backend-ram."""
        mem_id = "mem-" + dev_id
        self.qmp("object-add", **{"qom-type": "memory-backend-ram", "id": mem_id, "size": size})
        self.qmp("device_add", driver="pc-dimm", id=dev_id, memdev=mem_id)
        for dev in self.qmp("query-memory-devices"):
            data = dev.get("data", {})
            if data.get("id") == dev_id:
                return data
        return {}

    def device_del(self, dev_id, timeout=60):
        """Unplug a device and wait for QEMU's DEVICE_DELETED event."""
        self.qmp("device_del", id=dev_id)
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            if any(e.get("event") == "DEVICE_DELETED" and
                   e.get("data", {}).get("device") == dev_id for e in self.events):
                return
            time.sleep(0.5)
            self.qmp("query-status")
        raise self._failure("device %s was not removed within %ds" % (dev_id, timeout))
