"""A node's memory does not climb with its state: many reader threads over a grown table."""

import random
import threading
import uuid

from tongdao.node.state import NodeState

ROWS = 40_000
THREADS = 16


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def test_readers_on_many_threads_keep_the_memory_bounded_as_the_table_grows(tmp_path):
    state = NodeState(tmp_path)
    ids = [str(uuid.uuid4()) for _ in range(ROWS)]
    with state.connection() as db:  # a grown table, written in one transaction
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO answered_requests (request_id, grant_id, answered_at) VALUES (?, ?, ?)",
            [(i, "g-1", "2026-12-01 09:00:00.000000") for i in ids],
        )
        db.execute("COMMIT")
    before = _rss_mib()

    def reader(seed: int) -> None:
        pick = random.Random(seed)
        for _ in range(3_000):
            assert state.seen(pick.choice(ids))

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    grown = _rss_mib() - before
    state.close()
    # each thread's connection caches at most a quarter of a MiB of pages (2 MiB each, 32 MiB
    # in all, with SQLite's default)
    assert grown < 12, f"{grown:.1f} MiB more after {THREADS} readers"
