"""What threads that let go of the interpreter cost, and what taking turns saves.

Run: ``python -m tongdao.benchmarks.turns_evidence [--calls 4000] [--threads 1,4,16]``.

Each call is the shape of the relay's checks of a grant: a read-only SQLite transaction on a WAL
database (``BEGIN DEFERRED``, four indexed one-row reads, ``ROLLBACK``) with some tens of
microseconds of Python after each read, as a database layer runs. The sqlite3 module lets go of
the interpreter for every step, so with many threads each step may hand the interpreter to
another thread and queue to get it back. The script runs the same calls on 1, 4 and 16 threads,
free and in turns (:class:`tongdao.proto.turns.Turns`), interleaved, and prints the CPU per call
of the whole process and the thread switches per call of the calling threads.

The point of the script is the evidence behind docs/architecture.md ("Query calls take turns"):
it is a measurement, not a test, and it asserts only that every read found its row.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from tongdao.proto.turns import Turns

ROWS = 1000


def _prepare(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE grants (token TEXT PRIMARY KEY, consumer TEXT, used INTEGER)")
        db.executemany(
            "INSERT INTO grants VALUES (?, ?, ?)",
            [(f"token-{i}", f"dept-{i % 7}", i) for i in range(ROWS)],
        )


def _python_work(row: tuple[str, int]) -> int:
    """About as much pure Python as a database layer runs around one statement (building the
    statement's parameters and result objects): some tens of microseconds."""
    fields = {f"column_{i}": (row[0], row[1] + i) for i in range(60)}
    return sum(len(name) + value[1] for name, value in fields.items())


def measure(path: Path, threads: int, calls: int, turns: Turns | None) -> tuple[float, float]:
    """(CPU µs per call of the whole process, thread switches per call of the calling
    threads) of ``calls`` calls spread over ``threads`` threads."""
    per_thread = calls // threads
    ready = threading.Barrier(threads + 1)
    done = threading.Barrier(threads + 1)
    switched: list[int] = []

    def work() -> None:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        ready.wait()
        for i in range(per_thread):
            turn: AbstractContextManager[None] = turns.turn() if turns else nullcontext()
            with turn:
                db.execute("BEGIN DEFERRED")
                for k in range(4):
                    token = f"token-{(i * 4 + k) % ROWS}"
                    row = db.execute(
                        "SELECT consumer, used FROM grants WHERE token = ?", (token,)
                    ).fetchone()
                    assert row is not None
                    _python_work(row)
                db.execute("ROLLBACK")
        switched.append(_thread_switches())
        done.wait()
        db.close()

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    ready.wait()
    start = time.process_time()
    done.wait()
    cpu = time.process_time() - start
    for t in pool:
        t.join()
    served = per_thread * threads
    # each worker is a new thread: its own count, read as it finishes, is what its calls cost
    return cpu / served * 1e6, sum(switched) / served


def _thread_switches() -> int:
    """Voluntary and involuntary context switches of the calling thread so far."""
    with open("/proc/thread-self/status", encoding="ascii") as status:
        return sum(int(line.split()[1]) for line in status if "ctxt_switches" in line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=4000, help="calls per measurement")
    parser.add_argument("--threads", default="1,4,16", help="thread counts, comma-separated")
    args = parser.parse_args(argv)
    counts = [int(t) for t in args.threads.split(",")]
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="tongdao-turns-") as tmp:
        path = Path(tmp) / "store.db"
        _prepare(path)
        measure(path, 1, min(500, args.calls), None)  # warm the page cache
        print("threads  mode      CPU µs per call  thread switches per call")
        for threads in counts:
            for mode in ("free", "in turns", "free", "in turns"):
                turns = Turns() if mode == "in turns" else None
                cpu, switches = measure(path, threads, args.calls, turns)
                print(f"{threads:7d}  {mode:<8}  {cpu:15.0f}  {switches:24.1f}")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
