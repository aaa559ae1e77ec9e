"""The relay benchmark's long-run checks: the rate on a grown store against the fresh one, and
each server process's memory over a soak run.

* **store growth** — after the sweep, the rate is measured on the fresh store at one
  concurrency, the store is seeded in bulk (``--grants`` grants and ``--log-entries`` ledger
  entries, the log still one chain that verifies), the brokers' next ledger round takes the
  seeded entries in (timed: a row), and the rate is measured again, in the same run: the row's
  ratio is to the fresh store's rate just before, target ≥ 0.9×. The seeded log
  is then verified (``verify_ledger``) and that is a row too.
* **soak** — ``--soak SECONDS`` of fetches at one concurrency while every server process's
  resident memory (RSS) is sampled each second; the row compares the last minute's mean with the
  first minute's (a third of the run each when it is shorter than three minutes): "flat" is
  within :data:`FLAT` of it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

from tongdao.benchmarks import report as common


def errors_note(run: dict[str, Any]) -> str:
    """What the most frequent of a run's failed calls said, for the row's note ("" if none)."""
    reasons = run.get("error_reasons") or {}
    if not reasons:
        return ""
    reason, count = next(iter(reasons.items()))
    return f" (most: {count:,} × {reason})"


GROWTH_TARGET = 0.9  # the grown store's rate, as a ratio of the fresh store's
FLAT = 1.05  # memory "flat": the last minute's RSS within 5% of the first minute's
SAMPLE_SECONDS = 1.0


def rss_mib(pid: int) -> float:
    """A process's resident set size, MiB (``VmRSS`` of /proc)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class RssSampler:
    """Samples each process's RSS every second between :meth:`start` and :meth:`stop`."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.samples: dict[str, list[tuple[float, float]]] = {label: [] for label in pids}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0

    def start(self) -> None:
        """Start sampling afresh (what an earlier start sampled is dropped)."""
        self.samples = {label: [] for label in self.pids}
        self._stop.clear()
        self._t0 = time.monotonic()

        def loop() -> None:
            while not self._stop.is_set():
                at = time.monotonic() - self._t0
                for label, pid in self.pids.items():
                    with contextlib.suppress(OSError):  # the process has ended
                        self.samples[label].append((at, rss_mib(pid)))
                self._stop.wait(SAMPLE_SECONDS)

        self._thread = threading.Thread(target=loop, name="rss-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def summary(self, seconds: float) -> dict[str, Any]:
        """Per process: the first and last window's mean RSS, the growth and the samples."""
        window = min(60.0, seconds / 3)
        out: dict[str, Any] = {"window_seconds": window, "processes": {}}
        for label, points in self.samples.items():
            first = [m for at, m in points if at <= window]
            last = [m for at, m in points if at >= seconds - window]
            if not first or not last:
                continue
            a, b = sum(first) / len(first), sum(last) / len(last)
            out["processes"][label] = {
                "first_mib": a,
                "last_mib": b,
                "min_mib": min(m for _, m in points),
                "max_mib": max(m for _, m in points),
                "growth_mib": b - a,
                "samples": [[round(at, 1), round(m, 2)] for at, m in points],
            }
        return out


def soak_rows(soak: dict[str, Any]) -> list[common.Row]:
    """One row per server process: last window's RSS against the first's, target flat."""
    run = soak["run"]
    window = soak["memory"]["window_seconds"]
    span = "minute" if window >= 60 else f"{window:.0f} s"
    section = f"soak: {run['method']}, concurrency {run['concurrency']}, {run['seconds']:.0f} s"
    rows = [
        common.Row(
            section,
            "queries/s",
            "queries/s",
            run["per_second"],
            note=f"{run['queries']:,} queries, {run['errors']} errors" + errors_note(run),
        )
    ]
    for label, p in soak["memory"]["processes"].items():
        rows.append(
            common.Row(
                section,
                f"RSS {label}, last {span}",
                "MiB",
                p["last_mib"],
                p["min_mib"],
                p["max_mib"],
                reference=f"first {span}",
                reference_value=p["first_mib"],
                target=common.Target(FLAT, at_most=True, of="ratio"),
                note=f"target flat (within {FLAT - 1:.0%}); growth {p['growth_mib']:+.1f} MiB",
            )
        )
    return rows


def growth_rows(growth: dict[str, Any], fresh: dict[str, dict[str, Any]]) -> list[common.Row]:
    """The grown store's rate against the fresh store's (same run, same concurrency), and
    whether the seeded log verifies."""
    rows = []
    stored = f"{growth['grants']:,} grants and {growth['log_entries']:,} log entries stored"
    for r in growth["runs"]:
        ref = fresh.get(r["method"])
        brokers = f", {r['brokers']} brokers" if r.get("brokers", 1) > 1 else ""
        rows.append(
            common.Row(
                f"{r['method']}{brokers}, concurrency {r['concurrency']}, {stored}",
                "queries/s",
                "queries/s",
                r["per_second"],
                reference="fresh store" if ref else "",  # measured just before seeding
                reference_value=ref["per_second"] if ref else None,
                target=common.Target(GROWTH_TARGET, of="ratio"),
                note=f"{r['queries']:,} queries in {r['seconds']} s, {r['errors']} errors"
                + errors_note(r)
                + "; "
                f"p99 {common.fmt(r['latency_ms']['p99'])} ms",
            )
        )
    check = growth["verified"]
    rows.append(
        common.Row(
            f"store growth: {stored}",
            "log verified (verify_ledger)",
            "entries",
            check["entries"] if check["ok"] else 0,
            target=common.Target(check["head_length"]),
            note=(
                f"one chain, head signature good, in {check['seconds']:.0f} s"
                if check["ok"]
                else f"does not verify: {check['problem']}"
            ),
        )
    )
    waited = growth.get("round_catch_up_seconds")
    rows.append(
        common.Row(
            f"store growth: {stored}",
            "first ledger round after seeding",
            "s",
            waited if waited is not None else 0.0,
            note="from the end of seeding until misuse detection had read every seeded entry "
            "(rounds every minute; SQLite: relayed queries wait while it holds the write lock)"
            if waited is not None
            else "not waited for (--quick)"
            if not growth.get("waited", True)
            else "did not catch up within 600 s",
        )
    )
    rows.append(
        common.Row(
            f"store growth: {stored}",
            "seeding time",
            "s",
            growth["seed_seconds"],
            note="grants and entries written in bulk before the second measurement",
        )
    )
    return rows


def seed(
    stack: Any, grants: int, log_entries: int, say: Any, *, wait: bool = True
) -> tuple[dict[str, Any], float]:
    """Seed the running stack's store to ``grants`` grants in all and ``log_entries`` more
    entries, then (``wait``) wait for the brokers' ledger round to take them in; returns what
    is stored and the seconds seeding took."""
    from tongdao.benchmarks.relay_stack import seed_grants, seed_log
    from tongdao.home import BROKER

    key = stack.home.signing_key(BROKER)
    t0 = time.perf_counter()
    subjects = [stack.grant_ids["fetch"]]
    others = grants - len(stack.grant_ids)
    if others > 0:
        say(f"store growth: seeding {others:,} grants")
        subjects = seed_grants(stack.url, stack.grant_ids["fetch"], others, key)
    length = 0
    if log_entries > 0:
        say(f"store growth: seeding {log_entries:,} log entries")
        length = seed_log(stack.url, log_entries, key, subjects, say)
    took = time.perf_counter() - t0
    caught_up = None
    if wait:
        say("store growth: waiting for the brokers' ledger round to take in the seeded entries")
        caught_up = wait_for_rounds(stack.url, length)
    return {
        "grants": grants,
        "log_entries": log_entries,
        "log_length_seeded": length,
        "round_catch_up_seconds": caught_up,
        "waited": wait,
    }, took


def wait_for_rounds(url: str, length: int, timeout: float = 600.0) -> float | None:
    """Wait until misuse detection's scan (a ledger round) has read the log to ``length``, so
    the grown store is measured as it runs, not while a round takes in the bulk; returns the
    seconds waited (None: not within ``timeout``)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    t0 = time.perf_counter()
    try:
        while time.perf_counter() - t0 < timeout:
            with engine.connect() as db:
                done = db.execute(text("select max(last_sequence) from misuse_scan_cursors"))
                if (done.scalar() or 0) >= length:
                    return time.perf_counter() - t0
            time.sleep(1.0)
    finally:
        engine.dispose()
    return None


def verify(stack: Any) -> dict[str, Any]:
    """verify_ledger over the stack's store (its brokers stopped), timed."""
    from tongdao.benchmarks.relay_stack import verify_store
    from tongdao.crypto.signing import VerifyKey
    from tongdao.home import BROKER

    key = VerifyKey(stack.home.signing_key(BROKER).verify_key.public_key)
    t0 = time.perf_counter()
    result = verify_store(stack.url, key)
    return {**result, "seconds": time.perf_counter() - t0}
