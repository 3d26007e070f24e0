#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Build the busybox initramfs the VM tests boot, without root or cpio(1).

Two archives come out of one description:

- the capture initramfs: busybox, /init, vmcore-info and capture-fixture;
  this is what the capture kernel gets from `kexec -p --initrd=...`;
- the first-kernel initramfs: the same plus the kexec binary under test
  (/sbin/kexec), the kernel itself (/boot/vmlinuz, loaded again as the
  capture kernel) and the capture initramfs (/boot/initrd.img).

Both are gzip-compressed newc archives written here, so device nodes and
ownership need no privileges. With udev=True, Debian's udevadm and the
shared libraries it needs are added, with systemd-udevd linked to it, for
scenarios that check what udev rules see; extra files (a rule, its helper,
a configuration) can be placed anywhere in the first kernel's tree.
"""

import argparse
import gzip
import io
import os
import shutil
import stat
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")


class InitramfsError(Exception):
    pass


class Archive:
    """An ordered set of newc entries; later entries replace earlier ones."""

    def __init__(self):
        self.entries = {}

    def dir(self, path, mode=0o755):
        parts = path.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            p = "/".join(parts[:i])
            if p not in self.entries:
                self.entries[p] = (stat.S_IFDIR | mode, b"", 0)

    def _parent(self, path):
        parent = os.path.dirname(path.strip("/"))
        if parent:
            self.dir(parent)

    def data(self, path, data, mode=0o644):
        self._parent(path)
        self.entries[path.strip("/")] = (stat.S_IFREG | mode, data, 0)

    def file(self, path, src, mode=None):
        with open(src, "rb") as f:
            data = f.read()
        if mode is None:
            mode = 0o755 if os.access(src, os.X_OK) else 0o644
        self.data(path, data, mode)

    def symlink(self, path, target):
        self._parent(path)
        self.entries[path.strip("/")] = (stat.S_IFLNK | 0o777, target.encode(), 0)

    def chardev(self, path, major, minor, mode=0o600):
        self._parent(path)
        self.entries[path.strip("/")] = (stat.S_IFCHR | mode, b"", os.makedev(major, minor))

    def copy(self):
        other = Archive()
        other.entries = dict(self.entries)
        return other

    def cpio(self):
        out = io.BytesIO()
        names = sorted(self.entries, key=lambda p: (p.count("/"), p))
        for ino, name in enumerate(names + ["TRAILER!!!"], start=1):
            if name == "TRAILER!!!":
                mode, data, rdev, ino = 0, b"", 0, 0
            else:
                mode, data, rdev = self.entries[name]
            encoded = name.encode() + b"\0"
            fields = (ino, mode, 0, 0, 1 if not stat.S_ISDIR(mode) else 2, 0, len(data),
                      0, 0, os.major(rdev), os.minor(rdev), len(encoded), 0)
            header = b"070701" + b"".join(b"%08x" % v for v in fields)
            out.write(header + encoded)
            out.write(b"\0" * (-(len(header) + len(encoded)) % 4))
            out.write(data)
            out.write(b"\0" * (-len(data) % 4))
        return out.getvalue()

    def write_gz(self, path):
        tmp = path + ".tmp"
        with open(tmp, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz:
                gz.write(self.cpio())
        os.replace(tmp, path)
        return path


def find_busybox():
    for path in BUSYBOX_CANDIDATES:
        if os.path.isfile(path):
            out = subprocess.run(["file", "-L", path], stdout=subprocess.PIPE,
                                 universal_newlines=True).stdout if shutil.which("file") else ""
            if "dynamically linked" in out:
                continue
            return path
    raise InitramfsError("no statically linked busybox found at %s "
                         "(Debian: apt-get install busybox-static)"
                         % " or ".join(BUSYBOX_CANDIDATES))


def _ldd_libs(binary):
    proc = subprocess.run(["ldd", binary], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    if proc.returncode != 0:
        raise InitramfsError("ldd %s failed: %s" % (binary, proc.stdout.strip()))
    libs = []
    for line in proc.stdout.splitlines():
        words = line.split()
        if "=>" in words and len(words) > words.index("=>") + 1:
            path = words[words.index("=>") + 1]
        elif words and words[0].startswith("/"):
            path = words[0]
        else:
            continue
        if os.path.isfile(path):
            libs.append(path)
    return libs


def add_udev(archive, rules=()):
    udevadm = shutil.which("udevadm") or "/bin/udevadm"
    if not os.path.isfile(udevadm):
        raise InitramfsError("udevadm not found (Debian: apt-get install udev)")
    archive.file("/bin/udevadm", udevadm, 0o755)
    archive.symlink("/bin/systemd-udevd", "udevadm")
    for lib in _ldd_libs(udevadm):
        real = os.path.realpath(lib)
        archive.file(real, real, 0o755)
        if real != lib:
            archive.symlink(lib, real)
    archive.dir("/etc/udev/rules.d")
    archive.dir("/run/udev")
    for name, text in rules:
        archive.data("/etc/udev/rules.d/" + name, text.encode())


def base_archive(vmcore_info):
    archive = Archive()
    for d in ("bin", "sbin", "dev", "proc", "sys", "tmp", "run", "boot", "etc", "root"):
        archive.dir(d)
    archive.chardev("/dev/console", 5, 1)
    archive.chardev("/dev/null", 1, 3, 0o666)
    archive.file("/bin/busybox", find_busybox(), 0o755)
    archive.file("/init", os.path.join(HERE, "init"), 0o755)
    archive.file("/bin/capture-fixture", os.path.join(HERE, "capture-fixture"), 0o755)
    archive.file("/bin/vmcore-info", vmcore_info, 0o755)
    return archive


def build(outdir, kernel, vmcore_info, kexec=None, tools=(), udev=False, udev_rules=(),
          files=(), kexec_path="/sbin/kexec"):
    """Write capture.img and first.img into outdir; return the first one's path.

    kexec, when given, becomes kexec_path (/sbin/kexec) of the first kernel;
    tools are more static binaries for its /bin; files, (guest path, bytes,
    mode) each, go into the first kernel's initramfs last, over anything else.
    """
    inputs = [("kernel", kernel), ("vmcore-info binary", vmcore_info)]
    inputs += [("kexec binary", kexec)] if kexec else []
    inputs += [("tool", t) for t in tools]
    for what, path in inputs:
        if not path or not os.path.isfile(path):
            raise InitramfsError("%s %s does not exist" % (what, path))
    os.makedirs(outdir, exist_ok=True)

    capture = base_archive(vmcore_info)
    capture_img = capture.write_gz(os.path.join(outdir, "capture.img"))

    first = capture.copy()
    if udev:
        add_udev(first, udev_rules)
    if kexec:
        first.file(kexec_path, kexec, 0o755)
    for tool in tools:
        first.file("/bin/" + os.path.basename(tool), tool, 0o755)
    for path, data, mode in files:
        first.data(path, data, mode)
    first.file("/boot/vmlinuz", kernel, 0o644)
    first.file("/boot/initrd.img", capture_img, 0o644)
    return first.write_gz(os.path.join(outdir, "first.img"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kexec", help="kexec binary to put at /sbin/kexec")
    ap.add_argument("--vmcore-info", required=True, help="static vmcore-info binary")
    ap.add_argument("--kernel", required=True, help="bzImage to put at /boot/vmlinuz")
    ap.add_argument("--tool", action="append", default=[], help="static binary for /bin")
    ap.add_argument("--udev", action="store_true", help="add udevadm and systemd-udevd")
    ap.add_argument("-o", "--outdir", required=True)
    args = ap.parse_args()
    try:
        print(build(args.outdir, args.kernel, args.vmcore_info, args.kexec, args.tool,
                    args.udev))
    except InitramfsError as e:
        print("initramfs: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
