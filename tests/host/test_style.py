# SPDX-License-Identifier: GPL-2.0-or-later
"""The C sources obey the tree's .clang-format and its 100-column limit."""
import os
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def c_sources():
    out = subprocess.run(["git", "-C", REPO, "ls-files", "*.c", "*.h"], capture_output=True,
                         text=True)
    if out.returncode != 0:
        # Not a git checkout (a release tarball): walk the tree instead.
        return sorted(os.path.relpath(os.path.join(d, f), REPO)
                      for d, _, files in os.walk(REPO) if "_build" not in d
                      for f in files if f.endswith((".c", ".h")))
    return out.stdout.split()


@pytest.mark.parametrize("path", c_sources())
def test_clang_format_clean(path):
    if not shutil.which("clang-format"):
        pytest.fail("clang-format is not installed (tools/install-deps installs it)")
    out = subprocess.run(["clang-format", "--dry-run", "--Werror", path], cwd=REPO,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[:2000]


@pytest.mark.parametrize("path", c_sources())
def test_lines_at_most_100_columns(path):
    with open(os.path.join(REPO, path), encoding="utf-8") as f:
        long_lines = [i + 1 for i, line in enumerate(f)
                      if len(line.rstrip("\n").expandtabs(8)) > 100]
    assert not long_lines, "%s: lines over 100 columns: %s" % (path, long_lines[:10])
