"""``tongdao login`` / ``account`` against a real broker: the password comes from standard input
or the environment (never argv), the session is stored 0600 and carried by later commands."""

from __future__ import annotations

import io
import json
import stat

import pytest

from tests.integration.accounts_fixtures import INITIAL, PASSWORD, RSJ, make_home, start
from tongdao.cli import main
from tongdao.commands._common import session_path
from tongdao.home import AUTHORITY


@pytest.fixture
def broker(tmp_path):
    b = start(make_home(tmp_path / "home"), f"sqlite:///{tmp_path / 'broker.db'}")
    yield b
    b.running.stop(0)


def run(monkeypatch, capsys, broker, *argv, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main([*argv, "--home", str(broker.home.root), "--broker", broker.running.target])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_login_session_whoami_logout(monkeypatch, capsys, broker):
    code, out, err = run(
        monkeypatch,
        capsys,
        broker,
        "account",
        "create",
        "li.hua",
        "--for",
        RSJ.code,
        "--role",
        "auditor",
        "--name",
        "李华",
        "--password-stdin",
        stdin=INITIAL + "\n",
    )
    assert code == 0, err
    code, _, err = run(
        monkeypatch,
        capsys,
        broker,
        "login",
        "li.hua",
        "--as",
        RSJ.code,
        "--password-stdin",
        stdin=INITIAL + "\n",
    )
    assert code == 3 and "initial password must be changed" in err and "Traceback" not in err
    monkeypatch.setenv("TONGDAO_PASSWORD", INITIAL)
    monkeypatch.setenv("TONGDAO_NEW_PASSWORD", PASSWORD)
    code, out, err = run(
        monkeypatch, capsys, broker, "account", "password", "li.hua", "--as", RSJ.code
    )
    assert code == 0, err
    monkeypatch.setenv("TONGDAO_PASSWORD", PASSWORD)
    code, out, err = run(monkeypatch, capsys, broker, "login", "li.hua", "--as", RSJ.code)
    assert code == 0, err
    assert "logged in as li.hua (auditor)" in out
    path = session_path(broker.home, RSJ.code)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert PASSWORD not in path.read_text() and PASSWORD not in out
    code, out, err = run(
        monkeypatch, capsys, broker, "account", "whoami", "--as", RSJ.code, "--json"
    )
    assert code == 0, err
    assert json.loads(out) | {"session_expires_at": ""} == {
        "party": RSJ.code,
        "person": "li.hua",
        "roles": ["auditor"],
        "session_expires_at": "",
    }
    # the auditor's session is refused a change, naming the role it needed and the person
    code, out, err = run(
        monkeypatch,
        capsys,
        broker,
        "account",
        "create",
        "x.y",
        "--for",
        RSJ.code,
        "--role",
        "operator",
        "--name",
        "X",
        "--as",
        RSJ.code,
        "--password-stdin",
        stdin=INITIAL + "\n",
    )
    assert code == 3 and "CreateAccount needs the role administrator" in err
    assert "li.hua (hrb.rsj) holds auditor" in err
    code, out, err = run(monkeypatch, capsys, broker, "logout", "--as", RSJ.code)
    assert code == 0 and "logged out" in out and not path.exists()
    code, out, err = run(monkeypatch, capsys, broker, "account", "whoami", "--as", RSJ.code)
    assert code == 0 and "service identity" in out


def test_wrong_password_is_a_clear_refusal(monkeypatch, capsys, broker):
    code, _, err = run(
        monkeypatch,
        capsys,
        broker,
        "login",
        "no.one",
        "--as",
        AUTHORITY,
        "--password-stdin",
        stdin="Whatever#Guess-99\n",
    )
    assert code == 3  # refused: UNAUTHENTICATED
    assert err.strip().splitlines()[-1] == (
        "tongdao: error: UNAUTHENTICATED: password: wrong username or password"
    )
    assert "Traceback" not in err
