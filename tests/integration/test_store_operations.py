"""Running the broker's store: concurrent boots, timeouts, quiet errors, the db commands, ports."""

from __future__ import annotations

import threading
import time

import grpc
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

from tongdao.broker.kernel.db import current, make_engine, upgrade
from tongdao.ca_home import enrol_all_locally
from tongdao.cli import main
from tongdao.home import Home
from tongdao.proto.transport import bind, new_server


def test_brokers_booting_at_once_on_a_new_store_all_come_up(database_url):
    engines = [make_engine(database_url) for _ in range(4)]
    start = threading.Barrier(len(engines))
    failures: list[BaseException] = []

    def boot(engine) -> None:  # type: ignore[no-untyped-def]
        start.wait()
        try:
            upgrade(engine)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=boot, args=(e,), daemon=True) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not [t for t in threads if t.is_alive()], "a migration is stuck"
    assert failures == []
    revision, head = current(engines[0])
    assert revision == head and head
    for e in engines:
        e.dispose()


@pytest.mark.postgres
def test_postgres_statements_and_lock_waits_are_cut_off(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("statement and lock timeouts are PostgreSQL settings")
    engine = make_engine(database_url, statement_timeout_ms=300, lock_timeout_ms=300)
    began = time.monotonic()
    with pytest.raises(OperationalError, match="statement timeout"), engine.connect() as conn:
        conn.execute(text("SELECT pg_sleep(5)"))
    assert time.monotonic() - began < 3
    engine.dispose()
    engine = make_engine(database_url, statement_timeout_ms=5000, lock_timeout_ms=300)
    with engine.connect() as holder, engine.connect() as waiter:
        holder.execute(text("SELECT pg_advisory_lock(7)"))
        with pytest.raises(OperationalError, match="lock timeout"):
            waiter.execute(text("SELECT pg_advisory_lock(7)"))
        holder.execute(text("SELECT pg_advisory_unlock(7)"))
    # migrations are not cut off by either (a large store may take long to migrate)
    upgrade(engine)
    engine.dispose()


def test_errors_carry_no_sql_parameters(database_url):
    engine = make_engine(database_url)
    with pytest.raises(DBAPIError) as err, engine.connect() as conn:
        conn.execute(text("SELECT * FROM no_such_table WHERE v = :v"), {"v": "110101199003078888"})
    assert "110101199003078888" not in str(err.value)
    assert "hidden" in str(err.value)
    engine.dispose()


def run(capsys, *argv):
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_db_commands(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TONGDAO_DATABASE_URL", raising=False)
    code, _, err = run(capsys, "db", "current")
    assert code == 2 and "no store at" in err and "tongdao db upgrade" in err
    assert list(tmp_path.iterdir()) == []  # asking created nothing
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and "is at migration" in out
    code, out, _ = run(capsys, "db", "current")
    assert code == 0 and "up to date" in out
    url = "postgresql+psycopg://tongdao:hunter2@127.0.0.1:1/broker"
    code, _, err = run(capsys, "db", "current", "--database-url", url)
    assert code == 2 and "hunter2" not in err and len(err.strip().splitlines()) == 1
    assert "postgresql+psycopg://tongdao:***@127.0.0.1:1/broker" in err
    assert "database server is running" in err


def test_a_port_already_in_use_stops_start_up(tmp_path, capsys, monkeypatch):
    first = new_server()
    port = bind(first, "127.0.0.1:0", grpc.local_server_credentials())
    first.start()
    try:
        second = new_server()
        with pytest.raises(RuntimeError, match=f"127.0.0.1:{port}: the address is already in use"):
            bind(second, f"127.0.0.1:{port}", grpc.local_server_credentials())
        home = Home(tmp_path / "home")
        enrol_all_locally(home, tmp_path / "ca")
        monkeypatch.chdir(tmp_path)
        code, _, err = run(
            capsys, "broker", "serve", "--home", str(home.root), "--listen", f"127.0.0.1:{port}"
        )
        assert code == 2 and f"cannot listen on 127.0.0.1:{port}" in err
        code, _, err = run(
            capsys,
            *("broker", "serve", "--home", str(home.root), "--listen", f"127.0.0.1:{port}"),
            *("--locale", "zh-CN"),
        )
        assert code == 2 and f"无法在 127.0.0.1:{port} 监听：该地址已被占用" in err
        assert not (tmp_path / "tongdao-broker.db").exists()  # nothing created
    finally:
        first.stop(None)


def test_broker_commands_outside_a_home_create_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "broker", "serve", "--home", str(tmp_path / "nowhere"))
    assert code == 2 and "is not a Tongdao home" in err and "tongdao init" in err
    code, _, err = run(capsys, "db", "current", "--database-url", f"sqlite:///{tmp_path}/x.db")
    assert code == 2 and "no store at" in err
    assert list(tmp_path.iterdir()) == []
