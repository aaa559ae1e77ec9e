"""A broker that cannot open its store or its keys says so in one line naming the URL (password
removed) or the key file and the fix, exit code 2, no traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from tongdao.ca_home import enrol_all_locally
from tongdao.home import Home


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    root = tmp_path_factory.mktemp("start")
    home = Home(root / "home")
    enrol_all_locally(home, root / "ca")
    return home


def _serve(home: Home, url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TONGDAO_DATABASE_URL"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tongdao",
            "broker",
            "serve",
            "--home",
            str(home.root),
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "",
            "--database-url",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    # the broker's structured log lines (JSON) may precede it; the problem itself is one line
    lines = [
        line
        for line in result.stderr.splitlines()
        if line.strip() and not line.startswith('{"time"')
    ]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_unreachable_postgresql_is_one_line_without_the_password(home):
    port = _closed_port()
    line = _one_line(_serve(home, f"postgresql+psycopg://tongdao:hunter2@127.0.0.1:{port}/tongdao"))
    assert line.startswith("tongdao: error: cannot reach the broker's store at ")
    assert f"postgresql+psycopg://tongdao:***@127.0.0.1:{port}/tongdao" in line
    assert "hunter2" not in line
    assert "start the database server" in line and "--database-url" in line


def test_unwritable_sqlite_path_is_one_line_naming_the_file(home, tmp_path):
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    url = f"sqlite:///{not_a_folder / 'broker.db'}"
    line = _one_line(_serve(home, url))
    assert line.startswith(f"tongdao: error: cannot open the broker's store at {url}: ")
    assert "writable" in line


def test_a_url_of_no_known_database_is_one_line(home):
    line = _one_line(_serve(home, "mysql+nosuchdriver://u:pw@db/x"))
    assert "not a database URL" in line and "pw@" not in line


def test_a_wrong_passphrase_on_the_keys_is_one_line_without_the_passphrase(tmp_path, monkeypatch):
    home = Home(tmp_path / "home", passphrase=b"Right#Passphrase-2026")
    enrol_all_locally(home, tmp_path / "ca")
    for given, needle in (("Wrong#Guess-0001", "wrong passphrase"), ("", "TONGDAO_KEY_PASSPHRASE")):
        monkeypatch.setenv("TONGDAO_KEY_PASSPHRASE", given)
        result = _serve(home, f"sqlite:///{tmp_path / 'broker.db'}")
        line = _one_line(result)
        assert needle in line, line
        assert "Right#Passphrase" not in result.stderr + result.stdout
        if given:
            assert given not in result.stderr + result.stdout
