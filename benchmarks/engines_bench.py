"""Query-engine benchmark: PSI, intersection-sum and the multi-node aggregate end to end.

Runs a real stack in this process (broker and nodes on loopback with mutual TLS and gRPC), so the
figures include transport, sealing, the broker's checks and the ledger. Bytes on the wire come
from the broker's ledger (sealed query and result sizes). Run: ``tongdao bench engines``.
"""

from __future__ import annotations

import json
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

PURPOSE = "城乡最低生活保障资格审核"


def _wire_bytes(url: str, since: int) -> tuple[int, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("select payload_json from ledger_entries where sequence > :s"), {"s": since}
        ).scalars()
        up = down = 0
        for raw in rows:
            payload = json.loads(raw)
            up += payload.get("sealed_query_bytes", 0)
            down += payload.get("sealed_result_bytes", 0) + payload.get("ciphertexts", 0) * 512
    engine.dispose()
    return up, down


def _ledger_length(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        n = int(conn.execute(text("select length from ledger_head")).scalar_one())
    engine.dispose()
    return n


def run(out: Path, *, quick: bool = False, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the engine benchmark; write ``engines-bench.json`` and return the results."""
    from tongdao.demo import CITY_MZJ, city_entry
    from tongdao.local_stack import BASIS, SCENARIO, start_stack

    out.mkdir(parents=True, exist_ok=True)
    # intersection-sum answers one message: provider rows × 544 bytes must stay under 24 MiB
    psi_sizes = [1_000] if quick else [10_000, 30_000]
    sum_sizes = [500] if quick else [5_000, 20_000]
    agg_rows = 2_000 if quick else 100_000
    results: dict[str, Any] = {"quick": quick, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        records = max(psi_sizes + sum_sizes)
        say(f"starting a stack with {records:,} residents and {len(CITY_MZJ)} city nodes")
        stack = start_stack(Path(tmp), records=records, cities=True)
        try:
            ids = [p["id_number"] for p in stack.people]
            with stack.consumer(timeout=600) as client:

                def grant(
                    entry: str, fields: list[str], methods: list[str], provider: str | None = None
                ) -> str:
                    req = client.file_share_request(
                        entry, fields, methods, PURPOSE, SCENARIO, BASIS, quota=1000
                    )
                    if req.status == "pending_provider_review":
                        with stack.consumer(provider) as p:
                            req = p.decide_share_request(req.id, True, "benchmark")
                    return str(client.get_grant(req.grant_id).token)

                def measure(
                    name: str, size: int, provider_rows: int, fn: Callable[[], Any]
                ) -> None:
                    before = _ledger_length(stack.database_url)
                    start = time.perf_counter()
                    answer = fn()
                    seconds = time.perf_counter() - start
                    up, down = _wire_bytes(stack.database_url, before)
                    row = {
                        "engine": name,
                        "size": size,
                        "provider_rows": provider_rows,
                        "seconds": round(seconds, 2),
                        "bytes_to_provider": up,
                        "bytes_to_consumer": down,
                        "answer": {k: str(v) for k, v in answer.items() if k != "members"},
                    }
                    results["runs"].append(row)
                    mib = f"{up / 2**20:.1f} MiB up, {down / 2**20:.1f} MiB down"
                    say(f"{name} {size:,}: {seconds:.2f} s, {mib}")

                token = grant("gat.population", ["id_number"], ["intersection_size"])
                for n in psi_sizes:
                    keys = ids[: n // 2] + [f"X{i:017d}" for i in range(n - n // 2)]
                    measure(
                        "intersection_size",
                        n,
                        len(stack.people),
                        lambda keys=keys: client.intersection(token, keys, "id_number", PURPOSE),
                    )
                token = grant("sw.income", ["annual_income"], ["intersection_sum"], "hlj.sw")
                for n in sum_sizes:
                    keys = ids[:n]
                    measure(
                        "intersection_sum",
                        n,
                        len(stack.incomes),
                        lambda keys=keys: client.intersection_sum(
                            token, keys, "annual_income", PURPOSE
                        ),
                    )
        finally:
            stack.stop()
        # the aggregate at scale needs bigger city registries: a second stack
        say(f"aggregate: {len(CITY_MZJ)} nodes × {agg_rows:,} rows")
        from tongdao import synthetic

        original = synthetic.subsistence_households
        try:
            synthetic.subsistence_households = (  # type: ignore[assignment]
                lambda region, count, seed: original(region, agg_rows, seed)
            )
            stack = start_stack(Path(tmp) / "agg", records=50, cities=True)
        finally:
            synthetic.subsistence_households = original  # type: ignore[assignment]
        try:
            with stack.consumer(timeout=600) as client:
                tokens = []
                for p in CITY_MZJ:
                    r = client.file_share_request(
                        city_entry(p)["code"],
                        ["monthly_allowance"],
                        ["aggregate"],
                        PURPOSE,
                        SCENARIO,
                        BASIS,
                    )
                    tokens.append(str(client.get_grant(r.grant_id).token))
                before = _ledger_length(stack.database_url)
                start = time.perf_counter()
                answer = client.aggregate(
                    tokens,
                    "monthly_allowance",
                    PURPOSE,
                    bounds=(0, 3000),
                    buckets=[0, 300, 600, 900, 1200, 3000],
                )
                seconds = time.perf_counter() - start
                up, down = _wire_bytes(stack.database_url, before)
                results["runs"].append(
                    {
                        "engine": "aggregate",
                        "size": agg_rows * len(CITY_MZJ),
                        "provider_rows": agg_rows,
                        "nodes": len(CITY_MZJ),
                        "seconds": round(seconds, 2),
                        "bytes_to_provider": up,
                        "bytes_to_consumer": down,
                        "answer": {k: str(v) for k, v in answer.items()},
                    }
                )
                say(f"aggregate {agg_rows * len(CITY_MZJ):,} rows: {seconds:.2f} s")
        finally:
            stack.stop()
    results["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    (out / "engines-bench.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return results
