"""Query engines at provincial scale, through real processes: PSI, intersection-sum, aggregate.

What a security team or an operator runs to see the engines at the sizes the regulation's users
have (10⁶ records, eight cities): a broker process, the tax bureau's node and eight city
civil-affairs nodes, each a ``tongdao … serve`` process with mutual TLS on loopback, and the
consumer (人社) in this process using the SDK exactly as a department would.

* **intersection (size only)**: ``--keys`` consumer ID numbers × ``--rows`` tax records (half
  of the consumer's keys are taxpayers), streamed through the broker (``QueryStream``).
* **intersection-sum**: the same sets; the consumer learns the size and the income total. Every
  provider row comes back as a selection record with its zero-knowledge 0/1 proof, which the
  provider verifies (docs/privacy.md): the proofs are most of the time.
  Both answers are checked against the plaintext computed here.
* **aggregate**: ``--nodes`` city nodes × ``--agg-rows`` households each, packed Paillier,
  added by the broker. Checked against the plaintext.

Reported: wall time, bytes on the wire each way (counted at the consumer's channel), CPU seconds
and peak memory during the run (VmHWM, reset at its start and sampled every 0.2 s) of every
process that takes part, worker pools included. The providers keep their records in SQLite
tables (``sql:`` sources), as a department with 10⁶ records would, so a node streams its rows
instead of holding a CSV in memory.

Run:  tongdao bench engines [--keys 1000000] [--rows 1000000] [--nodes 8] [--agg-rows 1000000]
      [--engines intersection_size,intersection_sum,aggregate] [--out DIR] [--quick]
"""

from __future__ import annotations

import argparse
import random
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from tongdao.benchmarks import report as common
from tongdao.benchmarks.engines_probes import ProcessSampler, WireCounter, process_rows
from tongdao.benchmarks.options import add_locale, localised
from tongdao.help_text import speaking
from tongdao.i18n import tr

ENGINES = ("intersection_size", "intersection_sum", "aggregate")
PURPOSE = "城乡最低生活保障资格审核"
# docs/benchmarks/engines.md: the aggregate over 8 nodes × 10⁶ rows within a minute
AGGREGATE_AT = (8, 1_000_000)
AGGREGATE_TARGET_SECONDS = 60.0
SCENARIO = "低保申请人收入核对（基准测试）"
BASIS = "《社会救助暂行办法》第十一条"


# ---------------------------------------------------------------- memory and CPU of every process


def _id_number(i: int) -> str:
    # 18 characters like a resident ID number (region, birth date, sequence); synthetic
    return f"2301{i % 100:02d}19{i // 100:010d}"


def _write_table(path: Path, table: str, columns: list[str], rows: Any) -> None:
    con = sqlite3.connect(path)
    con.execute(f"create table {table} ({', '.join(c + ' text' for c in columns)})")
    marks = ", ".join("?" for _ in columns)
    con.executemany(f"insert into {table} values ({marks})", rows)  # noqa: S608 - fixed names
    con.commit()
    con.close()


def _node_config(home: Path, code: str, entry: str, key: str, db: Path, table: str) -> str:
    from tongdao.demo import grades_of

    grades = "\n".join(f'{k} = "{v}"' for k, v in grades_of(entry).items())
    return (
        f'department = "{code}"\nhome = "{home}"\nlisten = "127.0.0.1:0"\n'
        f'state_dir = "state-{code}"\n\n[[entries]]\ncode = "{entry}"\n'
        f'source = "sql:sqlite:///{db}#{table}"\nkey_field = "{key}"\n\n'
        f"[entries.grades]\n{grades}\n"
    )


# ---------------------------------------------------------------- the run


def run(
    out: Path,
    *,
    keys: int,
    rows: int,
    nodes: int,
    agg_rows: int,
    engines: Sequence[str] = ENGINES,
    say: Callable[[str], None] = print,
) -> common.Report:
    """Start the processes, run the engines, check them, write ``engines-bench.*``.

    Returns:
        The report (also written to ``out``): rows, and the raw runs under ``detail``.
    """
    from tongdao.ca_home import CaHome
    from tongdao.commands.catalogue import entry_from_dict
    from tongdao.demo import CITY_MZJ, ENTRIES, RSJ, SW, _start_all, _stop, city_entry
    from tongdao.home import AUTHORITY, BROKER, Home
    from tongdao.node.client import ConsumerClient
    from tongdao.progress import Progress
    from tongdao.proto.stubs import BrokerStubs
    from tongdao.proto.transport import secure_channel
    from tongdao.v1 import catalogue_pb2, directory_pb2, sharing_pb2

    cities = CITY_MZJ[:nodes] if "aggregate" in engines and agg_rows else []
    report = common.Report("engines", common.command("engines"), versions=common.versions())
    results: dict[str, Any] = {"runs": []}
    report.detail = results
    with tempfile.TemporaryDirectory(prefix="tongdao-scale-") as tmp:
        root = Path(tmp).resolve()
        # one folder stands in for every party's machine; each is enrolled through the CA
        home = Home(root / "home")
        ca = CaHome(root / "ca")
        ca.init()
        loopback = ("127.0.0.1",)
        ca.enrol_locally(home, BROKER, role="broker", server_names=loopback)
        ca.enrol_locally(home, AUTHORITY, role="administrator")
        for profile in (SW, RSJ, *cities):
            ca.enrol_locally(
                home, profile.code, role="department", profile=profile, server_names=loopback
            )
        ca.publish_to(home)

        say(f"data: {rows:,} tax records, {nodes} cities × {agg_rows:,} households")
        rng = random.Random(6)
        incomes = [rng.randrange(1_000_000, 50_000_000) for _ in range(rows)]  # cents
        _write_table(
            root / "sw.db",
            "income",
            ["id_number", "annual_income", "tax_year"],
            ((_id_number(i), f"{v // 100}.{v % 100:02d}", "2025") for i, v in enumerate(incomes)),
        )
        # the consumer's applicants: the second half of the taxpayers, then non-taxpayers
        first = rows // 2
        applicants = [_id_number(i) for i in range(first, first + keys)]
        expected_size = max(0, min(rows, first + keys) - first)
        expected_sum = Decimal(sum(incomes[first : first + expected_size])).scaleb(-2)
        del incomes
        # the plaintext answer, accumulated as the rows are written (not kept: the consumer's
        # peak memory is reported, and the benchmark's own copy of 8 × 10⁶ rows is not the SDK's)
        allowance_count = allowance_total = 0
        for n, profile in enumerate(cities):
            city_rng = random.Random(n)
            values = [city_rng.randrange(6000, 240000) for _ in range(agg_rows)]
            allowance_count += len(values)
            allowance_total += sum(values)
            _write_table(
                root / f"{profile.code}.db",
                "households",
                ["household_id", "district", "members", "monthly_allowance"],
                (
                    (f"{profile.region}-{i:07d}", profile.region[:4] + "01", "2",
                     f"{v // 100}.{v % 100:02d}")
                    for i, v in enumerate(values)
                ),
            )  # fmt: skip
        served = [(SW, "sw.income", "id_number", "sw.db", "income")] + [
            (p, city_entry(p)["code"], "household_id", f"{p.code}.db", "households") for p in cities
        ]
        for profile, entry, key, db, table in served:
            (root / f"node-{profile.code}.toml").write_text(
                _node_config(home.root, profile.code, entry, key, root / db, table)
            )
        processes: list[Any] = []
        sampler = ProcessSampler().start()
        try:
            broker_args = ["broker", "serve", "--home", str(home.root), "--listen", "127.0.0.1:0"]
            broker_args += ["--metrics-listen", "127.0.0.1:0"]  # a free port: never collide
            specs = [("broker", broker_args)] + [
                (f"node-{p.code}", ["node", "serve", "--config", f"node-{p.code}.toml"])
                for p, *_ in served
            ]
            _start_all(specs, root, processes)
            broker = processes[0].address
            endpoints = {p.name.removeprefix("node-"): p.address for p in processes[1:]}
            authority = BrokerStubs.over(secure_channel(broker, home.tls(AUTHORITY)))
            for profile in (SW, RSJ, *cities):
                authority.directory.RegisterDepartment(
                    directory_pb2.RegisterDepartmentRequest(
                        department=directory_pb2.Department(
                            code=profile.code, node_endpoint=endpoints.get(profile.code, "")
                        ),
                        # the broker takes the profile and both keys from the CA-signed certificate
                        certificate_pem=home.tls(profile.code).certificate_pem,
                    ),
                    timeout=10,
                )
            for _, entry, *_ in served:
                data = ENTRIES[entry]
                provider = BrokerStubs.over(secure_channel(broker, home.tls(data["provider"])))
                provider.catalogue.CreateCatalogueEntry(
                    catalogue_pb2.CreateCatalogueEntryRequest(entry=entry_from_dict(data)),
                    timeout=10,
                )
                provider.catalogue.SubmitCatalogueEntry(
                    catalogue_pb2.SubmitCatalogueEntryRequest(code=entry), timeout=10
                )
                authority.catalogue.PublishCatalogueEntry(
                    catalogue_pb2.PublishCatalogueEntryRequest(code=entry, comment="ok"), timeout=10
                )
            wire = WireCounter()
            client = wire.client(
                ConsumerClient,
                broker,
                home.tls(RSJ.code),
                home.encryption_keys(RSJ.code),
                RSJ.code,
                timeout=600,
            )
            sw = BrokerStubs.over(secure_channel(broker, home.tls(SW.code)))

            # ---- intersection, size only
            if "intersection_size" in engines and keys and rows:
                req = client.file_share_request(
                    "sw.income", ["id_number"], ["intersection_size"], PURPOSE, SCENARIO, BASIS
                )
                sw.sharing.DecideShareRequest(
                    sharing_pb2.DecideShareRequestRequest(id=req.id, approve=True, reason="基准"),
                    timeout=10,
                )
                token = client.get_grant(client.get_share_request(req.id).grant_id).token
                say(f"intersection (size): {keys:,} consumer keys × {rows:,} provider rows")
                sampler.reset()
                wire.take()
                start = time.perf_counter()
                with Progress("intersection (size)") as progress:
                    answer = client.intersection(
                        token, applicants, "id_number", PURPOSE, progress=progress
                    )
                seconds = time.perf_counter() - start
                sampler.stop()
                ok = answer["size"] == expected_size
                results["runs"].append(
                    {
                        "engine": "intersection_size",
                        "consumer_keys": keys,
                        "provider_rows": rows,
                        "seconds": round(seconds, 1),
                        "correct": ok,
                        "answer": {"size": answer["size"]},
                        **wire.take(),
                        "processes": process_rows(
                            sampler, ["broker", "consumer", f"node {SW.code}"]
                        ),
                    }
                )
                say(f"  {seconds:.1f} s, correct={ok}")
                # the same sizes through bare primitives, in this run: the load hits both alike
                from tongdao.benchmarks.psi_reference import reference_psi

                say("  reference: bare two-party PSI of the same sizes, no network or protocol")
                reference = reference_psi(keys, rows, expected_size)
                reference["ratio"] = round(seconds / max(reference["seconds"], 0.1), 2)
                results["runs"][-1]["reference"] = reference
                say(f"  reference {reference['seconds']} s: engine/reference {reference['ratio']}×")
                sampler = ProcessSampler().start()

            # ---- intersection-sum
            if "intersection_sum" in engines and keys and rows:
                req = client.file_share_request(
                    "sw.income", ["annual_income"], ["intersection_sum"], PURPOSE, SCENARIO, BASIS
                )
                sw.sharing.DecideShareRequest(
                    sharing_pb2.DecideShareRequestRequest(id=req.id, approve=True, reason="基准"),
                    timeout=10,
                )
                token = client.get_grant(client.get_share_request(req.id).grant_id).token
                say(f"intersection-sum: {keys:,} consumer keys × {rows:,} provider rows")
                sampler.reset()
                wire.take()
                start = time.perf_counter()
                with Progress("intersection-sum") as progress:
                    answer = client.intersection_sum(
                        token, applicants, "annual_income", PURPOSE, progress=progress
                    )
                seconds = time.perf_counter() - start
                sampler.stop()
                ok = answer["size"] == expected_size and answer["sum"] == expected_sum
                results["runs"].append(
                    {
                        "engine": "intersection_sum",
                        "consumer_keys": keys,
                        "provider_rows": rows,
                        "seconds": round(seconds, 1),
                        "correct": ok,
                        "answer": {"size": answer["size"], "sum": str(answer["sum"])},
                        **wire.take(),
                        "processes": process_rows(
                            sampler, ["broker", "consumer", f"node {SW.code}"]
                        ),
                    }
                )
                say(f"  {seconds:.1f} s, correct={ok}")
                sampler = ProcessSampler().start()

            # ---- aggregate
            if "aggregate" in engines and nodes and agg_rows:
                tokens = []
                for profile in cities:
                    r = client.file_share_request(
                        city_entry(profile)["code"],
                        ["monthly_allowance"],
                        ["aggregate"],
                        PURPOSE,
                        SCENARIO,
                        BASIS,
                    )
                    tokens.append(client.get_grant(r.grant_id).token)
                say(f"aggregate: {nodes} nodes × {agg_rows:,} rows")
                sampler.reset()
                wire.take()
                start = time.perf_counter()
                answer = client.aggregate(
                    tokens,
                    "monthly_allowance",
                    PURPOSE,
                    bounds=(0, 3000),
                    buckets=[0, 300, 600, 900, 1200, 3000],
                )
                seconds = time.perf_counter() - start
                sampler.stop()
                total = Decimal(allowance_total).scaleb(-2)
                ok = answer["count"] == allowance_count and answer["sum"] == total
                results["runs"].append(
                    {
                        "engine": "aggregate",
                        "nodes": nodes,
                        "rows_per_node": agg_rows,
                        "seconds": round(seconds, 1),
                        "correct": ok,
                        "answer": {"count": answer["count"], "sum": str(answer["sum"])},
                        **wire.take(),
                        # the tax bureau's node is running but takes no part in the aggregate
                        "processes": process_rows(
                            sampler, ["broker", "consumer", *(f"node {p.code}" for p in cities)]
                        ),
                    }
                )
                say(f"  {seconds:.1f} s, correct={ok}")
            client.close()
        finally:
            sampler.stop()
            _stop(processes)
    results["consumer_peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    report.rows = report_rows(results)
    report.write(out, "engines-bench")
    return report


def _size(r: dict[str, Any]) -> str:
    if r["engine"] == "aggregate":
        return f"{r['nodes']} nodes × {r['rows_per_node']:,} rows"
    return f"{r['consumer_keys']:,} keys × {r['provider_rows']:,} rows"


def report_rows(results: dict[str, Any]) -> list[common.Row]:
    """The report's rows: per run, the wall time, the bytes each way and the largest process."""
    out = []
    for r in results["runs"]:
        section = f"{r['engine']}, {_size(r)}"
        target = None
        if r["engine"] == "aggregate" and (r["nodes"], r["rows_per_node"]) == AGGREGATE_AT:
            target = common.Target(AGGREGATE_TARGET_SECONDS, at_most=True)
        checked = "answer equals the plaintext" if r["correct"] else "WRONG ANSWER"
        ref = r.get("reference")
        out.append(
            common.Row(
                section,
                "wall time",
                "s",
                r["seconds"],
                reference="bare two-party PSI of the same sizes" if ref else "",
                reference_value=ref["seconds"] if ref else None,
                target=target,
                note=checked,
            )
        )
        for key, name in (
            ("bytes_to_provider", "to provider"),
            ("bytes_to_consumer", "to consumer"),
        ):
            out.append(common.Row(section, name, "KiB", round(r[key] / 1024, 1)))
        for p in r["processes"][:3]:
            out.append(
                common.Row(
                    section,
                    f"peak RSS during the run, {p['cmd']}",
                    "MiB",
                    p["peak_rss_mib"],
                    note=f"{p['cpu_seconds']:.1f} CPU-s during the run",
                )
            )
    return out


def build_parser() -> argparse.ArgumentParser:
    """The benchmark's options, help in English (:func:`main` gives it in the run's locale);
    a short description and a summary of this module's docstring."""
    parser = argparse.ArgumentParser(
        prog="tongdao bench engines",
        description=(
            "Query engines at provincial scale, through real processes: PSI, intersection-sum "
            "and the multi-node aggregate."
        ),
        epilog=(
            "Starts a broker, the tax bureau's node and up to eight city nodes as real "
            "processes with mutual TLS on loopback; the consumer calls them through the SDK, "
            "as a department would. Every answer is checked against the plaintext computed "
            "here. Reported: wall time, bytes on the wire each way, CPU seconds and peak memory "
            "of every process that takes part. Writes engines-bench.json, engines-bench.md and "
            "the plots to --out."
        ),
    )
    parser.add_argument(
        "--keys", type=int, default=1_000_000, help="consumer keys (ID numbers) to intersect"
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="the provider's tax records")
    parser.add_argument(
        "--nodes", type=int, default=8, help="city nodes in the aggregate (at most 8)"
    )
    parser.add_argument("--agg-rows", type=int, default=1_000_000, help="households per city node")
    parser.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help="engines to run, comma-separated: intersection_size, intersection_sum, aggregate",
    )
    parser.add_argument("--out", type=Path, default=Path("bench-results"), help="output directory")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="CI smoke: 2,000 keys × 2,000 rows, and 2 nodes × 2,000 households",
    )
    add_locale(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    with speaking(localised(parser, argv)):  # help, usage and errors in the run's language
        args = parser.parse_args(argv)
        engines = _checked(parser, args)
    start = time.monotonic()

    def say(text: str) -> None:
        print(f"  {time.monotonic() - start:6.1f}s  {text}", file=sys.stderr, flush=True)

    report = run(
        args.out,
        keys=args.keys,
        rows=args.rows,
        nodes=args.nodes,
        agg_rows=args.agg_rows,
        engines=engines,
        say=say,
    )
    print(report.markdown())
    print(f"\nwrote {args.out}/engines-bench.json, engines-bench.md and the plots")
    return 0 if all(r["correct"] for r in report.detail["runs"]) else 1


def _checked(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The engines asked for (``--quick`` applied to the sizes); argparse's error for a wrong
    option."""
    if args.quick:
        args.keys = args.rows = args.agg_rows = 2000
        args.nodes = 2
    for name in ("keys", "rows", "nodes", "agg_rows"):
        if getattr(args, name) < 0:
            parser.error(tr("--{option} must not be negative", option=name.replace("_", "-")))
    if args.nodes > 8:
        parser.error(tr("--nodes: at most 8 (the province's demo cities)"))
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown or not engines:
        parser.error(tr("--engines: choose from {choices}", choices=", ".join(ENGINES)))
    return engines


if __name__ == "__main__":
    raise SystemExit(main())
