"""``tongdao backup`` while the broker serves, ``tongdao restore`` into a fresh home and store,
then ``tongdao ledger verify`` on the restored copy; on SQLite and PostgreSQL."""

from __future__ import annotations

import tarfile
import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_URL
from tests.integration.stack import start_stack
from tongdao.cli import main


@pytest.fixture
def stack(tmp_path, database_url):
    s = start_stack(tmp_path / "live", database_url=database_url)
    yield s
    s.stop()


@pytest.fixture
def fresh_url(tmp_path, database_url):
    """An empty store of the same kind as ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    schema = f"r_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _rows(url: str, table: str) -> list[tuple]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(f"select * from {table} order by 1"))]
    engine.dispose()
    return rows


def test_backup_restore_into_a_fresh_home_and_verify_the_ledger(
    stack, tmp_path, fresh_url, capsys, monkeypatch
):
    monkeypatch.delenv("TONGDAO_DATABASE_URL", raising=False)
    backup = tmp_path / "broker-backup.tar.gz"
    home = str(stack.home.root)
    # the live broker goes on writing (its first reconciliation may land during the backup):
    # the backup holds at least what was there before it started
    before = _rows(stack.database_url, "ledger_entries")
    assert main(["backup", str(backup), "--home", home, "--database-url", stack.database_url]) == 0
    assert "backed up" in capsys.readouterr().out
    assert backup.stat().st_mode & 0o077 == 0  # it holds the broker's private keys

    # nothing of a department's private keys, nor the CA's, is in the backup
    with tarfile.open(backup) as tar:
        names = tar.getnames()
        contents = b"".join(tar.extractfile(m).read() for m in tar.getmembers() if m.isfile())
    assert "home/authority-ca/ca.crt" in names
    assert "home/parties/broker/signing.key" in names
    assert "home/authority-ca/ca.key" not in names
    for code in stack.home.departments():
        folder = stack.home.party_dir(code)
        for secret in ("tls.key", "encryption.key", "signing.key"):
            assert f"home/parties/{code}/{secret}" not in names
            assert (folder / secret).read_bytes().strip() not in contents
        assert f"home/parties/{code}/client.crt" in names  # its public certificate

    restored = tmp_path / "restored-home"
    argv = ["restore", str(backup), "--home", str(restored), "--database-url", fresh_url]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "ledger OK" in out

    # the restored copy verifies with `tongdao ledger verify`, and holds the same ledger
    argv = ["ledger", "verify", "--home", str(restored), "--database-url", fresh_url, "--json"]
    assert main(argv) == 0
    import json

    verified = json.loads(capsys.readouterr().out)
    assert (
        verified["ok"] is True
        and verified["entries"] == len(_rows(fresh_url, "ledger_entries")) > 0
    )
    copied = _rows(fresh_url, "ledger_entries")
    live = _rows(stack.database_url, "ledger_entries")
    assert len(copied) >= len(before) and copied == live[: len(copied)]
    assert _rows(fresh_url, "catalogue_entries") == _rows(stack.database_url, "catalogue_entries")
    if len(copied) == len(live):  # else its head is the one `ledger verify` checked above
        assert _rows(fresh_url, "ledger_head") == _rows(stack.database_url, "ledger_head")

    # the restored broker serves: its catalogue search finds what the live one finds
    from tongdao.broker.server import BrokerConfig, start_broker
    from tongdao.crypto.pki import BROKER_SERVER_NAME
    from tongdao.home import Home
    from tongdao.proto.stubs import BrokerStubs
    from tongdao.proto.transport import secure_channel
    from tongdao.v1 import catalogue_pb2

    restored_home = Home(restored)
    running = start_broker(
        BrokerConfig(
            tls=restored_home.tls("broker"),
            server_tls=restored_home.tls_source("broker", server=True),
            signing_key=restored_home.signing_key("broker"),
            database_url=fresh_url,
        )
    )
    try:
        channel = secure_channel(
            running.target, stack.home.tls("hrb.rsj"), server_name=BROKER_SERVER_NAME
        )
        hits = BrokerStubs.over(channel).catalogue.SearchCatalogue(
            catalogue_pb2.SearchCatalogueRequest(query="人口"), timeout=10
        )
        channel.close()
    finally:
        running.stop(0)
    assert "gat.population" in [h.code for h in hits.hits]


def test_restore_refuses_a_used_home_or_store(stack, tmp_path, capsys):
    backup = tmp_path / "b.tar.gz"
    home = str(stack.home.root)
    assert main(["backup", str(backup), "--home", home, "--database-url", stack.database_url]) == 0
    assert main(["backup", str(backup), "--home", home, "--database-url", stack.database_url]) == 2
    assert "exists" in capsys.readouterr().err
    argv = ["restore", str(backup), "--home", home, "--database-url", stack.database_url]
    assert main(argv) == 2
    assert "not empty: restore into a new home" in capsys.readouterr().err
    argv = [
        "restore",
        str(backup),
        "--home",
        str(tmp_path / "new"),
        "--database-url",
        stack.database_url,
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "already" in err and "restore into" in err


def test_backup_reads_home_and_store_from_the_brokers_config_file(stack, tmp_path, monkeypatch):
    monkeypatch.delenv("TONGDAO_DATABASE_URL", raising=False)
    config = tmp_path / "broker.toml"
    config.write_text(
        f'home = "{stack.home.root}"\ndatabase-url = "{stack.database_url}"\n'
        'listen = "0.0.0.0:7443"\n'
    )
    assert main(["backup", str(tmp_path / "c.tar.gz"), "--config", str(config)]) == 0
    with tarfile.open(tmp_path / "c.tar.gz") as tar:
        assert "home/parties/broker/signing.pub" in tar.getnames()
    config.write_text('database_url = "sqlite:///x.db"\n')
    assert main(["backup", str(tmp_path / "d.tar.gz"), "--config", str(config)]) == 2
