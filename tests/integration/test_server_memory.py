"""A server process's memory does not climb while it serves: allocator arenas are capped, and the
broker's store connections and the node's state connections keep a small page cache each."""

import os
import random
import subprocess
import sys
import textwrap
import threading
import uuid

import pytest
from sqlalchemy import text

from tongdao.broker.kernel.db import make_engine
from tongdao.node.state import NodeState
from tongdao.proto.memory import limit_arenas

THREADS = 16
ROWS = 60_000
NODE_ROWS = 40_000

# sixteen threads alive at once, each allocating: glibc gives each an arena of its own, up to
# eight per core; the child prints how many arenas its allocator then has
_ARENAS_CHILD = textwrap.dedent(
    """
    import ctypes, sys, threading
    from tongdao.proto.memory import limit_arenas
    if sys.argv[1] == "capped":
        assert limit_arenas()
    keep, barrier = [], threading.Barrier(16)
    def work():
        keep.append(bytearray(4000))  # above Python's small-object sizes: glibc's malloc
        barrier.wait()
    threads = [threading.Thread(target=work) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ctypes.CDLL(None).malloc_stats()  # one "Arena N:" block per arena, on stderr
    """
)


def _arenas(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run(
        [sys.executable, "-c", _ARENAS_CHILD, mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return sum(1 for line in done.stderr.splitlines() if line.startswith("Arena "))


glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="allocator arenas are glibc's (Linux)",
)


@glibc
def test_a_server_process_allocates_from_two_arenas_however_many_threads_it_runs():
    assert _arenas("capped") == 2
    # the same threads without the cap: one arena each, up to glibc's limit (8 per core)
    assert _arenas("default") > 2


def test_an_operators_own_arena_setting_is_left_to_glibc(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_arenas() is False
    with pytest.raises(ValueError):
        limit_arenas(0)


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def _growth_mib(reader) -> float:
    """Resident memory gained while ``THREADS`` threads each run ``reader(seed)`` at once; a
    reader's failure fails the test."""
    before = _rss_mib()
    failures: list[BaseException] = []

    def guarded(seed: int) -> None:
        try:
            reader(seed)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    return _rss_mib() - before


def test_broker_connections_on_many_threads_keep_the_memory_bounded_as_the_store_grows(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'broker.db'}", pool_size=THREADS + 2)
    keys = [str(uuid.uuid4()) for _ in range(ROWS)]
    with engine.begin() as db:  # a grown table (≈ 12 MiB with its index), in one transaction
        db.execute(text("CREATE TABLE grown (key VARCHAR(36) PRIMARY KEY, body VARCHAR(120))"))
        db.execute(
            text("INSERT INTO grown (key, body) VALUES (:key, :body)"),
            [{"key": k, "body": "x" * 120} for k in keys],
        )

    def reader(seed: int) -> None:
        pick = random.Random(seed)
        with engine.connect() as db:  # a connection of its own, as a request thread has
            for _ in range(3_000):
                found = db.execute(
                    text("SELECT body FROM grown WHERE key = :key"), {"key": pick.choice(keys)}
                ).scalar()
                assert found is not None

    grown = _growth_mib(reader)
    engine.dispose()
    # each connection caches at most half a MiB of pages (2 MiB each, 32 MiB in all, with
    # SQLite's default)
    assert grown < 16, f"{grown:.1f} MiB more after {THREADS} connections read"


def test_node_readers_on_many_threads_keep_the_memory_bounded_as_the_table_grows(tmp_path):
    state = NodeState(tmp_path)
    ids = [str(uuid.uuid4()) for _ in range(NODE_ROWS)]
    with state.connection() as db:  # a grown table, written in one transaction
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO answered_requests (request_id, grant_id, answered_at) VALUES (?, ?, ?)",
            [(i, "g-1", "2026-12-01 09:00:00.000000") for i in ids],
        )
        db.execute("COMMIT")

    def reader(seed: int) -> None:
        pick = random.Random(seed)
        for _ in range(3_000):
            assert state.seen(pick.choice(ids))

    grown = _growth_mib(reader)
    state.close()
    # each thread's connection caches at most a quarter of a MiB of pages (2 MiB each, 32 MiB
    # in all, with SQLite's default)
    assert grown < 12, f"{grown:.1f} MiB more after {THREADS} readers"
