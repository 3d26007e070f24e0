# SPDX-License-Identifier: GPL-2.0-or-later
"""The kdump integration (kdump/98-kexec-hp-kdump.rules and kdump-reload) under
real udev in the guest: Debian's systemd-udevd in the first kernel's initramfs,
the rule, helper and a kdump.conf where `make install` puts them, and a
/sbin/kexec wrapper that logs every call with the uevent that caused it.

- udev-hotplug: kexec -p -c --hotplug; crash_hotplug reads 1, so the rule must
  not run kdump-reload on the CPU add and memory online events, and the kernel
  keeps the dump current by itself;
- udev-reload: kexec -p -c; the rule runs kdump-reload, which loads again
  (KDUMP_KEXEC_ARGS="-c"), and the dump is current thanks to that reload;
- udev-no-rule: the same without the rule: the dump is stale, which proves the
  tests see what the rule does.

The helper's own logic (folding events, its lock with and without flock(1),
a reload racing the next event) is tested on the host at the end, with a
stub kexec: no system call is made there; so is the claim that the guest's
files are laid out as `make install` lays them out.
"""

import os
import shutil
import subprocess
import time

import pytest

import kdump

DIMM = (kdump.DIMM_BASE, kdump.DIMM_BASE + (128 << 20))
CPU1 = "/devices/system/cpu/cpu1"


def fail(result, message):
    pytest.fail("scenario %s (serial log %s): %s\n%s" % (
        result.scenario.name, result.serial_log(), message, kdump.udev_summary(result)),
        pytrace=False)


def assert_good_capture(result, **expect):
    problems = kdump.capture_problems(result, **expect)
    if problems:
        fail(result, "\n- " + "\n- ".join(problems))


def hotplug_events(result):
    """The CPU add and memory online events udev handled after the load."""
    events = result.udev.get("events", [])
    cpu = [e for e in events if e.get("action") == "add" and e.get("devpath") == CPU1]
    mem = [e for e in events if e.get("action") == "online" and
           e.get("devpath", "").startswith("/devices/system/memory/memory")]
    if not cpu or not mem:
        fail(result, "udev did not handle both a cpu1 add and a memory online event")
    return cpu + mem


def udev_calls(result):
    """kexec calls made on behalf of a uevent (from the rule's RUN program)."""
    return [c for c in result.udev.get("calls", []) if c.get("action", "-") != "-"]


def loads(calls):
    return [c for c in calls if " -S" not in " " + c.get("args", "")]


def test_udev_hotplug_no_reload(vm):
    """kexec -p -c --hotplug: crash_hotplug reads 1 on every event, so the rule never
    runs kdump-reload; the kernel puts the new CPU and DIMM in the dump itself."""
    r = vm.result("udev-hotplug")
    assert r.load_status == 0, "the load failed:\n%s" % "\n".join(r.load_output)
    for e in hotplug_events(r):
        if e.get("crash_hotplug") != "1":
            fail(r, "crash_hotplug read %r at %s %s, not 1"
                 % (e.get("crash_hotplug"), e.get("action"), e.get("devpath")))
    if udev_calls(r):
        fail(r, "the rule ran kdump-reload although crash_hotplug reads 1")
    if r.udev.get("syslog"):
        fail(r, "kdump-reload logged something although it should not have run")
    assert r.sysfs["/sys/devices/system/cpu/crash_hotplug"] == "1"
    assert r.sysfs["/sys/devices/system/memory/crash_hotplug"] == "1"
    assert (r.udev["status_before"], r.udev["status_after"]) == (1, 1), kdump.udev_summary(r)
    assert_good_capture(r, cpus=2, dimm=DIMM)


def test_udev_reload(vm):
    """kexec -p -c: the rule runs kdump-reload on the events, it loads again, and the
    dump has the hot-added CPU and DIMM because of that reload."""
    r = vm.result("udev-reload")
    assert r.load_status == 0, "the load failed:\n%s" % "\n".join(r.load_output)
    events = hotplug_events(r)
    for e in events:
        if e.get("crash_hotplug") != "0":
            fail(r, "crash_hotplug read %r at %s %s, not 0"
                 % (e.get("crash_hotplug"), e.get("action"), e.get("devpath")))
    calls = udev_calls(r)
    reloads = loads(calls)
    if not reloads:
        fail(r, "kdump-reload never loaded the capture kernel again")
    bad = [c for c in calls if c.get("rc") != ("1" if " -S" in " " + c["args"] else "0")]
    if bad:
        fail(r, "kexec calls from kdump-reload with an unexpected exit status")
    want = "-c -p --initrd=%s --append=%s %s" % (kdump.GUEST_INITRD, kdump.CAPTURE_APPEND,
                                                 kdump.GUEST_KERNEL)
    if any(c["args"] != want for c in reloads):
        fail(r, "kdump-reload did not load with kdump.conf's settings: %r" % want)
    # The reload in place at the panic must have started after udev took up
    # the last event it had to account for.
    last_event = max(float(e["t"]) for e in events)
    if float(reloads[-1]["start"]) < last_event:
        fail(r, "the last reload started at %s, before the last hotplug event at %s"
             % (reloads[-1]["start"], last_event))
    if not any("capture kernel reloaded after a hotplug event" in l for l in r.udev["syslog"]):
        fail(r, "kdump-reload did not log its reload")
    # A capture kernel was loaded before the hotplug and after the last reload.
    assert (r.udev["status_before"], r.udev["status_after"]) == (1, 1), kdump.udev_summary(r)
    assert r.sysfs["/sys/kernel/kexec_crash_loaded"] == "1"
    # The reload used kexec_load without --hotplug: the kernel still leaves it alone.
    assert r.sysfs["/sys/devices/system/cpu/crash_hotplug"] == "0"
    assert_good_capture(r, cpus=2, dimm=DIMM)


def test_udev_no_rule_stale_dump(vm):
    """Without the rule nothing reloads and the dump misses the CPU and the DIMM:
    the difference the rule makes, which the udev-reload scenario must show."""
    r = vm.result("udev-no-rule")
    assert r.load_status == 0, "the load failed:\n%s" % "\n".join(r.load_output)
    assert r.udev.get("rule_present") is False, "the rule is still in the guest"
    hotplug_events(r)
    if udev_calls(r):
        fail(r, "something ran kexec on a uevent without the kdump rule")
    assert r.sysfs["/sys/kernel/kexec_crash_loaded"] == "1"
    if not r.captured:
        fail(r, "no capture kernel: %s" % "; ".join(r.notes))
    if len(r.dump.prstatus) != 1 or kdump.subtract([DIMM], r.dump.ram_ranges) != [DIMM]:
        fail(r, "the dump is not stale without the rule: %d NT_PRSTATUS notes, RAM %s"
             % (len(r.dump.prstatus), kdump.fmt_ranges(r.dump.ram_ranges)))


def test_udev_boot_nothing_loaded(vm):
    """At boot udev's coldplug runs the rule for cpu0 with nothing loaded: kdump-reload
    asks kexec -p -S, gets 0 and must not load anything."""
    r = vm.result("udev-reload")
    boot = [c for c in r.udev.get("boot_calls", []) if c.get("action", "-") != "-"]
    if not boot:
        fail(r, "the rule did not run kdump-reload for the boot's cpu add event")
    if [c for c in boot if c.get("args") != "-p -S" or c.get("rc") != "0"]:
        fail(r, "kdump-reload did more than kexec -p -S with nothing loaded: %s"
             % ["%s rc=%s" % (c.get("args"), c.get("rc")) for c in boot])


# -- kdump-reload on the host, with a stub kexec ------------------------------

# A stand-in for kexec: -S answers from a state file, a load takes a while,
# during which -S says nothing is loaded (the kernel frees the old crash image
# before it copies the new one in), and records which "generation" of the
# hardware it saw when it started.
STUB_KEXEC = r"""#!/bin/sh
d=%(dir)s
case " $* " in
*" -S "*)
	[ "$(cat $d/state)" = loaded ] && exit 1
	exit 0 ;;
esac
gen=$(cat $d/generation)
echo unloaded > $d/state
sleep %(load_time)s
echo loaded > $d/state
echo "gen=$gen args=$*" >> $d/loads
exit 0
"""


@pytest.fixture
def helper(tmp_path):
    with open(os.path.join(kdump.TOP, "kdump", "kdump-reload.in")) as f:
        text = kdump.kdump_subst(f.read(), {"sbindir": "/nonexistent/sbin",
                                            "sysconfdir": "/nonexistent/etc",
                                            "pkglibexecdir": "/nonexistent/libexec"})
    path = tmp_path / "kdump-reload"
    path.write_text(text)
    path.chmod(0o755)
    return path


def run_helper(helper, d, load_time="0.5", flock=True, events=1, gap=0.0, state="loaded",
               timeout=30, conf_text=None):
    """Run the helper once per event (gap seconds apart, the hardware changing at
    each), as udev would in parallel workers; return the stub's load log and the
    helpers' exit statuses and output."""
    stub = d / "kexec"
    stub.write_text(STUB_KEXEC % {"dir": d, "load_time": load_time})
    stub.chmod(0o755)
    (d / "state").write_text(state + "\n")
    (d / "generation").write_text("0\n")
    conf = d / "kdump.conf"
    conf.write_text(kdump.guest_kdump_conf("-c") if conf_text is None else conf_text)
    path = "/usr/bin:/bin"
    if not flock:
        # The tools the helper needs, without flock(1), as in a busybox system.
        bindir = d / "bin"
        bindir.mkdir(exist_ok=True)
        for tool in ("sh", "touch", "rm", "ln", "readlink", "cat", "sleep", "grep"):
            src = shutil.which(tool)
            if src:
                os.symlink(src, bindir / tool)
        path = str(bindir)
    env = {"PATH": path, "KEXEC_HP_KEXEC": str(stub), "KEXEC_HP_KDUMP_CONF": str(conf),
           "KEXEC_HP_LOCK": str(d / "lock"), "ACTION": "add"}
    procs = []
    for gen in range(1, events + 1):
        (d / "generation").write_text("%d\n" % gen)
        procs.append(subprocess.Popen([str(helper)], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, universal_newlines=True))
        time.sleep(gap)
    outputs = [(p.communicate(timeout=timeout)[0], p.returncode) for p in procs]
    loads = (d / "loads").read_text().splitlines() if (d / "loads").exists() else []
    return loads, outputs


@pytest.mark.parametrize("flock", [True, False], ids=["flock", "no-flock"])
def test_helper_reloads_once(helper, tmp_path, flock):
    """One event, a capture kernel loaded: one reload with kdump.conf's settings."""
    if flock and not shutil.which("flock"):
        pytest.skip("no flock(1) on this host")
    loads, out = run_helper(helper, tmp_path, flock=flock)
    assert len(loads) == 1, out
    assert [rc for _, rc in out] == [0], out
    assert loads[0] == "gen=1 args=-c -p --initrd=%s --append=%s %s" % (
        kdump.GUEST_INITRD, kdump.CAPTURE_APPEND, kdump.GUEST_KERNEL), out


def test_helper_with_the_shipped_conf_does_nothing(helper, tmp_path):
    """kdump/kdump.conf as installed is all comments: no reload, exit 0."""
    with open(os.path.join(kdump.TOP, "kdump", "kdump.conf")) as f:
        shipped = f.read()
    loads, out = run_helper(helper, tmp_path, conf_text=shipped)
    assert loads == [], out
    assert [rc for _, rc in out] == [0], out


def test_helper_drops_hotplug_from_its_arguments(helper, tmp_path):
    """The rule runs the helper only when the kernel cannot update the
    elfcorehdr, where a --hotplug load is refused: the reload goes without it."""
    conf = kdump.guest_kdump_conf("-c").replace("KDUMP_KEXEC_ARGS=-c",
                                                "KDUMP_KEXEC_ARGS='-c --hotplug'")
    assert "--hotplug" in conf
    loads, out = run_helper(helper, tmp_path, conf_text=conf)
    assert len(loads) == 1 and "--hotplug" not in loads[0], (loads, out)


def test_helper_nothing_loaded(helper, tmp_path):
    """No capture kernel loaded (kdump stopped): the helper must not start one."""
    loads, out = run_helper(helper, tmp_path, state="unloaded")
    assert loads == [], out
    assert [rc for _, rc in out] == [0], out


@pytest.mark.parametrize("flock", [True, False], ids=["flock", "no-flock"])
def test_helper_event_during_reload(helper, tmp_path, flock):
    """A second event while the first reload runs (and -S reads 0 because the kernel
    has freed the old image): the helper must load once more, after the change."""
    if flock and not shutil.which("flock"):
        pytest.skip("no flock(1) on this host")
    loads, out = run_helper(helper, tmp_path, load_time="1", flock=flock, events=2, gap=0.3)
    assert loads, out
    assert loads[-1].startswith("gen=2 "), (loads, out)
    assert len(loads) <= 2, (loads, out)


@pytest.mark.parametrize("flock", [True, False], ids=["flock", "no-flock"])
def test_helper_burst_folds(helper, tmp_path, flock):
    """Five events in a burst fold into at most two more reloads, the last seeing all."""
    if flock and not shutil.which("flock"):
        pytest.skip("no flock(1) on this host")
    loads, out = run_helper(helper, tmp_path, load_time="0.5", flock=flock, events=5,
                            gap=0.05)
    assert loads and loads[-1].startswith("gen=5 "), (loads, out)
    assert len(loads) <= 3, (loads, out)


def test_helper_takes_over_a_stale_lock(helper, tmp_path):
    """Without flock(1): a lock left by a helper that was killed (its PID gone) does
    not stop reloads for good."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    os.symlink(str(dead.pid), tmp_path / "lock.pid")
    loads, out = run_helper(helper, tmp_path, flock=False)
    assert len(loads) == 1, out
    assert not (tmp_path / "lock.pid").exists(), "the helper left its lock behind"


def test_guest_layout_is_make_install(tmp_path):
    """What the guest gets is what `make install` installs: the build's substitution
    of kdump/*.in equals kdump_subst() with the build's directories, and in a
    DESTDIR install the rule runs the installed helper, which names the
    installed kdump.conf and sbindir/kexec."""
    builddir = kdump.builddir()
    if not os.path.isfile(os.path.join(builddir, "Makefile")):
        pytest.skip("no configured build directory at %s (KEXEC_BUILDDIR)" % builddir)
    printer = "print-dirs:\n\t@echo $(sbindir) $(sysconfdir) $(pkglibexecdir) $(udevrulesdir)\n"
    proc = subprocess.run(["make", "-s", "-C", builddir, "-f", "Makefile", "-f", "-",
                           "print-dirs"], input=printer, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)
    assert proc.returncode == 0, proc.stdout
    sbindir, sysconfdir, pkglibexecdir, udevrulesdir = proc.stdout.split()
    dirs = {"sbindir": sbindir, "sysconfdir": sysconfdir, "pkglibexecdir": pkglibexecdir}
    dest = tmp_path / "dest"
    proc = subprocess.run(["make", "-s", "-C", builddir, "DESTDIR=%s" % dest,
                           "install-udevrulesDATA", "install-pkglibexecSCRIPTS",
                           "install-dist_kdumpconfDATA"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)
    assert proc.returncode == 0, proc.stdout

    def installed(path):
        return dest / path.lstrip("/")

    rule = installed(udevrulesdir + "/98-kexec-hp-kdump.rules").read_text()
    helper_path = pkglibexecdir + "/kdump-reload"
    helper = installed(helper_path)
    assert os.access(helper, os.X_OK), "%s is not installed executable" % helper_path
    assert installed(sysconfdir + "/kexec-hp/kdump.conf").is_file()
    for name, text in (("98-kexec-hp-kdump.rules.in", rule),
                       ("kdump-reload.in", helper.read_text())):
        with open(os.path.join(kdump.TOP, "kdump", name)) as f:
            assert kdump.kdump_subst(f.read(), dirs) == text, name
    assert 'RUN+="%s"' % helper_path in rule
    text = helper.read_text()
    assert "%s/kexec-hp/kdump.conf" % sysconfdir in text
    assert "%s/kexec}" % sbindir in text
    # The guest: the same layout under prefix /usr, sbindir /sbin, sysconfdir /etc.
    guest = {path: text for path, text, _ in kdump.kdump_integration_files()}
    assert 'RUN+="%s"' % kdump.KDUMP_RELOAD in guest[kdump.KDUMP_RULE]
    assert "%s}" % kdump.KDUMP_CONF in guest[kdump.KDUMP_RELOAD]
    assert "/sbin/kexec}" in guest[kdump.KDUMP_RELOAD]
