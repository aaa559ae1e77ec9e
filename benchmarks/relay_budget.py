"""What a query may cost at the relay benchmark's target, measured in the same run.

At concurrency 16 the bare echo keeps the machine's cores busy, so the target rate (a share of
the echo's) fixes how much CPU one query may take across every process on the machine: the
cores divided by the target rate. Of that budget, the echo's own CPU per call is what gRPC
costs to carry a query through one relay hop, and the cryptography every query needs (timed
here, before any server starts, with the calls the consumer, the node and the broker make) is
what end-to-end encryption and signed receipts cost. What is left is all the broker and the
node may spend on checking the grant, counting its use and recording the call."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from tongdao.benchmarks import report as common
from tongdao.benchmarks.relay_measure import ECHO

QUERY_BYTES = 256  # a one-key query body, sealed
RESULT_BYTES = 512  # a one-record answer, sealed


def query_crypto_us(rounds: int = 400) -> dict[str, float]:
    """CPU microseconds of each cryptographic step one fetch or verify takes, in order: the
    consumer seals the query to the node (a fresh X25519 key, authenticated by its own), the
    node opens it, seals the result to the consumer's key, signs the receipt; the broker and
    then the consumer verify the receipt, and the consumer opens the result. The best of three
    runs of ``rounds`` calls each (the machine's noise only ever adds)."""
    from tongdao.crypto.envelope import (
        EncryptionKeyPair,
        open_authenticated,
        open_sealed,
        seal,
        seal_authenticated,
    )
    from tongdao.crypto.signing import SigningKey

    consumer, node = EncryptionKeyPair.generate(), EncryptionKeyPair.generate()
    signing = SigningKey.generate()
    verify_key = signing.verify_key
    query, result, bound = os.urandom(QUERY_BYTES), os.urandom(RESULT_BYTES), b"request" * 8
    sealed_query = seal_authenticated(consumer.private_key, node.public_key, query, bound)
    sealed_result = seal(consumer.public_key, result, bound)
    signature = signing.sign(result)
    steps: dict[str, Callable[[], object]] = {
        "consumer seals the query": lambda: seal_authenticated(
            consumer.private_key, node.public_key, query, bound
        ),
        "node opens the query": lambda: open_authenticated(
            node.private_key, consumer.public_key, sealed_query, bound
        ),
        "node seals the result": lambda: seal(consumer.public_key, result, bound),
        "node signs the receipt": lambda: signing.sign(result),
        "broker verifies the receipt": lambda: verify_key.verify(signature, result),
        "consumer verifies the receipt": lambda: verify_key.verify(signature, result),
        "consumer opens the result": lambda: open_sealed(
            consumer.private_key, sealed_result, bound
        ),
    }
    return {name: _best_us(step, rounds) for name, step in steps.items()}


def _best_us(step: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        for _ in range(rounds):
            step()
        best = min(best, (time.process_time() - start) / rounds)
    return best * 1e6


def crypto_row(results: dict[str, Any]) -> list[common.Row]:
    """The cryptography one query requires, step by step in the note (none when not timed)."""
    crypto = results.get("query_crypto_us")
    if not crypto:
        return []
    return [
        common.Row(
            "this machine, before the servers start",
            "cryptography one query requires",
            "ms",
            sum(crypto.values()) / 1000,
            note="; ".join(f"{name} {us:.0f} µs" for name, us in crypto.items())
            + "; the budget rows below count it once per query",
        )
    ]


def budget_rows(results: dict[str, Any], *, ratio_target: float, at: int = 16) -> list[common.Row]:
    """Per method measured at concurrency ``at`` (beside an echo): the CPU a query may take at
    ``ratio_target`` × the echo's rate on this machine's cores, and where the measured query's
    CPU goes against it. No rows without the crypto timing or without such a run."""
    crypto = results.get("query_crypto_us")
    cores = results.get("cores") or os.cpu_count() or 1
    runs = [r for r in results.get("runs", []) if r["concurrency"] == at]
    echo = next((r for r in runs if r["method"] == ECHO), None)
    if not crypto or echo is None or echo["per_second"] <= 0:
        return []
    crypto_ms = sum(crypto.values()) / 1000
    echo_ms = _every_process_ms(echo)
    budget_ms = cores * 1000 / (ratio_target * echo["per_second"])
    left = budget_ms - echo_ms - crypto_ms
    out: list[common.Row] = []
    for r in runs:
        if r["method"] == ECHO:
            continue
        section = f"{r['method']}, concurrency {at}: the CPU a query may take at the target"
        total = _every_process_ms(r)
        out += [
            common.Row(
                section,
                f"budget at {ratio_target:g}× the echo",
                "ms",
                budget_ms,
                measured=False,
                note=f"{cores} cores ÷ ({ratio_target:g} × {echo['per_second']:,.0f} echo "
                "calls/s), every process on the machine together",
            ),
            common.Row(
                section,
                "of it, gRPC through one relay hop (the echo)",
                "ms",
                echo_ms,
                note="the echo's relay, server and callers together, same run",
            ),
            common.Row(
                section,
                "of it, the cryptography",
                "ms",
                crypto_ms,
                note="timed alone before the servers started (its steps at the top)",
            ),
            common.Row(
                section,
                "left for the broker's and the node's checks and records",
                "ms",
                left,
                measured=False,
                note="budget − echo − cryptography",
            ),
            common.Row(
                section,
                "what they take now",
                "ms",
                total - echo_ms - crypto_ms,
                reference="left at the target" if left > 0 else "",
                reference_value=left if left > 0 else None,
                measured=False,
                note=f"the query's CPU {total:.2f} ms (broker, node and consumers) − echo − "
                "cryptography",
            ),
        ]
    return out


def _every_process_ms(run: dict[str, Any]) -> float:
    """A run's CPU milliseconds per query in the servers and the consumers together."""
    return sum(run["cpu_ms_per_query"][who] for who in ("broker", "node", "consumers"))
