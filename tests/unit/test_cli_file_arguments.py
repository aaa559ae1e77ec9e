"""A file argument that is a directory, missing or unreadable is a usage error that says so —
never a traceback (every command that reads a file the user names)."""

from __future__ import annotations

import pytest

from tongdao.cli import main

COMMANDS = [
    ["catalogue", "create", "{d}"],
    ["node", "serve", "--config", "{d}"],
    ["calendar", "load", "{d}"],
    ["department", "install", "{d}", "--home", "{h}"],
    ["ca", "sign", "{d}", "--home", "{h}", "--party", "hlj.gat"],
    ["broker", "serve", "--config", "{d}"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda argv: " ".join(argv[:2]))
def test_a_directory_given_for_a_file_is_refused_plainly(argv, tmp_path, capsys):
    folder = tmp_path / "folder"
    folder.mkdir()
    home = tmp_path / "home"
    code = main([a.format(d=folder, h=home) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"{folder}: it is a directory" in err or f"{folder}: 这是一个目录" in err, err


def test_a_missing_keys_file_is_said_in_the_readers_language(tmp_path, capsys):
    from tongdao.policies.i18n import os_reason, render

    try:
        open(tmp_path / "absent.csv")  # noqa: SIM115
    except OSError as exc:
        said = os_reason(exc)
    assert said == "no such file or directory"
    assert render(said, "zh-CN") == "文件或目录不存在"
