"""The relay's checks read beside a writer: a read-only session never waits for the write lock."""

import time

from sqlalchemy import text

from tongdao.broker.kernel.db import make_engine, read_only, session_factory


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
