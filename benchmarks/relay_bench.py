"""The relay at line rate: authorised unary queries per second against a bare mTLS echo.

Starts a broker and the public-security bureau's node as ``tongdao … serve`` processes (SQLite by
default, PostgreSQL with ``--database-url``), issues grants to the human-resources bureau, and runs
one-key ``fetch`` and ``verify`` calls from consumer processes (``ConsumerClient``, as a department
would) at each concurrency for a fixed time. In the same run it measures the ceiling: a bare gRPC
mutual-TLS unary echo through one Python relay hop (client → relay → echo server), with the same
certificates, the same server thread pool and the messages of the measured fetch. Reported per
method and concurrency: queries/s, p50/p95/p99 latency, CPU per query of each process, the
servers' thread switches per query and the ratio to the echo at the same concurrency (one
measurement window: benchmarks/relay_measure.py), and the machine's CPU per thread hand-off.
Writes relay-bench.json, relay-bench.md and the plots to ``--out`` in the benchmarks' one report
format.

``--brokers 2`` (PostgreSQL) runs two broker processes on the one store, the consumers on a
round-robin channel over both. ``--grants N --log-entries N`` then seed the store in bulk and
measure again at concurrency 16 against the fresh store's rate; ``--soak SECONDS`` samples each
server process's memory over a long run (benchmarks/relay_growth.py).

Run:  tongdao bench relay [--concurrency 1,4,16,64] [--seconds 10] [--database-url URL]
      [--brokers 2] [--grants N] [--log-entries N] [--soak SECONDS] [--out DIR] [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tongdao.benchmarks import relay_budget
from tongdao.benchmarks import relay_growth as growth_mod
from tongdao.benchmarks import report as common
from tongdao.benchmarks.options import localised, relay_parser
from tongdao.benchmarks.relay_measure import ECHO, ECHO_METHOD, handoff_cpu_us, measure
from tongdao.benchmarks.relay_stack import (
    BENCH_BURST,
    BENCH_CALLS_PER_SECOND,
    METHODS,
    PURPOSE,
    RelayStack,
    message_sizes,
    start_stack,
    stop_stack,
    with_one_broker,
)
from tongdao.help_text import speaking
from tongdao.i18n import tr
from tongdao.proto.scheduling import SCHEDULING_ENV

# docs/benchmarks/relay.md: half the bare echo's rate, 1,000 queries/s, p99 within 50 ms
RATIO_TARGET = 0.5
QPS_TARGET = 1000.0
P99_TARGET_MS = 50.0


# ---------------------------------------------------------------- the echo: backend and relay hop


def serve_echo(home_root: str, party: str, upstream: str, reply_bytes: int) -> None:
    """Serve the echo (``upstream`` empty) or the relay hop to ``upstream``, until killed."""
    import grpc

    from tongdao.home import Home
    from tongdao.proto.memory import limit_arenas
    from tongdao.proto.scheduling import batch_scheduling
    from tongdao.proto.transport import new_server, secure_channel, server_credentials

    limit_arenas()  # set up as the broker's and the node's processes are
    batch_scheduling()
    home = Home(Path(home_root))
    reply = bytes(reply_bytes)
    if upstream:
        call = secure_channel(upstream, home.tls(party)).unary_unary(ECHO_METHOD)

        def handle(request: bytes, _context: Any) -> bytes:
            return call(request, timeout=30)  # type: ignore[no-any-return]
    else:

        def handle(request: bytes, _context: Any) -> bytes:
            return reply

    server = new_server()  # the broker's and the node's thread pool and message limits
    handler = grpc.method_handlers_generic_handler(
        "tongdao.bench.Echo", {"Call": grpc.unary_unary_rpc_method_handler(handle)}
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_secure_port("127.0.0.1:0", server_credentials(home.server_tls(party)))
    server.start()
    print(f"listening on 127.0.0.1:{port}", flush=True)
    server.wait_for_termination()


def _start_echo(args: list[str], cwd: Path) -> tuple[subprocess.Popen[str], str]:
    popen = subprocess.Popen(
        [sys.executable, "-m", "tongdao.benchmarks.relay_bench", "--serve-echo", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert popen.stdout is not None
    line = popen.stdout.readline()
    if "listening on" not in line:
        popen.kill()
        raise RuntimeError(f"echo server did not start: {line!r}")
    return popen, line.rsplit(" ", 1)[-1].strip()


def run(
    out: Path,
    *,
    concurrency: Sequence[int],
    seconds: float,
    database_url: str = "",
    grants: int = 2,
    log_entries: int = 0,
    brokers: int = 1,
    soak: float = 0.0,
    wait_rounds: bool = True,
    max_processes: int = 4,
    methods: Sequence[str] = METHODS,
    say: Callable[[str], None] = print,
    command: str = "tongdao bench relay",
) -> common.Report:
    """Run the relay and the echo at each concurrency (then, when asked, the soak and the grown
    store at one concurrency); write ``relay-bench.*`` to ``out``."""
    from tongdao.home import BROKER

    report = common.Report("relay", command, versions=common.versions("grpcio"))
    results: dict[str, Any] = {
        "store": "PostgreSQL" if database_url.startswith("postgresql") else "SQLite",
        "brokers": brokers,
        "grants_stored": 2,
        "runs": [],
        # before any server starts: the machine's own cost of one thread hand-off
        "handoff_cpu_us": handoff_cpu_us(),
        # and the cryptography one query needs, timed alone; with the cores, the target's budget
        "query_crypto_us": relay_budget.query_crypto_us(),
        "cores": report.machine["cores"],  # as the report's header states them
        # the brokers' rule file: the shipped one but for [rate_limits] (relay_stack.write_rules)
        "rate_limits": {"calls_per_second": BENCH_CALLS_PER_SECOND, "burst": BENCH_BURST},
    }
    report.detail = results
    grow = grants > 2 or log_entries > 0
    at = 16 if 16 in concurrency else max(concurrency)  # the soak's and the growth check's
    with tempfile.TemporaryDirectory(prefix="tongdao-relay-") as tmp:
        root = Path(tmp).resolve()
        stack = start_stack(root, database_url, brokers=brokers, say=say)
        echo_procs: list[subprocess.Popen[str]] = []
        try:
            home, person = stack.home, stack.person
            consumer = _consumer(stack)
            consumer.fetch(stack.tokens["fetch"], [person["id_number"]], ["name"], PURPOSE)
            sizes = results["message_bytes"] = message_sizes(stack.url)
            backend, backend_addr = _start_echo(
                [str(home.root), "hlj.gat", "", str(sizes["reply_bytes"])], root
            )
            echo_procs.append(backend)
            relay, relay_addr = _start_echo(
                [str(home.root), BROKER, backend_addr, str(sizes["reply_bytes"])], root
            )
            echo_procs.append(relay)
            base = {"home": str(home.root), "consumer": stack.consumer, "seconds": seconds}
            echo_servers = {"broker": relay.pid, "node": backend.pid}
            results["scheduling"] = scheduling_policies(
                {**stack.pids(), "echo relay": relay.pid, "echo server": backend.pid}
            )

            def tongdao(
                method: str, c: int, span: float = seconds, sampler: Any = None
            ) -> dict[str, Any]:
                spec = {
                    **base,
                    "kind": method,
                    "target": stack.target,  # every broker, round-robin
                    "token": stack.tokens[method],
                    "key": person["id_number"],
                    "name": person["name"],
                }
                spec["seconds"] = span
                row = measure(spec, c, max_processes, stack.pids(), sampler)
                row["brokers"] = brokers
                return row

            for c in concurrency:
                echo = measure(
                    {**base, "kind": ECHO, "target": relay_addr, **sizes},
                    c,
                    max_processes,
                    echo_servers,
                )
                results["runs"].append(echo)
                say(f"echo    c={c:<3} {echo['per_second']:8.1f}/s")
                for method in methods:
                    row = tongdao(method, c)
                    row["ratio_to_echo"] = row["per_second"] / max(echo["per_second"], 1e-9)
                    results["runs"].append(row)
                    say(
                        f"{method:7} c={c:<3} {row['per_second']:8.1f}/s "
                        f"p99 {row['latency_ms']['p99']:.0f} ms  {row['ratio_to_echo']:.2f}× echo"
                    )
            if brokers > 1:  # the same store and run with one broker: the reference
                one = with_one_broker(stack, lambda: [tongdao(m, at) for m in methods])
                for row in one:
                    say(f"1 broker {row['method']:7} c={at:<3} {row['per_second']:8.1f}/s")
                results["one_broker"] = one
            if soak > 0:
                say(f"soak: fetch at c={at} for {soak:.0f} s, sampling RSS each second")
                sampler = growth_mod.RssSampler(stack.pids())
                run_ = tongdao("fetch", at, soak, sampler)
                results["soak"] = {"run": run_, "memory": sampler.summary(soak)}
            if grow:
                # the fresh store's rate right before seeding: the reference, as warm as the grown
                fresh = [tongdao(method, at) for method in methods]
                for row in fresh:
                    say(f"fresh   {row['method']:7} c={at:<3} {row['per_second']:8.1f}/s")
                seeded, took = growth_mod.seed(stack, grants, log_entries, say, wait=wait_rounds)
                results["grants_stored"] = grants
                results["growth"] = {
                    **seeded, "seed_seconds": took, "fresh_runs": fresh, "runs": []
                }  # fmt: skip
                for method in methods:
                    row = tongdao(method, at)
                    results["growth"]["runs"].append(row)
                    say(f"grown   {method:7} c={at:<3} {row['per_second']:8.1f}/s")
        finally:
            for proc in echo_procs:
                proc.kill()
                proc.wait()
            stop_stack(stack)
        if grow:
            say("store growth: verifying the log (verify_ledger)")
            results["growth"]["verified"] = growth_mod.verify(stack)
    report.rows = report_rows(results)
    report.series = report_series(results)
    report.write(out, "relay-bench")
    return report


def _consumer(stack: RelayStack) -> Any:
    from tongdao.node.client import ConsumerClient

    home = stack.home
    return ConsumerClient(
        stack.target,
        home.tls(stack.consumer),
        home.encryption_keys(stack.consumer),
        stack.consumer,
        timeout=60,
    )


def scheduling_policies(pids: dict[str, int]) -> dict[str, str]:
    """Each process's Linux scheduling policy, as read from the running process."""
    names = {
        getattr(os, n): n
        for n in ("SCHED_OTHER", "SCHED_BATCH", "SCHED_IDLE", "SCHED_FIFO", "SCHED_RR")
        if hasattr(os, n)
    }
    out = {}
    for name, pid in pids.items():
        try:
            out[name] = names.get(os.sched_getscheduler(pid), "other")
        except (OSError, AttributeError):  # gone, or not Linux
            out[name] = "unknown"
    return out


def report_rows(results: dict[str, Any]) -> list[common.Row]:
    """The report's rows: the machine's cost of a thread hand-off, then per method and
    concurrency the rate, the latency, the CPU and the thread switches."""
    out = []
    if "handoff_cpu_us" in results:
        out.append(
            common.Row(
                "this machine, before the servers start",
                "CPU per thread hand-off",
                "µs",
                results["handoff_cpu_us"],
                note="two threads passing control through threading.Event; the servers' "
                "thread switches per query cost about this much each",
            )
        )
    out += relay_budget.crypto_row(results)
    if "rate_limits" in results:
        limits = results["rate_limits"]
        out.append(
            common.Row(
                "the brokers' rule file",
                "rate limit per department",
                "calls/s",
                limits["calls_per_second"],
                setting=True,
                note=f"the shipped default policy with [rate_limits] raised (burst "
                f"{limits['burst']:,}; shipped: 200 calls/s, burst 2,000, Art.38) so the one "
                "consumer department is not refused: the relay is measured, not the limiter",
            )
        )
    if "scheduling" in results:
        policies = results["scheduling"]
        out.append(
            common.Row(
                "the server processes (tongdao.proto.scheduling)",
                "under SCHED_BATCH",
                "processes",
                sum(1 for policy in policies.values() if policy == "SCHED_BATCH"),
                setting=True,
                note=", ".join(f"{name} {policy}" for name, policy in policies.items())
                + f"; the echo's processes as the broker's and the node's ({SCHEDULING_ENV})",
            )
        )
    echo = {r["concurrency"]: r for r in results["runs"] if r["method"] == ECHO}
    for r in results["runs"]:
        is_echo = r["method"] == ECHO
        label = "echo (bare mTLS, one relay hop)" if is_echo else r["method"]
        if not is_echo and r.get("brokers", 1) > 1:
            label += f", {r['brokers']} brokers (round-robin)"
        section = f"{label}, concurrency {r['concurrency']}"
        ref = None if is_echo else echo.get(r["concurrency"])
        lat = r["latency_ms"]
        out.append(
            common.Row(
                section,
                "queries/s",
                "queries/s",
                r["per_second"],
                reference="echo" if ref else "",
                reference_value=ref["per_second"] if ref else None,
                ratio=r.get("ratio_to_echo"),
                target=None if is_echo else common.Target(RATIO_TARGET, of="ratio"),
                note=f"{r['queries']:,} queries in {r['seconds']} s, {r['errors']} errors"
                + growth_mod.errors_note(r),
            )
        )
        out.append(
            common.Row(
                section, "latency p50", "ms", lat["p50"], lat.get("min"), lat.get("max"),
                note=f"p95 {common.fmt(lat['p95'])} ms",
            )
        )  # fmt: skip
        out.append(
            common.Row(
                section,
                "latency p99",
                "ms",
                lat["p99"],
                target=None if is_echo else common.Target(P99_TARGET_MS, at_most=True),
            )
        )
        cpu = r["cpu_ms_per_query"]
        switches = r.get("thread_switches_per_query", {})

        def shown(who: str, r: dict[str, Any] = r, is_echo: bool = is_echo) -> str:
            if is_echo:
                return {"broker": "relay", "node": "echo server"}.get(who, who)
            return "brokers (all)" if who == "broker" and r.get("brokers", 1) > 1 else who

        for who in ("broker", "node", "consumers"):
            out.append(common.Row(section, f"CPU per query, {shown(who)}", "ms", cpu[who]))
        for who in ("broker", "node"):
            if who in switches:
                name = f"thread switches per query, {shown(who)}"
                out.append(common.Row(section, name, "switches", switches[who]))
        for label in sorted(k for k in cpu if k.startswith("broker ")):  # each of several
            out.append(common.Row(section, f"CPU per query, {label}", "ms", cpu[label]))
    out += relay_budget.budget_rows(results, ratio_target=RATIO_TARGET)
    for r in results.get("one_broker", []):
        several = next(
            x for x in results["runs"]
            if x["method"] == r["method"] and x["concurrency"] == r["concurrency"]
        )  # fmt: skip
        out.append(
            common.Row(
                f"{r['method']}, {several['brokers']} brokers against 1, "
                f"concurrency {r['concurrency']}",
                "queries/s",
                "queries/s",
                several["per_second"],
                reference="1 broker, same store",
                reference_value=r["per_second"],
                note=f"1 broker: {r['queries']:,} queries in {r['seconds']} s, p99 "
                f"{common.fmt(r['latency_ms']['p99'])} ms (the others stopped, same run)",
            )
        )
    if "soak" in results:
        out += growth_mod.soak_rows(results["soak"])
    if "growth" in results:
        fresh = {r["method"]: r for r in results["growth"]["fresh_runs"]}
        out += growth_mod.growth_rows(results["growth"], fresh)
    return out


def report_series(results: dict[str, Any]) -> list[common.Series]:
    """Queries/s by concurrency, one curve per method and the echo."""
    curves = {}
    for method in (ECHO, *METHODS):
        points = [
            common.Point(r["concurrency"], r["per_second"])
            for r in results["runs"]
            if r["method"] == method
        ]
        if points:
            curves["bare mTLS echo, one relay hop" if method == ECHO else method] = points
    return [
        common.Series(
            "concurrency",
            f"relay throughput ({results['store']})",
            "concurrent callers",
            "queries per second",
            curves,
            targets=[("1,000 queries/s", QPS_TARGET)],
            log_y=True,
        )
    ]


def build_parser() -> argparse.ArgumentParser:
    """The benchmark's options, help in English (:func:`main` gives it in the run's locale)."""
    return relay_parser()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    with speaking(localised(parser, argv)):  # help, usage and errors in the run's language
        args = parser.parse_args(argv)
        levels, methods = ([], []) if args.serve_echo else _checked(parser, args)
    if args.serve_echo:  # a run's echo server, a process of its own
        home_root, party, upstream, reply = args.serve_echo
        serve_echo(home_root, party, upstream, int(reply))
        return 0
    seconds = args.seconds
    if args.quick:
        levels, seconds, methods = [1, 4], 1.5, ["fetch"]
    start = time.monotonic()

    def say(text: str) -> None:
        print(f"  {time.monotonic() - start:6.1f}s  {text}", file=sys.stderr, flush=True)

    report = run(
        Path(args.out),
        concurrency=levels,
        seconds=seconds,
        database_url=args.database_url,
        grants=args.grants,
        log_entries=args.log_entries,
        brokers=args.brokers,
        soak=args.soak,
        wait_rounds=not args.quick,
        max_processes=max(1, args.processes),
        methods=methods,
        say=say,
        command=common.command("relay", argv),
    )
    print(report.markdown())
    print(f"\nwrote {args.out}/relay-bench.json, relay-bench.md and the plots")
    return 0


def _checked(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> tuple[list[int], list[str]]:
    """The concurrency levels and methods asked for; argparse's error for a wrong option."""
    try:
        levels = [int(c) for c in args.concurrency.split(",")]
    except ValueError:
        parser.error(tr("--concurrency must be numbers like 1,4,16,64"))
    methods = [m for m in args.methods.split(",") if m]
    if any(m not in METHODS for m in methods) or not methods:
        parser.error(tr("--methods: choose from {choices}", choices=", ".join(METHODS)))
    if any(c < 1 or c > 256 for c in levels) or args.seconds <= 0 or args.grants < 2:
        parser.error(tr("--concurrency 1..256, --seconds > 0, --grants >= 2"))
    if args.log_entries < 0 or args.soak < 0 or not 1 <= args.brokers <= 8:
        parser.error(tr("--log-entries >= 0, --soak >= 0, --brokers 1..8"))
    if args.brokers > 1 and not args.database_url.startswith("postgresql"):
        parser.error(tr("--brokers 2 or more share one PostgreSQL store: give --database-url"))
    if args.database_url:
        _check_empty(parser, args.database_url)
    return levels, methods


def _check_empty(parser: argparse.ArgumentParser, url: str) -> None:
    """argparse's error unless ``url`` is an empty database the run can build its store in
    (a store already there would refuse the run's departments half-way)."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.exc import SQLAlchemyError

    try:
        engine = create_engine(url)
    except (SQLAlchemyError, ValueError) as exc:
        parser.error(tr("--database-url: not a database URL ({exc})", exc=type(exc).__name__))
    try:
        tables = inspect(engine).get_table_names()
    except SQLAlchemyError as exc:
        parser.error(tr("--database-url: cannot open the database ({exc})", exc=type(exc).__name__))
    finally:
        engine.dispose()
    if tables:
        parser.error(
            tr(
                "--database-url: the database already holds {count} tables; the benchmark "
                "builds a store of its own: give it an empty database",
                count=len(tables),
            )
        )


if __name__ == "__main__":
    raise SystemExit(main())
