"""What a query may cost at the relay benchmark's target: the arithmetic of the budget rows."""

import pytest

from tongdao.benchmarks.relay_budget import budget_rows, crypto_row, query_crypto_us


def _run(method, concurrency, per_second, broker, node, consumers):
    return {
        "method": method,
        "concurrency": concurrency,
        "per_second": per_second,
        "cpu_ms_per_query": {"broker": broker, "node": node, "consumers": consumers},
    }


RESULTS = {
    "cores": 2,
    "query_crypto_us": {"seal": 300.0, "verify": 200.0},  # 0.5 ms in all
    "runs": [
        _run("echo", 4, 1500.0, 0.2, 0.1, 0.1),
        _run("fetch", 4, 200.0, 3.0, 2.0, 1.0),
        _run("echo", 16, 2000.0, 0.5, 0.25, 0.25),  # 1.0 ms a call
        _run("fetch", 16, 400.0, 2.0, 1.5, 1.0),  # 4.5 ms a query
    ],
}


def test_the_budget_is_the_cores_over_the_target_rate_and_what_is_left_after_echo_and_crypto():
    rows = {r.name: r for r in budget_rows(RESULTS, ratio_target=0.5)}
    # 2 cores ÷ (0.5 × 2,000/s) = 2 ms a query
    assert rows["budget at 0.5× the echo"].value == pytest.approx(2.0)
    assert rows["of it, gRPC through one relay hop (the echo)"].value == pytest.approx(1.0)
    assert rows["of it, the cryptography"].value == pytest.approx(0.5)
    left = rows["left for the broker's and the node's checks and records"]
    assert left.value == pytest.approx(0.5) and not left.measured
    now = rows["what they take now"]
    assert now.value == pytest.approx(3.0)  # 4.5 − 1.0 − 0.5
    assert now.ratio == pytest.approx(6.0)  # six times what is left at the target
    # only the target's concurrency is budgeted
    assert all(r.section.startswith("fetch, concurrency 16") for r in rows.values())


def test_no_budget_without_the_echo_at_16_or_without_the_crypto_timing():
    assert budget_rows({**RESULTS, "runs": RESULTS["runs"][:2]}, ratio_target=0.5) == []
    assert budget_rows({**RESULTS, "query_crypto_us": {}}, ratio_target=0.5) == []
    assert crypto_row({}) == []


def test_a_budget_already_spent_by_echo_and_crypto_gets_no_ratio():
    tight = {**RESULTS, "query_crypto_us": {"seal": 1500.0}}  # 1.0 + 1.5 > 2.0 ms
    rows = {r.name: r for r in budget_rows(tight, ratio_target=0.5)}
    assert rows["left for the broker's and the node's checks and records"].value < 0
    assert rows["what they take now"].ratio is None


def test_every_step_of_a_query_s_cryptography_is_timed():
    steps = query_crypto_us(rounds=5)
    assert len(steps) == 7 and all(us > 0 for us in steps.values())
    (row,) = crypto_row({"query_crypto_us": steps})
    assert row.value == pytest.approx(sum(steps.values()) / 1000)
    assert "node signs the receipt" in row.note
