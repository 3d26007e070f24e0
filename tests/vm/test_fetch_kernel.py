# SPDX-License-Identifier: GPL-2.0-or-later
"""fetch-kernel's reading of the machine's apt configuration, on fake /etc/apt trees."""

import kdump

fetch = kdump._fetch_module()


def test_deb822_sources(tmp_path, monkeypatch):
    monkeypatch.delenv("KEXEC_VM_MIRROR", raising=False)
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\n"
        "# http://old.invalid/debian\n"
        "URIs: http://archive.invalid/debian\n"
        "Suites: bookworm bookworm-updates\n"
        "Components: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
        "\n"
        "Types: deb\n"
        "URIs: http://security.invalid/debian-security\n"
        "Suites: bookworm-security\n"
        "Components: main\n"
        "\n"
        "Types: deb\n"
        "URIs: http://disabled.invalid/debian\n"
        "Suites: bookworm\n"
        "Enabled: no\n")
    assert fetch.mirror_uris(str(tmp_path)) == [
        ("http://archive.invalid/debian", "/usr/share/keyrings/debian-archive-keyring.gpg")]


def test_one_line_sources(tmp_path, monkeypatch):
    monkeypatch.delenv("KEXEC_VM_MIRROR", raising=False)
    (tmp_path / "sources.list").write_text(
        "# deb http://commented.invalid/debian bookworm main\n"
        "deb [arch=amd64] http://archive.invalid/debian bookworm main contrib\n"
        "deb-src http://archive.invalid/debian bookworm main\n"
        "deb http://other.invalid/ubuntu jammy main\n")
    assert [u for u, _ in fetch.mirror_uris(str(tmp_path))] == ["http://archive.invalid/debian"]


def test_override_and_nothing_found(tmp_path, monkeypatch):
    monkeypatch.setenv("KEXEC_VM_MIRROR", "http://override.invalid/debian")
    assert [u for u, _ in fetch.mirror_uris(str(tmp_path))] == ["http://override.invalid/debian"]
    monkeypatch.delenv("KEXEC_VM_MIRROR")
    assert fetch.mirror_uris(str(tmp_path)) == []
