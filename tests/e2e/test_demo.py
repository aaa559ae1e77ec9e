"""`tongdao demo` as a user runs it: separate processes, real mTLS, exits 0 well under a minute."""

import subprocess
import sys
import time

import pytest


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path):
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "tongdao", "demo", "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    out = result.stdout
    assert "FAILED" not in out
    assert "ledger verifies offline" in out
    assert "Art." in out
    assert elapsed < 60
    # every process was stopped
    assert "processes stopped" in out
    # the broker's store never saw a plaintext record: spot-check the registry's first resident
    population = (tmp_path / "demo" / "population.csv").read_text(encoding="utf-8").splitlines()
    id_number, name = population[1].split(",")[:2]
    store = (tmp_path / "demo" / "tongdao-broker.db").read_bytes()
    for wal in (tmp_path / "demo").glob("tongdao-broker.db-wal"):
        store += wal.read_bytes()
    assert id_number.encode() not in store
    assert name.encode() not in store
    logs = "".join(p.read_text() for p in (tmp_path / "demo" / "logs").glob("broker*.log"))
    assert id_number not in logs and name not in logs


def test_demo_refuses_a_foreign_non_empty_directory(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    result = subprocess.run(
        [sys.executable, "-m", "tongdao", "demo", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "not empty" in result.stderr
    assert (tmp_path / "precious.txt").read_text() == "keep me"


@pytest.mark.slow
def test_demo_with_the_default_relative_directory(tmp_path):
    """As the README's Quick start runs it: no --dir, from the current directory."""
    result = subprocess.run(
        [sys.executable, "-m", "tongdao", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (tmp_path / "tongdao-demo" / "tongdao-broker.db").exists()
