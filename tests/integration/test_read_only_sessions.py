"""The relay's checks read beside a writer: a read-only session never waits for the write lock."""

import time

import pytest
from sqlalchemy import event, text

from tongdao.broker.kernel.db import handing_on_read, make_engine, read_only, session_factory


def test_a_read_only_session_reads_while_a_writer_holds_the_lock(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    with engine.begin() as conn:
        conn.execute(text("create table grants_seen (n integer)"))
        conn.execute(text("insert into grants_seen values (1)"))
    sessions = session_factory(engine)
    writer = sessions()
    writer.begin()
    writer.execute(text("insert into grants_seen values (2)"))  # holds SQLite's write lock
    started = time.monotonic()
    with read_only(sessions) as session:
        # the committed snapshot, at once (a write transaction would wait up to 30 s)
        assert session.execute(text("select count(*) from grants_seen")).scalar_one() == 1
    assert time.monotonic() - started < 5
    writer.commit()
    with read_only(sessions) as session:
        session.execute(text("delete from grants_seen"))  # not kept: rolled back at the end
    with read_only(sessions) as session:
        assert session.execute(text("select count(*) from grants_seen")).scalar_one() == 2
    engine.dispose()


def _begins(engine):
    """A list that gains one item per transaction the engine begins."""
    begun: list[int] = []
    event.listen(engine, "begin", lambda conn: begun.append(1))
    return begun


def test_a_call_s_checks_and_its_handler_s_first_reads_are_one_read_transaction(database_url):
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("create table grants_seen (n integer)"))
        conn.execute(text("insert into grants_seen values (1)"))
    sessions, other = session_factory(engine), session_factory(engine)
    begun = _begins(engine)
    with handing_on_read(sessions) as checks:
        assert checks.execute(text("select count(*) from grants_seen")).scalar_one() == 1
        with read_only(sessions) as handler:
            assert handler is checks  # goes on with the checks' snapshot
            handler.execute(text("delete from grants_seen"))
        assert not checks.in_transaction()  # ended with the handler's read, not the call
        with read_only(sessions) as later:  # a later read is a transaction of its own
            assert later is not checks
            assert later.execute(text("select count(*) from grants_seen")).scalar_one() == 1
        with read_only(other) as elsewhere:  # another store's sessions never take it
            assert elsewhere is not checks
    assert len(begun) == 3
    assert engine.pool.checkedout() == 0  # every connection went back


def test_a_handed_on_read_no_handler_takes_ends_with_the_call(database_url):
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    with handing_on_read(sessions) as checks:
        checks.execute(text("select 1"))
        assert engine.pool.checkedout() == 1
    assert not checks.in_transaction()
    assert engine.pool.checkedout() == 0
    with pytest.raises(RuntimeError), handing_on_read(sessions):
        raise RuntimeError("the handler failed")
    assert engine.pool.checkedout() == 0


def test_a_server_s_engine_keeps_a_connection_for_every_serving_thread(tmp_path):
    # the broker passes its thread count: no call opens and closes a connection of its own
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}", pool_size=38)
    held = [engine.connect() for _ in range(38)]
    for connection in held:
        connection.close()
    assert engine.pool.checkedin() == 38  # all kept open, none closed on return
    engine.dispose()
