"""``tongdao login`` / ``account`` against a real broker: the password comes from standard input
or the environment (never argv), the session is stored 0600 and carried by later commands."""

from __future__ import annotations

import io
import json
import stat

import pytest

from tests.integration.accounts_fixtures import CHIEF, INITIAL, PASSWORD, RSJ, make_home, start
from tongdao.cli import main
from tongdao.commands._common import session_path
from tongdao.home import AUTHORITY
from tongdao.v1 import ledger_pb2


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
    # the authority's certificate alone holds no role: the administrator logs in first
    create = ("account", "create", "li.hua", "--for", RSJ.code, "--role", "auditor")
    code, _, err = run(
        monkeypatch, capsys, broker, *create, "--name", "李华", "--password-stdin", stdin=INITIAL
    )
    assert code == 3 and "Traceback" not in err
    assert "CreateAccount needs the role administrator; authority's service identity" in err
    assert "tongdao login --as authority" in err
    code, out, err = run(
        monkeypatch, capsys, broker, "login", CHIEF, "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert code == 0 and f"logged in as {CHIEF} (administrator)" in out, err
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
    assert f"account li.hua created: 李华, auditor of {RSJ.code}" in out
    assert "the first `tongdao login li.hua` asks for a new one" in out
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
    code, out, err = run(monkeypatch, capsys, broker, "account", "list")
    header, *rows = out.splitlines()
    assert code == 0 and header.split() == ["account", "party", "role", "name", "state"], err
    listed = {row.split()[0]: row for row in rows}
    assert "administrator" in listed[CHIEF] and "can log in" in listed[CHIEF]
    assert f"li.hua           {RSJ.code}" in listed["li.hua"]
    assert listed["li.hua"].endswith("must set a new password; no TOTP")
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
    # the same refusal in zh-CN names the roles in its words (GB/T 22239's three roles)
    code, _, err = run(
        monkeypatch, capsys, broker, "account", "create", "x.z", "--for", RSJ.code,
        "--role", "operator", "--name", "X", "--as", RSJ.code, "--password-stdin",
        "--locale", "zh-CN", stdin=INITIAL + "\n",
    )  # fmt: skip
    assert code == 3 and "CreateAccount 需要 系统管理员 角色" in err
    assert "持有的角色为 安全审计员" in err
    code, out, err = run(monkeypatch, capsys, broker, "logout", "--as", RSJ.code)
    assert code == 0 and "logged out" in out and not path.exists()
    code, out, err = run(monkeypatch, capsys, broker, "account", "whoami", "--as", RSJ.code)
    assert code == 0 and "service identity" in out


def test_login_reads_the_password_from_a_file_only_its_owner_may_read(
    monkeypatch, capsys, broker, tmp_path
):
    secret = tmp_path / "chief.password"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    secret.chmod(0o644)
    login = ("login", CHIEF, "--password-file", str(secret))
    code, out, err = run(monkeypatch, capsys, broker, *login)
    assert code == 2 and out == ""  # refused before anything is sent
    assert f"{secret} may be read by others (mode 644)" in err and "chmod 600" in err
    secret.chmod(0o600)
    code, out, err = run(monkeypatch, capsys, broker, *login)
    assert code == 0 and f"logged in as {CHIEF} (administrator)" in out, err
    missing = ("login", CHIEF, "--password-file", str(tmp_path / "none"))
    code, _, err = run(monkeypatch, capsys, broker, *missing)
    assert code == 2 and "--password-file: cannot read" in err and "Traceback" not in err
    both = (*login, "--password-stdin")
    with pytest.raises(SystemExit) as usage:
        run(monkeypatch, capsys, broker, *both)
    assert usage.value.code == 2


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


def test_brute_force_login_locks_the_account_with_clear_refusals(monkeypatch, capsys, broker):
    from tongdao.policies.loader import load_policy

    rules = load_policy().account_rules
    broker.create_person("ma.chao", RSJ.code, "operator")
    login = ("login", "ma.chao", "--as", RSJ.code, "--password-stdin")
    errors = []
    for n in range(rules.max_failures + 1):
        code, _, err = run(monkeypatch, capsys, broker, *login, stdin=f"Guess#{n:04d}-Harbin\n")
        assert code == 3 and "Traceback" not in err
        errors.append(err.strip().splitlines()[-1])
    assert errors[0].endswith("UNAUTHENTICATED: password: wrong username or password")
    assert "PERMISSION_DENIED: username: account locked until" in errors[rules.max_failures - 1]
    assert "account locked until" in errors[-1]
    code, _, err = run(monkeypatch, capsys, broker, *login, stdin=PASSWORD + "\n")
    assert code == 3 and "account locked until" in err  # the right password waits too
    entries = broker.auditor().ledger.GetLedger(
        ledger_pb2.GetLedgerRequest(from_sequence=1, limit=10_000), timeout=10
    )
    kinds = [e.kind for e in entries.entries if e.subject == "ma.chao"]
    assert kinds.count("account.login_failed") == rules.max_failures
    assert kinds.count("account.locked") == 1 and kinds.count("account.login_refused") >= 2
    assert all("Guess#" not in e.payload_json for e in entries.entries)
