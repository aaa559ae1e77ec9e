"""One measurement window of the relay benchmark: closed-loop callers in consumer processes
(``ConsumerClient`` calls, or the bare echo's), and over the same window the CPU time and the
thread switches of each server process, read from /proc; and what one thread hand-off costs
this machine, to read those switches by."""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tongdao.benchmarks.relay_stack import PURPOSE

ECHO = "echo"
ECHO_METHOD = "/tongdao.bench.Echo/Call"


# ---------------------------------------------------------------- consumers (separate processes)


def consumer_process(
    spec: dict[str, Any], threads: int, ready: Any, go: Any, start_at: Any, results: Any
) -> None:
    """One consumer process: ``threads`` callers in a closed loop for ``spec['seconds']``."""
    from tongdao.home import Home

    home = Home(Path(spec["home"]))
    kind = spec["kind"]
    if kind == ECHO:
        from tongdao.proto.transport import secure_channel

        channel = secure_channel(spec["target"], home.tls(spec["consumer"]))
        call = channel.unary_unary(ECHO_METHOD)
        payload = bytes(spec["request_bytes"])

        def once() -> None:
            call(payload, timeout=60)
    else:
        from tongdao.node.client import ConsumerClient

        client = ConsumerClient(
            spec["target"],
            home.tls(spec["consumer"]),
            home.encryption_keys(spec["consumer"]),
            spec["consumer"],
            timeout=60,
        )
        token, key, name = spec["token"], spec["key"], spec["name"]
        if kind == "fetch":

            def once() -> None:
                client.fetch(token, [key], ["name"], PURPOSE)
        else:

            def once() -> None:
                client.verify(token, key, {"name": name}, PURPOSE)

    try:
        once()  # warm: channel, TLS session, imports
    except Exception as exc:  # the parent stops the run and says why
        ready.put(("failed", f"{type(exc).__name__}: {exc}"))
        return
    ready.put(("ready", os.getpid()))
    go.wait()
    begin = start_at.value
    end = begin + spec["seconds"]
    time.sleep(max(0.0, begin - time.time()))
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    reasons: dict[str, int] = {}

    def loop(n: int) -> None:
        while time.time() < end:
            t0 = time.perf_counter()
            try:
                once()
            except Exception as exc:
                errors[n] += 1
                reason = f"{type(exc).__name__}: {exc}"[:300]
                if reason in reasons or len(reasons) < 5:  # the first few kinds, counted
                    reasons[reason] = reasons.get(reason, 0) + 1
                continue
            latencies[n].append((time.perf_counter() - t0) * 1000)

    cpu0 = time.process_time()
    workers = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    results.put(
        {
            "latencies_ms": [x for lat in latencies for x in lat],
            "errors": sum(errors),
            "error_reasons": reasons,
            "cpu_seconds": time.process_time() - cpu0,
        }
    )


def _merged_reasons(parts: Sequence[dict[str, Any]]) -> dict[str, int]:
    """The consumers' error reasons with their counts, most frequent first."""
    merged: dict[str, int] = {}
    for part in parts:
        for reason, n in part.get("error_reasons", {}).items():
            merged[reason] = merged.get(reason, 0) + n
    return dict(sorted(merged.items(), key=lambda kv: -kv[1]))


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _thread_switches(pid: int) -> int:
    """Context switches (voluntary and not) of every thread process ``pid`` has now; a thread
    that ended since is not counted, so compare two readings of a steady server only."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/status") as f:
                for line in f:
                    name, _, value = line.partition(":")
                    if name.endswith("ctxt_switches"):  # voluntary_… and nonvoluntary_…
                        total += int(value)
        except (OSError, ValueError):
            continue  # the thread ended between the listing and the read
    return total


def _per_query(
    before: Mapping[str, float], after: Mapping[str, float], queries: float
) -> dict[str, float]:
    """Each server's reading grown over the window, per query; several brokers are also summed
    as ``broker``."""
    out = {label: max(0.0, after[label] - before[label]) / queries for label in before}
    if "broker" not in out:  # several brokers: each, and all of them
        out["broker"] = sum(v for label, v in out.items() if label.startswith("broker "))
    return out


def _percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(
    spec: dict[str, Any],
    concurrency: int,
    max_processes: int,
    servers: dict[str, int],
    sampler: Any = None,
) -> dict[str, Any]:
    """Run ``concurrency`` closed-loop callers spread over consumer processes; CPU of each
    server process (``servers``: label → pid; several brokers are also summed as ``broker``)
    over the same window, and ``sampler`` (started and stopped with the window) if given.
    A window in which no call ended at all (neither answered nor failed) is measured once
    more, and the row says so (``retried``)."""
    row = _measure(spec, concurrency, max_processes, servers, sampler)
    if row["queries"] == 0 and row["errors"] == 0:
        row = {**_measure(spec, concurrency, max_processes, servers, sampler), "retried": True}
    return row


def _measure(
    spec: dict[str, Any],
    concurrency: int,
    max_processes: int,
    servers: dict[str, int],
    sampler: Any = None,
) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    procs = min(concurrency, max_processes)
    split = [concurrency // procs + (1 if i < concurrency % procs else 0) for i in range(procs)]
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    start_at = ctx.Value("d", 0.0)
    children = [
        ctx.Process(target=consumer_process, args=(spec, n, ready, go, start_at, results))
        for n in split
    ]
    for child in children:
        child.start()
    for _ in children:
        state, detail = ready.get(timeout=180)
        if state != "ready":
            for child in children:
                child.terminate()
                child.join(timeout=30)
            raise RuntimeError(f"a consumer's first {spec['kind']} call failed: {detail}")
    start_at.value = time.time() + 0.3
    go.set()
    time.sleep(max(0.0, start_at.value - time.time()))
    cpu0 = {label: _cpu_seconds(pid) for label, pid in servers.items()}
    switches0 = {label: _thread_switches(pid) for label, pid in servers.items()}
    if sampler is not None:
        sampler.start()
    time.sleep(spec["seconds"])
    cpu1 = {label: _cpu_seconds(pid) for label, pid in servers.items()}
    switches1 = {label: _thread_switches(pid) for label, pid in servers.items()}
    if sampler is not None:
        sampler.stop()
    parts = [results.get(timeout=120) for _ in children]
    for child in children:
        child.join(timeout=30)
    latencies = [x for part in parts for x in part["latencies_ms"]]
    done = max(1, len(latencies))
    cpu = _per_query(cpu0, cpu1, done / 1000)  # ms
    cpu["consumers"] = sum(p["cpu_seconds"] for p in parts) * 1000 / done
    switches = _per_query(switches0, switches1, done)
    return {
        "method": spec["kind"],
        "concurrency": concurrency,
        "consumer_processes": procs,
        "seconds": spec["seconds"],
        "queries": len(latencies),
        "errors": sum(p["errors"] for p in parts),
        "error_reasons": _merged_reasons(parts),
        "per_second": len(latencies) / spec["seconds"],
        "latency_ms": {
            "min": min(latencies, default=0.0),
            "max": max(latencies, default=0.0),
            "p50": _percentile(latencies, 50),
            "p95": _percentile(latencies, 95),
            "p99": _percentile(latencies, 99),
        },
        "cpu_ms_per_query": cpu,
        # the servers' threads handing over to one another (and the GIL), per query
        "thread_switches_per_query": switches,
    }


def handoff_cpu_us(round_trips: int = 5000) -> float:
    """CPU microseconds one thread hand-off costs on this machine, for reading the thread
    switches per query: two threads of this process pass control back and forth through
    ``threading.Event`` (as a served call's threads do through queues and conditions), and the
    process's CPU time is divided by the hand-offs (two per round trip)."""
    ping, pong = threading.Event(), threading.Event()

    def other() -> None:
        for _ in range(round_trips):
            ping.wait()
            ping.clear()
            pong.set()

    partner = threading.Thread(target=other, name="handoff-partner")
    partner.start()
    cpu0 = time.process_time()
    for _ in range(round_trips):
        ping.set()
        pong.wait()
        pong.clear()
    cpu = time.process_time() - cpu0
    partner.join()
    return cpu / (2 * round_trips) * 1e6
