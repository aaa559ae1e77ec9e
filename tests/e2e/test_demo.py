"""`tongdao demo` as a user runs it: separate processes, real mTLS, every check passes, exits 0."""

import os
import secrets
import subprocess
import sys

import pytest

from tongdao.home import Home, private_key_texts, scan_for


def _demo(folder, env) -> subprocess.CompletedProcess[str]:
    """``tongdao demo --dir folder`` as a user runs it; it must exit 0."""
    result = subprocess.run(
        [sys.executable, "-m", "tongdao", "demo", "--dir", str(folder)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path):
    passphrase = secrets.token_urlsafe(18)
    result = _demo(tmp_path / "demo", {**os.environ, "TONGDAO_KEY_PASSPHRASE": passphrase})
    out = result.stdout
    assert "FAILED" not in out
    assert "ledger verifies offline" in out
    assert "Art." in out
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
    _no_secret_anywhere_but_its_home(tmp_path / "demo", passphrase, result)


def _no_secret_anywhere_but_its_home(demo, passphrase, result):
    """Every private key the run used, and the passphrase, appear in no log, no output, no other
    party's home — and every key on disk was encrypted under the passphrase."""
    homes = {"broker": demo / "authority", "authority": demo / "authority"}
    homes |= {p.name: p for p in (demo / "departments").iterdir()}
    needles = [passphrase.encode()]
    for party, root in homes.items():
        home = Home(root, passphrase=passphrase.encode())
        for name in ("tls.key", "signing.key", "encryption.key"):
            path = home.party_dir(party) / name
            if path.exists():
                assert path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        needles += private_key_texts(home, party)
    assert len(needles) > 30
    output = (result.stdout + result.stderr).encode()
    assert not [n for n in needles if n in output]
    assert scan_for(demo / "logs", needles) == []
    assert scan_for(demo / "ca", needles) == []  # the CA saw requests only
    for code, root in homes.items():
        if code in ("broker", "authority"):
            continue
        mine = private_key_texts(Home(root, passphrase=passphrase.encode()), code)
        assert scan_for(demo / "authority", mine) == [], f"{code}'s key in the authority home"


@pytest.mark.slow
def test_demo_passes_every_check_in_the_default_language(tmp_path):
    """The Quick start on a machine with no locale set: zh-CN narration, and every check (each
    reads the English a refusal keeps, not the translated text)."""
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LC_MESSAGES")}
    env.pop("TONGDAO_LOCALE", None)
    result = _demo(tmp_path / "demo", env)
    assert "[FAILED]" not in result.stdout
    assert "存证日志" in result.stdout and "吊销" in result.stdout


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
