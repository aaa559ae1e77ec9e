"""The ledger's Merkle log at 10⁶ entries: append rate, proof and verification times.

Three parts, one run:

* **tree** — the RFC 9162 algorithm alone (crypto.merkle, in memory): appending 10⁶ leaves, then
  inclusion and consistency proofs generated and verified at that size; the same with pymerkle
  (if installed) for comparison, with whether its roots and proofs match RFC 9162.
* **store** — the broker's ledger on SQLite (broker.ledger.Ledger, one transaction per append,
  as the broker does): a store pre-filled to each size (10³ … 10⁶ entries, the tree's nodes
  included), then appends timed at that size and inclusion / consistency proofs read from it —
  flat curves are the O(log n) claim.
* **audit** — ``tongdao ledger verify`` work on an export of 10⁶ entries: every entry's hash and
  link, the tree, a checkpoint's signature and its cosignatures (broker.ledger_audit.audit).

Writes ledger-bench.json, ledger-bench.md and the plots to ``--out`` in the benchmarks' one
report format and prints the table.

Run:  python -m tongdao.benchmarks.ledger_bench [--entries 1000000] [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tongdao.benchmarks import report as common
from tongdao.benchmarks.catalogue_bench import percentile


def _ms(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 50) * 1000, 4),
        "p95": round(percentile(values, 95) * 1000, 4),
        "min": round(min(values) * 1000, 4),
        "max": round(max(values) * 1000, 4),
    }


def _entry_bytes(i: int) -> bytes:
    return json.dumps({"sequence": i + 1, "kind": "query.relayed", "n": i}).encode()


def bench_tree(n: int, samples: int) -> dict[str, Any]:
    from tongdao.crypto.merkle import (
        MemoryTree,
        consistency_proof,
        inclusion_proof,
        leaf_hash,
        verify_consistency,
        verify_inclusion,
    )

    tree = MemoryTree()
    t0 = time.perf_counter()
    for i in range(n):
        tree.append(leaf_hash(_entry_bytes(i)))
    append_s = time.perf_counter() - t0
    root = tree.root()
    rng = random.Random(7)
    gen, ver, sizes = [], [], []
    for _ in range(samples):
        index = rng.randrange(n)
        t = time.perf_counter()
        proof = inclusion_proof(tree.read, index, n)
        gen.append(time.perf_counter() - t)
        t = time.perf_counter()
        verify_inclusion(index, n, tree.read(0, index), proof, root)
        ver.append(time.perf_counter() - t)
        sizes.append(len(proof))
    cgen, cver = [], []
    for _ in range(samples):
        old = rng.randrange(1, n)
        old_root = tree.root(old)
        t = time.perf_counter()
        proof = consistency_proof(tree.read, old, n)
        cgen.append(time.perf_counter() - t)
        t = time.perf_counter()
        verify_consistency(old, n, old_root, root, proof)
        cver.append(time.perf_counter() - t)
    return {
        "implementation": "tongdao.crypto.merkle",
        "entries": n,
        "append_per_second": round(n / append_s),
        "append_seconds": round(append_s, 2),
        "inclusion_prove_ms": _ms(gen),
        "inclusion_verify_ms": _ms(ver),
        "inclusion_proof_hashes": max(sizes),
        "consistency_prove_ms": _ms(cgen),
        "consistency_verify_ms": _ms(cver),
        "root": root.hex(),
    }


def bench_pymerkle(n: int, samples: int, rfc_root: str) -> dict[str, Any] | None:
    try:
        import pymerkle
    except ImportError:
        return None
    from tongdao.crypto.merkle import leaf_hash, verify_inclusion

    tree = pymerkle.InmemoryTree(algorithm="sha256")
    t0 = time.perf_counter()
    for i in range(n):
        tree.append_entry(_entry_bytes(i))
    append_s = time.perf_counter() - t0
    rng = random.Random(7)
    gen, ver = [], []
    rfc_format = True
    root = tree.get_root()
    for _ in range(samples):
        index = rng.randrange(n)
        t = time.perf_counter()
        proof = tree.prove_inclusion(index + 1, n)
        gen.append(time.perf_counter() - t)
        t = time.perf_counter()
        pymerkle.verify_inclusion(tree.get_leaf(index + 1), root, proof)
        ver.append(time.perf_counter() - t)
        path = [bytes.fromhex(h) for h in proof.serialize()["path"]]
        try:  # is its proof an RFC 9162 audit path?
            verify_inclusion(index, n, leaf_hash(_entry_bytes(index)), path, bytes(root))
        except Exception:
            rfc_format = False
    return {
        "implementation": f"pymerkle {getattr(pymerkle, '__version__', '7')} InmemoryTree",
        "entries": n,
        "append_per_second": round(n / append_s),
        "append_seconds": round(append_s, 2),
        "inclusion_prove_ms": _ms(gen),
        "inclusion_verify_ms": _ms(ver),
        "same_root_as_rfc9162": bytes(root).hex() == rfc_root,
        "proofs_are_rfc9162_audit_paths": rfc_format,
    }


def _prefill(url: str, n: int, key: Any) -> None:
    """Write ``n`` chained entries, the tree's nodes, its edge and a signed head, in bulk."""
    from sqlalchemy import insert, update

    from tongdao.broker.kernel.db import make_engine, session_factory, upgrade
    from tongdao.broker.ledger.audit import entry_body
    from tongdao.broker.ledger.chain import GENESIS_HASH, entry_hash, head_signing_bytes
    from tongdao.broker.ledger.models import LedgerEntry, LedgerHead, LedgerTree, LedgerTreeNode
    from tongdao.crypto.merkle import CompactRange, leaf_hash

    engine = make_engine(url)
    upgrade(engine)
    edge, previous = CompactRange(), GENESIS_HASH
    entries: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    when = "2026-01-01T00:00:00.000000+00:00"
    with session_factory(engine).begin() as s:
        for i in range(1, n + 1):
            fields = {
                "sequence": i,
                "recorded_at": when,
                "kind": "query.relayed",
                "actor": "hlj.gat",
                "subject": f"grant-{i % 97}",
                "payload_json": json.dumps({"n": i}),
            }
            digest = entry_hash(previous, **fields)
            entries.append({**fields, "previous_hash": previous, "entry_hash": digest})
            previous = digest
            for level, idx, h in edge.append(leaf_hash(entry_body(**fields))):
                nodes.append({"level": level, "idx": idx, "hash": h})
            if len(entries) >= 20_000:
                s.execute(insert(LedgerEntry), entries)
                s.execute(insert(LedgerTreeNode), nodes)
                entries, nodes = [], []
        if entries:
            s.execute(insert(LedgerEntry), entries)
            s.execute(insert(LedgerTreeNode), nodes)
        s.execute(
            update(LedgerTree)
            .where(LedgerTree.id == 1)
            .values(size=n, compact_range=edge.to_bytes())
        )
        s.execute(
            update(LedgerHead)
            .where(LedgerHead.id == 1)
            .values(
                length=n, head_hash=previous, signature=key.sign(head_signing_bytes(n, previous))
            )
        )
    engine.dispose()


def bench_store(n: int, appends: int, samples: int, tmp: Path) -> dict[str, Any]:
    from tongdao.broker.kernel.db import make_engine, session_factory
    from tongdao.broker.ledger import chain as ledger_mod
    from tongdao.crypto.signing import SigningKey

    key = SigningKey.generate()
    url = f"sqlite:///{tmp / f'ledger-{n}.db'}"
    t0 = time.perf_counter()
    _prefill(url, n, key)
    prefill_s = time.perf_counter() - t0
    engine = make_engine(url)
    sessions = session_factory(engine)
    ledger = ledger_mod.Ledger(key)
    times = []
    for i in range(appends):
        t = time.perf_counter()
        with sessions.begin() as s:
            ledger.append(s, kind="bench.append", actor="hlj.gat", subject="b", payload={"i": i})
        times.append(time.perf_counter() - t)
    size = n + appends
    rng = random.Random(3)
    prove, cons = [], []
    for _ in range(samples):
        with sessions() as s:
            t = time.perf_counter()
            ledger_mod.prove_inclusion(s, rng.randrange(1, size + 1), size)
            prove.append(time.perf_counter() - t)
        with sessions() as s:
            t = time.perf_counter()
            ledger_mod.prove_consistency(s, rng.randrange(1, size), size)
            cons.append(time.perf_counter() - t)
    engine.dispose()
    db = tmp / f"ledger-{n}.db"
    return {
        "store": "SQLite",
        "entries": n,
        "prefill_seconds": round(prefill_s, 1),
        "append_ms": _ms(times),
        "appends_per_second": round(appends / sum(times)),
        "inclusion_prove_ms": _ms(prove),
        "consistency_prove_ms": _ms(cons),
        "store_mb": round(db.stat().st_size / 1e6, 1),
    }


def bench_audit(n: int) -> dict[str, Any]:
    from tongdao.broker.ledger.audit import audit, entry_body
    from tongdao.broker.ledger.chain import GENESIS_HASH, entry_hash
    from tongdao.crypto.checkpoint import (
        LOG_KEY_NAME,
        Checkpoint,
        Cosigner,
        NoteSigner,
        sign_checkpoint,
    )
    from tongdao.crypto.merkle import CompactRange, leaf_hash
    from tongdao.crypto.signing import SigningKey

    broker, witnesses = SigningKey.generate(), {c: SigningKey.generate() for c in ("a", "b")}
    entries, previous, edge = [], GENESIS_HASH, CompactRange()
    for i in range(1, n + 1):
        fields = {
            "sequence": i,
            "recorded_at": "2026-01-01T00:00:00.000000+00:00",
            "kind": "query.relayed",
            "actor": "hlj.gat",
            "subject": f"grant-{i % 97}",
            "payload_json": json.dumps({"n": i}),
        }
        digest = entry_hash(previous, **fields)
        entries.append(SimpleNamespace(**fields, previous_hash=previous, entry_hash=digest))
        previous = digest
        edge.append(leaf_hash(entry_body(**fields)))
    note = sign_checkpoint(
        Checkpoint("bench/ledger", n, edge.root()), NoteSigner(LOG_KEY_NAME, broker)
    )
    for code, k in witnesses.items():
        note = note.with_signature(Cosigner(code, k).cosign(note.text, 1_800_000_000))
    t0 = time.perf_counter()
    result = audit(
        entries,  # type: ignore[arg-type]
        checkpoints=[note.to_text()],
        log_key=broker.verify_key,
        log_name=LOG_KEY_NAME,
        origin="bench/ledger",
        witnesses={c: k.verify_key for c, k in witnesses.items()},
        witnesses_required=2,
    )
    seconds = time.perf_counter() - t0
    assert result.ok and result.verified == n and result.witnessed, result.problems
    return {
        "entries": n,
        "verify_seconds": round(seconds, 2),
        "entries_per_second": round(n / seconds),
    }


def _ms_row(
    section: str, name: str, ms: dict[str, float], ref: dict[str, float] | None, ref_name: str
) -> common.Row:
    return common.Row(
        section,
        name,
        "ms",
        ms["p50"],
        ms.get("min"),
        ms["max"],
        reference=ref_name if ref else "",
        reference_value=ref["p50"] if ref else None,
        note=f"p95 {common.fmt(ms['p95'])} ms" + ("; ratio below 1 is faster" if ref else ""),
    )


def report_rows(data: dict[str, Any]) -> list[common.Row]:
    """The rows: the tree (with pymerkle at the same size), the store by size, the audit."""
    out = []
    other = data["pymerkle"]
    for tree in data["tree_runs"]:
        ref = other if other and other["entries"] == tree["entries"] else None
        name = other["implementation"] if ref else ""
        section = f"tree in memory, {tree['entries']:,} entries"
        out.append(
            common.Row(
                section,
                "append",
                "entries/s",
                tree["append_per_second"],
                reference=name,
                reference_value=ref["append_per_second"] if ref else None,
                note="one run",
            )
        )
        for key, label in (
            ("inclusion_prove_ms", "inclusion proof, generate"),
            ("inclusion_verify_ms", "inclusion proof, verify"),
            ("consistency_prove_ms", "consistency proof, generate"),
            ("consistency_verify_ms", "consistency proof, verify"),
        ):
            out.append(_ms_row(section, label, tree[key], ref.get(key) if ref else None, name))
    for r in data["store"]:
        section = f"SQLite store, {r['entries']:,} entries"
        out.append(_ms_row(section, "append (one transaction)", r["append_ms"], None, ""))
        out.append(
            _ms_row(section, "inclusion proof from the store", r["inclusion_prove_ms"], None, "")
        )
        out.append(
            _ms_row(
                section, "consistency proof from the store", r["consistency_prove_ms"], None, ""
            )
        )
        out.append(common.Row(section, "store size", "MB", r["store_mb"]))
    a = data["audit"]
    out.append(
        common.Row(
            "audit (ledger verify)",
            f"{a['entries']:,} entries, checkpoint and two cosignatures",
            "s",
            a["verify_seconds"],
            note=f"{a['entries_per_second']:,} entries/s",
        )
    )
    return out


def report_series(data: dict[str, Any]) -> list[common.Series]:
    """Cost per store operation against the ledger's size: flat curves are O(log n)."""
    curves = {}
    for label, key in (
        ("append (one transaction)", "append_ms"),
        ("inclusion proof from the store", "inclusion_prove_ms"),
        ("consistency proof from the store", "consistency_prove_ms"),
    ):
        curves[label] = [
            common.Point(r["entries"], r[key]["p50"], r[key].get("min"), r[key]["max"])
            for r in data["store"]
        ]
    return [
        common.Series(
            "size",
            "Ledger on SQLite: cost per operation vs size (median, min–max)",
            "entries in the ledger",
            "milliseconds (log scale)",
            curves,
            log_y=True,
        )
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; prints a table, writes JSON and a plot to ``--out``."""
    parser = argparse.ArgumentParser(prog="tongdao bench ledger")
    parser.add_argument("--entries", type=int, default=1_000_000, help="largest ledger size")
    parser.add_argument("--quick", action="store_true", help="2,000 entries (CI smoke)")
    parser.add_argument("--out", default="benchmarks/results", help="output directory")
    args = parser.parse_args(argv)
    if args.entries < 100:
        parser.error("--entries must be at least 100")
    n = 2000 if args.quick else args.entries
    samples, appends = (50, 50) if args.quick else (500, 300)
    sizes = sorted({max(100, n // 10**k) for k in range(4)} | {n})
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    load = {"start": [round(x, 2) for x in os.getloadavg()]}

    def say(text: str) -> None:
        print(f"  {text}", file=sys.stderr, flush=True)

    say(f"tree: {n} appends in memory")
    tree = bench_tree(n, samples)
    tree_runs = [tree]
    compared = min(n, 100_000)  # pymerkle is measured here, and our tree at the same size
    if compared != n:
        tree_runs.append(bench_tree(compared, samples))
    say("tree: pymerkle")
    other = bench_pymerkle(compared, samples, tree_runs[-1]["root"])
    stores = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            say(f"store: SQLite at {size} entries")
            stores.append(bench_store(size, appends, samples, Path(tmp)))
    say(f"audit: {n} entries")
    audited = bench_audit(n)
    data = {
        "tree": tree,
        "tree_runs": tree_runs,
        "pymerkle": other,
        "store": stores,
        "audit": audited,
    }
    report = common.Report(
        "ledger",
        common.command("ledger", argv),
        quick=args.quick,
        versions=common.versions("pymerkle", "sqlalchemy"),
        started_at=started,
        load_average=load,
        rows=report_rows(data),
        series=report_series(data),
    )
    report.detail = data
    out = Path(args.out)
    report.write(out, "ledger-bench")
    print(report.markdown())
    if other:
        print(
            f"\npymerkle: same root as RFC 9162 {other['same_root_as_rfc9162']}, its proofs "
            f"RFC 9162 audit paths {other['proofs_are_rfc9162_audit_paths']}"
        )
    print(f"\nwrote {out}/ledger-bench.json, ledger-bench.md and the plots")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
