# SPDX-License-Identifier: GPL-2.0-or-later
"""pytest glue for the VM tests: one log directory and one guest run per
scenario for the whole session, shared by every test that looks at it.

A missing kernel or loader binary fails the tests that need it, with the
reason; KEXEC_SKIP_VM=1 skips them instead (the host-only tests still run).
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kdump  # noqa: E402
import qemu  # noqa: E402


class Runner:
    """Boots each scenario at most once per session and keeps its Result."""

    def __init__(self):
        self._run_dir = None
        self._images = {}
        self._results = {}
        self.scenarios = kdump.scenarios()

    @property
    def run_dir(self):
        if not self._run_dir:
            self._run_dir = kdump.new_run_dir("pytest")
        return self._run_dir

    def images(self, scenario):
        key = (scenario.needs_kexec, scenario.udev, tuple(scenario.udev_rules),
               tuple(scenario.files), scenario.kexec_path)
        if key not in self._images:
            try:
                self._images[key] = kdump.prepare(self.run_dir, scenario.needs_kexec,
                                                  scenario.udev, scenario.udev_rules,
                                                  scenario.files, scenario.kexec_path)
            except kdump.SetupError as e:
                self._images[key] = e
        images = self._images[key]
        if isinstance(images, Exception):
            pytest.fail(str(images), pytrace=False)
        return images

    def result(self, name):
        if name not in self._results:
            scenario = self.scenarios[name]
            images = self.images(scenario)
            try:
                self._results[name] = kdump.run_scenario(
                    images, scenario, os.path.join(self.run_dir, name))
            except qemu.GuestError as e:
                self._results[name] = e
            self._summarise(name)
        result = self._results[name]
        if isinstance(result, Exception):
            pytest.fail("scenario %s: %s" % (name, result), pytrace=False)
        return result


    def _summarise(self, name):
        r = self._results[name]
        if isinstance(r, Exception):
            line = "%-24s error: %s" % (name, str(r).splitlines()[0])
        else:
            line = "%-24s captured=%-5s %s" % (name, r.captured, " ".join(
                "%s=%.1fs" % kv for kv in r.timings.items()))
        with open(os.path.join(self.run_dir, "summary.txt"), "a") as f:
            f.write(line + "\n")


_runner = Runner()


@pytest.fixture
def vm():
    if os.environ.get("KEXEC_SKIP_VM") == "1":
        pytest.skip("KEXEC_SKIP_VM=1: VM tests skipped")
    return _runner
