# SPDX-License-Identifier: GPL-2.0-or-later
"""Input the loader must refuse (or read right) that a first review found it
took: octal sizes, corrupt /proc/iomem and CPU files, files that are not
regular, option words getopt mangles, actions given together, and limits at
the top of the address space."""
import os
import subprocess

import pytest

from hostrun import CAPTURE_APPEND, MIB, need_load


def crash_args(kx, *extra, initrd=True):
    kpath, _ = kx.kernel()
    args = ["-p", "-c", "--append=" + CAPTURE_APPEND]
    if initrd:
        args.append("--initrd=" + kx.initrd(MIB)[0])
    return args + list(extra) + [kpath]


# ---------------------------------------------------------------- sizes

@pytest.mark.parametrize("arg,memsz", [("0100K", 100 << 10), ("010", 4096), ("0x10", 4096)])
def test_size_with_leading_zero_is_decimal(kx, arg, memsz):
    result, load = kx.crash_load("small-vm", extra=["--hotplug", "--elfcorehdrsz=" + arg])
    if memsz < 4096 or arg in ("010", "0x10"):
        # Smaller than the header built now: refused, and named.
        result.assert_failed_without_calls("--elfcorehdrsz=" + arg)
        return
    load = need_load(result, load)
    assert load.elfcorehdr_segment.memsz == memsz


@pytest.mark.parametrize("arg", ["08", "\t4096", " 4096", "0x", "4096 ", "+4096", "1K0"])
def test_malformed_sizes(kx, arg):
    result = kx.run(kx.machine("small-vm"), crash_args(kx, "--hotplug", "--elfcorehdrsz=" + arg))
    result.assert_failed_without_calls("--elfcorehdrsz")


def test_mem_max_at_the_top_is_no_limit(kx):
    result = kx.run(kx.machine("small-vm"), crash_args(kx, "--mem-max=0xffffffffffffffff"))
    result.assert_ok()


def test_tight_mem_window_names_the_options(kx):
    m = kx.machine("small-vm")
    start, _ = m.main_crash_region
    result = kx.run(m, crash_args(kx, "--mem-min=%#x" % start, "--mem-max=%#x" % (start + MIB)))
    result.assert_failed_without_calls("--mem-min", "--mem-max")
    assert "crashkernel=" not in result.stderr


# ---------------------------------------------------------------- /proc/iomem and CPUs

@pytest.mark.parametrize("line", [
    "3ffdffff-00100000 : System RAM",  # reversed
    "fffffffffffffffffff-ffffffffffffffffffff : System RAM",  # 19+ digits
    "-1-2 : System RAM",
    "00100000-3ffdffff System RAM",
])
def test_corrupt_iomem_line(kx, line):
    m = kx.machine("small-vm")
    text = m.read("proc/iomem").replace("00100000-3ffdffff : System RAM", line)
    m.write("proc/iomem", text)
    result = kx.run(m, crash_args(kx))
    result.assert_failed_without_calls("proc/iomem")
    assert "\nkexec: \n" not in result.stderr and not result.stderr.endswith("kexec: \n")


@pytest.mark.parametrize("present", ["0,0", "1,0", "0-3,2-5"])
def test_present_list_with_repeats(kx, present):
    m = kx.machine("small-vm")
    m.write("sys/devices/system/cpu/present", present + "\n")
    result = kx.run(m, crash_args(kx))
    result.assert_failed_without_calls("present")


@pytest.mark.parametrize("file,value", [("crash_notes", "0"), ("crash_notes_size", "99999999999")])
def test_implausible_crash_notes(kx, file, value):
    m = kx.machine("small-vm")
    m.write("sys/devices/system/cpu/cpu0/" + file, value + "\n")
    result = kx.run(m, crash_args(kx))
    result.assert_failed_without_calls(file)


def test_kernel_figure_too_big_names_its_source(kx):
    m = kx.machine("small-vm")
    m.write("sys/kernel/crash_elfcorehdr_size", "999999999999\n")
    result = kx.run(m, crash_args(kx, "--hotplug"))
    result.assert_failed_without_calls("crash_elfcorehdr_size")
    assert "--elfcorehdrsz=?" not in result.stderr


def test_elfcorehdrsz_checked_against_the_main_region(kx):
    """low-high: 512M high (segments) plus 256M low; 600M fits neither."""
    result = kx.run(kx.machine("low-high"), crash_args(kx, "--hotplug", "--elfcorehdrsz=600M"))
    result.assert_failed_without_calls("--elfcorehdrsz=600M")


# ---------------------------------------------------------------- files

def test_fifo_is_refused_without_waiting(kx, tmp_path):
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    for args in (crash_args(kx)[:-1] + [fifo], ["-p", "-c", "--initrd=" + fifo, kx.kernel()[0]]):
        result = kx.run(kx.machine("small-vm"), args)
        result.assert_failed_without_calls(fifo)


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null"])
def test_device_files_are_refused(kx, path):
    result = kx.run(kx.machine("small-vm"), ["-p", "-c", path])
    result.assert_failed_without_calls(path)


def test_empty_kernel_is_called_empty(kx):
    path = kx.file("empty", b"")
    result = kx.run(kx.machine("small-vm"), ["-p", "-c", path])
    result.assert_failed_without_calls(path, "empty")


def test_gzip_bomb_stops_early(kx, tmp_path):
    path = str(tmp_path / "bomb.gz")
    with open(path, "wb") as f:
        subprocess.run("head -c %d /dev/zero | gzip -1" % (300 << 20), shell=True, stdout=f,
                       check=True)
    result = kx.run(kx.machine("small-vm"), ["-p", "-c", path])
    result.assert_failed_without_calls(path, "MiB")


# ---------------------------------------------------------------- options

@pytest.mark.parametrize("word,says", [("--hotplug=1", "takes no value"),
                                       ("--console-serial=1", "takes no value"),
                                       ("--help=x", "takes no value"),
                                       ("--lo", "ambiguous"),
                                       ("--frobnicate", "unknown option --frobnicate")])
def test_option_words_are_quoted(kx, word, says):
    result = kx.run(kx.machine("small-vm"), [word, "-p", kx.kernel()[0]])
    result.assert_failed_without_calls(word.split("=")[0])
    assert says in result.stderr
    assert all(c >= " " for c in result.stderr.replace("\n", ""))


@pytest.mark.parametrize("args", [["-S", "-u"], ["-S", "-e"], ["-u", "-e"], ["-p", "-u", "K"],
                                  ["-S", "K"]])
def test_actions_that_cannot_go_together(kx, args):
    kpath, _ = kx.kernel()
    args = [kpath if a == "K" else a for a in args]
    result = kx.run(kx.machine("small-vm"), args)
    result.assert_failed_without_calls()


def test_load_then_exec(kx):
    kpath, _ = kx.kernel()
    result = kx.run(kx.machine("small-vm"), ["-l", "-s", kpath, "-e"])
    result.assert_ok()
    kinds = [c.kind for c in result.calls]
    assert kinds == ["kexec_file_load", "reboot_kexec"], result.describe()


# ---------------------------------------------------------------- kexec_file_load

def test_file_load_warns_about_options_it_ignores(kx):
    m = kx.machine("small-vm")
    result = kx.run(m, ["-p", "-s", "--hotplug", "--elfcorehdrsz=2M", kx.kernel()[0]])
    result.assert_ok()
    assert "--elfcorehdrsz=2M has no effect" in result.stderr


def test_file_load_command_line_too_long_is_caught(kx):
    kpath, _ = kx.kernel()
    result = kx.run(kx.machine("small-vm"), ["-p", "-s", "--append=" + "x" * 3000, kpath])
    result.assert_failed_without_calls("cmdline_size")


def test_both_calls_failing_shows_both(kx):
    result = kx.run(kx.machine("small-vm"), ["-p", kx.kernel()[0]],
                    env={"KEXEC_TEST_FILE_ERRNO": "ENOEXEC", "KEXEC_TEST_LOAD_ERRNO": "EINVAL"})
    assert result.rc != 0
    assert "kexec_file_load had failed first" in result.stderr, result.describe()


# ---------------------------------------------------------------- guessed addresses are said

def test_missing_kcore_is_warned_about(kx):
    m = kx.machine("small-vm")
    m.remove("proc/kcore")
    result = kx.run(m, crash_args(kx))
    result.assert_ok()
    assert "proc/kcore" in result.stderr and "warning" in result.stderr


def test_hidden_kallsyms_is_warned_about(kx):
    m = kx.machine("small-vm")
    m.write("proc/kallsyms", "".join("0000000000000000 T %s\n" % s for s in ("_text", "_end")))
    result = kx.run(m, crash_args(kx))
    result.assert_ok()
    assert "kallsyms" in result.stderr and "warning" in result.stderr


def test_large_initrd_is_not_read_for_kexec_file_load(kx, tmp_path):
    """kexec_file_load hands the kernel a descriptor: no size limit of ours applies."""
    path = str(tmp_path / "big-initrd")
    with open(path, "wb") as f:
        f.truncate((1 << 30) + 4096)  # sparse
    result = kx.run(kx.machine("small-vm"), ["-l", "-s", "--initrd=" + path, kx.kernel()[0]])
    result.assert_ok()


# ---------------------------------------------------------------- second review

@pytest.mark.parametrize("extra,names", [(["--hotplug"], ["elfcorehdr"]),
                                         (["--elfcorehdrsz=1G"], ["--elfcorehdrsz=1G"])])
def test_auto_refuses_what_the_fallback_would_before_any_call(kx, extra, names):
    """The kernel drops the loaded capture kernel when a load begins: with -a a
    fallback that would be refused must be refused before kexec_file_load."""
    m = kx.machine("small-vm")
    m.drop_crash_hotplug()
    m.write("sys/kernel/kexec_crash_loaded", "1\n")
    kpath, _ = kx.kernel()
    result = kx.run(m, ["-p"] + extra + [kpath], env={"KEXEC_TEST_FILE_ERRNO": "ENOEXEC"})
    result.assert_failed_without_calls(*names)
    assert m.loaded(crash=True) == 1


def test_kernel_figure_below_the_built_header(kx):
    """A crash_elfcorehdr_size smaller than the header built now must not give
    a segment with memsz < bufsz (the kernel would refuse it)."""
    def shrink(machine):
        machine.write("sys/kernel/crash_elfcorehdr_size", "4096\n")

    result, load = kx.crash_load("large-server", extra=["--hotplug"], prepare=shrink)
    load = need_load(result, load)
    seg = load.elfcorehdr_segment
    assert seg.bufsz <= seg.memsz
    assert "smaller than the elfcorehdr built now" in result.stderr


def test_file_load_hotplug_without_kernel_support_warns(kx):
    m = kx.machine("small-vm")
    m.drop_crash_hotplug()
    result = kx.run(m, ["-p", "-s", "--hotplug", kx.kernel()[0]])
    result.assert_ok()
    assert "no crash hotplug support" in result.stderr


def test_hotplug_options_without_p_are_usage_errors(kx):
    result = kx.run(kx.machine("small-vm"), ["-l", "--elfcorehdrsz=1M", kx.kernel()[0]])
    result.assert_failed_without_calls("--elfcorehdrsz")
    assert result.rc == 2


@pytest.mark.parametrize("arg", ["2MB", "1kb", "4096B"])
def test_byte_suffix_is_not_a_size(kx, arg):
    result = kx.run(kx.machine("small-vm"), crash_args(kx, "--hotplug", "--elfcorehdrsz=" + arg))
    result.assert_failed_without_calls("--elfcorehdrsz=" + arg)
