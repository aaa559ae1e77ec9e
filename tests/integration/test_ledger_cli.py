"""`tongdao ledger` verify / prove / consistency / export / check-export on a real store."""

import json
import os

import pytest

from tongdao.broker.kernel.db import make_engine, session_factory, upgrade
from tongdao.broker.ledger import chain as ledger_mod
from tongdao.broker.ledger.chain import Ledger
from tongdao.ca_home import enrol_all_locally
from tongdao.cli import main
from tongdao.crypto.checkpoint import Cosigner
from tongdao.home import BROKER, Home
from tongdao.policies.loader import load_policy

ORIGIN = load_policy().ledger.origin


@pytest.fixture
def broker_dir(tmp_path, monkeypatch):
    """A broker home with a store of 12 entries, a checkpoint at 10 cosigned by two witnesses."""
    home = Home(tmp_path / "home")
    enrol_all_locally(home, tmp_path / "ca")
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'tongdao-broker.db'}"
    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    ledger = Ledger(home.signing_key(BROKER))
    from tongdao.broker.directory.models import Department
    from tongdao.crypto.signing import SigningKey

    witnesses = {code: SigningKey.generate() for code in ("hlj.gat", "hlj.rst")}
    with sessions.begin() as s:
        import datetime as dt

        for code, key in witnesses.items():
            s.add(
                Department(
                    code=code,
                    name=code,
                    region="230000",
                    level="province",
                    node_endpoint="127.0.0.1:1",
                    encryption_public_key=bytes(32),
                    signing_public_key=key.verify_key.public_key,
                    registered_at=dt.datetime.now(dt.UTC),
                )
            )
    for i in range(12):
        with sessions.begin() as s:
            ledger.append(s, kind="test.entry", actor="hlj.gat", subject=f"s{i}", payload={"i": i})
        if i == 9:
            with sessions.begin() as s:
                cp = ledger.publish_checkpoint(s, ORIGIN)
                text = cp.note.split("\n\n")[0] + "\n"
                for code, key in witnesses.items():
                    line = Cosigner(code, key).cosign(text, 1_700_000_000).line()
                    ledger_mod.add_cosignature(s, cp, code, key.verify_key, line)
    engine.dispose()
    return tmp_path, home


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_verify_reports_the_tail_after_the_checkpoint(broker_dir, capsys):
    _tmp, home = broker_dir
    code, out, _ = run(capsys, "ledger", "verify", "--home", str(home.root))
    assert code == 0, out
    assert "10 verified by checkpoint 10" in out
    assert "NOT verified: 2 entries after checkpoint 10" in out
    assert "witnessed: 2 of 2" in out
    code, out, _ = run(capsys, "ledger", "verify", "--home", str(home.root), "--strict")
    assert code == 1


def test_export_then_verify_offline_prove_and_consistency(broker_dir, capsys):
    tmp, home = broker_dir
    key = home.broker_verify_key().public_key.hex()
    archive = tmp / "ledger.jsonl"
    store = f"sqlite:///{tmp / 'tongdao-broker.db'}"
    assert (
        run(
            capsys,
            "ledger",
            "export",
            str(archive),
            "--home",
            str(home.root),
            "--database-url",
            store,
        )[0]
        == 0
    )
    code, out, _ = run(
        capsys, "ledger", "verify", "--export", str(archive), "--broker-key", key, "--json"
    )
    summary = json.loads(out)
    assert code == 0 and summary["verified"] == 10 and summary["unverified"] == 2
    assert summary["witnessed"]
    code, out, _ = run(capsys, "ledger", "check-export", str(archive), "--broker-key", key)
    assert code == 0 and "10 verified" in out
    for source in (["--home", str(home.root)], ["--export", str(archive), "--broker-key", key]):
        code, out, _ = run(capsys, "ledger", "prove", "7", *source)
        assert code == 0 and "checkpoint 10 signed by the broker" in out, out
        code, out, err = run(capsys, "ledger", "prove", "12", *source)
        assert code == 2 and "after checkpoint 10" in err
        code, out, _ = run(capsys, "ledger", "consistency", "4", "12", *source, "--json")
        assert code == 0 and json.loads(out)["proof"]
    # another key: nothing verifies
    other = "11" * 32
    code, out, _ = run(capsys, "ledger", "verify", "--export", str(archive), "--broker-key", other)
    assert code == 1 and "BROKEN" in out


def test_verify_outside_a_broker_home_says_what_is_missing_and_creates_nothing(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "ledger", "verify", "--home", str(tmp_path / "nowhere"))
    assert code == 2 and "not a Tongdao home" in err
    home = Home(tmp_path / "home")
    enrol_all_locally(home, tmp_path / "ca")
    before = sorted(os.listdir(tmp_path))
    code, _, err = run(capsys, "ledger", "verify", "--home", str(home.root))
    assert code == 2 and "no broker store here" in err and "tongdao-broker.db" in err
    code, _, err = run(
        capsys, "ledger", "verify", "--home", str(home.root), "--database-url",
        f"sqlite:///{tmp_path / 'missing.db'}",
    )  # fmt: skip
    assert code == 2 and "does not exist" in err
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.parametrize(
    "content, needle",
    [
        ("", "empty"),
        ("[1, 2]\n", "not a JSON object"),
        ('{"no": "key"}\n', "header"),
        ("not json\n", "not JSON"),
        ('{"head": {"length": 0}}\n', "older"),
        (None, "entry lacks"),
        (None, "neither"),
    ],
)
def test_check_export_gives_clear_errors_on_bad_files(broker_dir, capsys, content, needle):
    tmp, home = broker_dir
    key = home.broker_verify_key().public_key.hex()
    good = tmp / "good.jsonl"
    store = f"sqlite:///{tmp / 'tongdao-broker.db'}"
    run(capsys, "ledger", "export", str(good), "--home", str(home.root), "--database-url", store)
    header = good.read_text().splitlines()[0]
    if content is None:
        content = (
            header + "\n" + ('{"entry": {"sequence": 1}}\n' if needle == "entry lacks" else "[]\n")
        )
        if needle == "neither":
            content = header + '\n{"something": 1}\n'
    bad = tmp / "bad.jsonl"
    bad.write_text(content)
    code, _, err = run(capsys, "ledger", "check-export", str(bad), "--broker-key", key)
    assert code == 2 and needle in err and "Traceback" not in err
