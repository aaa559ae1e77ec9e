"""The benchmarks' quick modes run and write their tables, JSON and plots."""

import json

import pytest

from tongdao.cli import main

COMMON_KEYS = {"benchmark", "command", "started_at", "machine", "load_average", "versions", "rows"}
ROW_KEYS = {"section", "name", "unit", "value", "min", "max", "reference", "ratio", "measured"}
TABLE_HEAD = "| section | measurement | value | min–max | reference | ratio | target | how | note |"


def _common_report(path, name):
    """The parts every benchmark's JSON and table share."""
    data = json.loads((path / f"{name}.json").read_text())
    assert set(data) >= COMMON_KEYS and data["rows"]
    assert all(set(row) >= ROW_KEYS for row in data["rows"])
    assert len(data["load_average"]["start"]) == 3 and len(data["load_average"]["end"]) == 3
    assert data["machine"]["cores"] > 0
    assert TABLE_HEAD in (path / f"{name}.md").read_text()
    assert (path / f"{name}.png").stat().st_size > 1000
    return data


def test_quick_crypto_bench_writes_outputs(tmp_path, capsys):
    out = tmp_path / "bench"
    assert main(["bench", "crypto", "--quick", "--key-sizes", "1024", "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert TABLE_HEAD in table and "| Paillier 1024 | encrypt (public-key holder) |" in table
    data = _common_report(out, "crypto-bench")
    assert data["command"].startswith("tongdao bench crypto --quick")
    assert data["versions"]["phe"] != "not installed"
    rows = {(row["section"], row["name"]): row for row in data["rows"]}
    assert {("Paillier 1024", "decrypt"), ("Paillier 1024", "ct + ct")} <= set(rows)
    assert all(
        row["value"] > 0 and row["min"] <= row["value"] <= row["max"] for row in rows.values()
    )
    assert rows[("Paillier 1024", "decrypt")]["reference"] == "phe"
    blinding = rows[("PSI", "PSI blinding (hash-to-group + scalar mult)")]
    assert blinding["reference"] == "bare OpenSSL X25519" and blinding["ratio"] > 0
    # quick mode measures packed encryption up to 10³ and phe on a small batch only:
    # everything else on the curve is extrapolated, and says so
    points = {
        (curve, p["x"]): p["measured"]
        for curve, pts in data["series"][0]["curves"].items()
        for p in pts
    }
    assert points[("tongdao, packed", 1000)] and not points[("tongdao, packed", 10**6)]
    assert not any(m for (curve, x), m in points.items() if curve.startswith("phe") and x >= 100)
    assert sum(1 for (curve, _), m in points.items() if curve.startswith("phe") and m) == 1
    assert not rows[("scaling (2048)", "encrypt 10⁶ 32-bit values, packed")]["measured"]
    assert "| extrapolated |" in table
    assert (out / "crypto-bench-ratio.png").stat().st_size > 1000
    assert (out / "crypto-bench-scaling.png").stat().st_size > 1000


def test_quick_engines_bench_runs_through_processes_and_checks_answers(tmp_path, capsys):
    out = tmp_path / "engines"
    assert main(["bench", "engines", "--quick", "--out", str(out)]) == 0
    data = _common_report(out, "engines-bench")
    runs = {r["engine"]: r for r in data["detail"]["runs"]}
    assert set(runs) == {"intersection_size", "intersection_sum", "aggregate"}
    assert all(r["correct"] and r["seconds"] > 0 for r in runs.values())
    # 2,000 × 2,000: every provider row travels to the consumer as a point, and back as a
    # selection record (a ciphertext under the consumer's key and its 0/1 proof)
    assert runs["intersection_sum"]["bytes_to_consumer"] > 2000 * 32
    assert runs["intersection_sum"]["bytes_to_provider"] > 2000 * (32 + 962)
    labels = {p["cmd"] for p in runs["intersection_sum"]["processes"]}
    assert {"broker", "node hlj.sw", "consumer (SDK, this process)"} <= labels
    # the aggregate reports the city nodes it ran on, never the tax bureau's idle node
    aggregate = {p["cmd"] for p in runs["aggregate"]["processes"]}
    assert not any("hlj.sw" in label for label in aggregate)
    assert sum(1 for label in aggregate if label.startswith("node ")) == 2
    table = capsys.readouterr().out
    assert "| intersection_sum, 2,000 keys × 2,000 rows | wall time |" in table
    assert "hlj.sw" not in "".join(line for line in table.splitlines() if "| aggregate" in line)


def test_engines_bench_refuses_unknown_engines(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["bench", "engines", "--engines", "teleport"])
    assert "choose from" in capsys.readouterr().err


def test_quick_catalogue_bench_imports_and_finds_two_character_terms(tmp_path, capsys):
    out = tmp_path / "catalogue"
    assert main(["bench", "catalogue", "--quick", "--only", "sqlite", "--out", str(out)]) == 0
    data = _common_report(out, "catalogue-bench")
    (run,) = data["detail"]["results"]
    assert run["store"] == "SQLite" and run["entries"] == 2000
    assert set(run["search_ms_by_kind"]) >= {"3+ chars", "2 chars", "two terms", "browse by tag"}
    found = run["results_per_query"]
    # the 2-character terms of the mix are answered (by the index, not a scan) and find entries
    assert all(found[f"2 chars: {q}"] > 0 for q in ("婚姻", "学籍", "户号"))
    assert run["import_seconds"] > 0 and run["search_ms"]["p95"] > 0
    table = capsys.readouterr().out
    assert "| SQLite, 2,000 entries | search, 2 chars |" in table
    assert data["versions"]["sqlite"] and data["command"].startswith("tongdao bench catalogue")


def test_quick_ledger_bench_measures_tree_store_and_audit(tmp_path, capsys):
    out = tmp_path / "ledger"
    assert main(["bench", "ledger", "--quick", "--out", str(out)]) == 0
    report = _common_report(out, "ledger-bench")
    data = report["detail"]
    assert data["tree"]["entries"] == 2000 and data["tree"]["append_per_second"] > 0
    assert data["tree"]["inclusion_proof_hashes"] <= 11  # ⌈log₂ 2000⌉
    assert [s["entries"] for s in data["store"]][-1] == 2000
    assert all(s["inclusion_prove_ms"]["p50"] > 0 for s in data["store"])
    assert data["audit"]["entries"] == 2000
    if data["pymerkle"] is not None:
        assert data["pymerkle"]["same_root_as_rfc9162"]
        # compared at the same size, in the same run
        append = next(r for r in report["rows"] if r["name"] == "append")
        assert append["reference"].startswith("pymerkle") and append["ratio"] > 0
    assert (out / "ledger-bench-size.png").stat().st_size > 1000
    assert "| audit (ledger verify) | 2,000 entries, checkpoint and two cosignatures |" in (
        capsys.readouterr().out
    )


def test_quick_relay_bench_measures_the_relay_against_the_echo(tmp_path, capsys):
    out = tmp_path / "relay"
    assert main(["bench", "relay", "--quick", "--out", str(out)]) == 0
    report = _common_report(out, "relay-bench")
    data = report["detail"]
    runs = {(r["method"], r["concurrency"]): r for r in data["runs"]}
    assert set(runs) == {("echo", 1), ("fetch", 1), ("echo", 4), ("fetch", 4)}
    for (method, _), r in runs.items():
        assert r["queries"] > 0 and r["errors"] == 0
        assert 0 < r["latency_ms"]["p50"] <= r["latency_ms"]["p99"]
        assert r["cpu_ms_per_query"]["broker"] > 0 and r["cpu_ms_per_query"]["consumers"] > 0
        # every answered call hands over between threads of the relay and of the server
        assert r["thread_switches_per_query"]["broker"] > 1
        assert r["thread_switches_per_query"]["node"] > 1
        if method == "fetch":
            assert (
                r["ratio_to_echo"]
                == r["per_second"] / runs[("echo", r["concurrency"])]["per_second"]
            )
    # the echo carries the measured fetch's sealed query and result sizes
    assert data["message_bytes"]["request_bytes"] > 0 and data["message_bytes"]["reply_bytes"] > 0
    assert (out / "relay-bench-concurrency.png").stat().st_size > 1000
    rate = next(r for r in report["rows"] if r["section"] == "fetch, concurrency 4")
    assert rate["reference"] == "echo" and rate["ratio"] == runs[("fetch", 4)]["ratio_to_echo"]
    assert rate["target"]["text"] == "≥ 0.5×"
    assert any(
        r["section"] == "fetch, concurrency 4" and r["name"] == "thread switches per query, node"
        for r in report["rows"]
    )
    # the machine's own cost of a thread hand-off, measured in the same run
    assert data["handoff_cpu_us"] > 0
    assert any(r["name"] == "CPU per thread hand-off" for r in report["rows"])
    # and the cryptography one query requires, step by step
    (crypto,) = [r for r in report["rows"] if r["name"] == "cryptography one query requires"]
    assert crypto["value"] == sum(data["query_crypto_us"].values()) / 1000 > 0
    # the brokers' rate limit is the benchmark's, stated as a setting, and nothing was refused
    (limit,) = [r for r in report["rows"] if r["name"] == "rate limit per department"]
    assert limit["setting"] and limit["value"] == data["rate_limits"]["calls_per_second"]
    assert "| rate limit per department | 100,000 calls/s |" in (out / "relay-bench.md").read_text()
    assert "| fetch, concurrency 4 | queries/s |" in capsys.readouterr().out


def test_quick_relay_bench_reports_the_grown_store_and_the_soak(tmp_path):
    out = tmp_path / "relay-grown"
    args = ["--quick", "--grants", "40", "--log-entries", "3000", "--soak", "3"]
    assert main(["bench", "relay", *args, "--out", str(out)]) == 0
    report = _common_report(out, "relay-bench")
    rows = {(r["section"], r["name"]): r for r in report["rows"]}
    stored = "40 grants and 3,000 log entries stored"
    grown = rows[(f"fetch, concurrency 4, {stored}", "queries/s")]
    (fresh,) = report["detail"]["growth"]["fresh_runs"]
    # the grown store's rate against the fresh store's, measured in the same run just before
    assert grown["reference"] == "fresh store" and grown["target"]["text"] == "≥ 0.9×"
    assert fresh["queries"] > 0 and grown["reference_value"] == fresh["per_second"]
    assert grown["ratio"] == grown["value"] / fresh["per_second"]
    # the seeded log is one chain that verifies: every entry of the head
    verified = rows[(f"store growth: {stored}", "log verified (verify_ledger)")]
    assert verified["value"] > 3000 and verified["target"]["met"]
    # memory over the soak: each server process, last window against the first
    soak = [r for r in report["rows"] if r["name"].startswith("RSS ")]
    assert {r["name"].split(",")[0] for r in soak} == {"RSS broker", "RSS node"}
    assert all(r["value"] > 10 and r["target"]["text"] == "≤ 1.05×" for r in soak)
    assert report["detail"]["soak"]["run"]["queries"] > 0


@pytest.mark.postgres
def test_quick_relay_bench_runs_two_brokers_on_postgresql(tmp_path):
    import uuid

    from sqlalchemy import create_engine, text

    from tests.conftest import PG_URL, postgres_unavailable_reason

    reason = postgres_unavailable_reason()
    if reason:
        pytest.skip(f"two brokers share a PostgreSQL store: {reason}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    out = tmp_path / "relay-two"
    try:
        args = ["--quick", "--brokers", "2", "--database-url", url, "--out", str(out)]
        assert main(["bench", "relay", *args]) == 0
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    report = _common_report(out, "relay-bench")
    fetches = [r for r in report["detail"]["runs"] if r["method"] == "fetch"]
    assert fetches and all(r["brokers"] == 2 and r["errors"] == 0 for r in fetches)
    # the round-robin channel sent calls to both brokers: each spent CPU on them
    assert all(r["cpu_ms_per_query"][f"broker {n}"] > 0 for r in fetches for n in (1, 2))
    sections = {r["section"] for r in report["rows"]}
    assert "fetch, 2 brokers (round-robin), concurrency 4" in sections
    # against one broker on the same store, in the same run (the other one stopped)
    (one,) = report["detail"]["one_broker"]
    assert one["brokers"] == 1 and one["queries"] > 0 and one["errors"] == 0
    rows = {(r["section"], r["name"]): r for r in report["rows"]}
    compared = rows[("fetch, 2 brokers against 1, concurrency 4", "queries/s")]
    assert compared["reference"] == "1 broker, same store"
    assert compared["reference_value"] == one["per_second"]


def test_relay_bench_refuses_two_brokers_on_sqlite(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "relay", "--brokers", "2"])
    assert "PostgreSQL" in capsys.readouterr().err
