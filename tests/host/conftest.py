# SPDX-License-Identifier: GPL-2.0-or-later
"""pytest glue for the host tests: the helpers live in hostrun.py and kexecrec.py."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hostrun  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "hotplug: --hotplug and --elfcorehdrsz (crash hotplug "
                            "for kexec_load), the next issue")


@pytest.fixture(scope="session")
def kx(tmp_path_factory):
    return hostrun.Harness(tmp_path_factory)
