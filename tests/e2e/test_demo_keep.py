"""`tongdao demo --keep`: the stack stays up, the printed commands work against it as pasted (the
consumer's search, the authority's login, clocks and ledger), --stop ends it."""

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tongdao.demo import CITY_MZJ
from tongdao.demo_stack import STATE_FILE

PROCESSES = 1 + 3 + len(CITY_MZJ)  # the broker, 公安, 民政, 税务 and each city's 民政局


def _tongdao(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "tongdao", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _running(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.slow
def test_keep_leaves_the_stack_running_until_stop(tmp_path):
    demo = tmp_path / "demo"
    pids: list[int] = []
    try:
        result = _tongdao("demo", "--keep", "--records", "40", "--dir", str(demo), timeout=900)
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        out = result.stdout
        assert "processes still running" in out
        pids = [row["pid"] for row in json.loads((demo / STATE_FILE).read_text())["processes"]]
        assert len(pids) == PROCESSES
        assert all(_running(pid) for pid in pids)  # they outlived the demo's own process
        commands = [
            line.strip() for line in out.splitlines() if line.strip().startswith("tongdao ")
        ]
        search = next(c for c in commands if c.startswith("tongdao catalogue search"))
        stop = next(c for c in commands if c.startswith("tongdao demo --stop"))
        # the printed command, as a user pastes it
        found = _tongdao(*shlex.split(search)[1:])
        assert found.returncode == 0, found.stderr
        assert "mzt.marriage" in found.stdout
        # the authority's steps as printed: its auditor logs in from the file the demo left
        # (only its owner may read it), then the clocks and the ledger answer that person
        login = next(c for c in commands if c.startswith("tongdao login "))
        password = Path(shlex.split(login)[shlex.split(login).index("--password-file") + 1])
        assert password.stat().st_mode & 0o777 == 0o600
        logged_in = _tongdao(*shlex.split(login)[1:])
        assert logged_in.returncode == 0, logged_in.stderr
        assert "logged in as audit.zhao (auditor)" in logged_in.stdout
        for step in ("tongdao supervise deadlines", "tongdao ledger verify --remote"):
            line = next(c for c in commands if c.startswith(step))
            answered = _tongdao(*shlex.split(line)[1:])
            assert answered.returncode == 0, f"{line}\n{answered.stderr}"
            assert "certificate" not in answered.stderr  # a fresh certificate is not "due"
        stopped = _tongdao(*shlex.split(stop)[1:])
        assert stopped.returncode == 0, stopped.stderr
        assert f"stopped {PROCESSES} processes" in stopped.stdout
        deadline = time.monotonic() + 15
        while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_running(pid) for pid in pids)
        assert not (demo / STATE_FILE).exists()
        assert (demo / "departments" / "hrb.rsj").is_dir()  # homes stay
        again = _tongdao("demo", "--stop", "--dir", str(demo))
        assert again.returncode == 4
        assert "no running demo" in again.stderr
    finally:
        for pid in pids:
            if _running(pid):
                os.kill(pid, 9)
