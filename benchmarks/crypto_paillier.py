"""Paillier in the crypto benchmark: this project vs phe (always) vs sf-heu (when installed).

The measurement records and timing helpers of ``tongdao bench crypto`` live here too; the
sections other than Paillier, the rows and the run are in :mod:`crypto_bench`.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Progress = Callable[[str], None]


@dataclass
class Result:
    """One operation at one key size for one implementation."""

    operation: str
    implementation: str
    key_bits: int
    unit: str  # "ops/s", "values/s", "MB/s", "s"
    median: float
    low: float
    high: float
    repeats: int
    note: str = ""


@dataclass
class Measurements:
    """Everything one run of the crypto benchmark measured."""

    machine: dict[str, Any]
    versions: dict[str, str]
    quick: bool
    results: list[Result] = field(default_factory=list)
    scaling: list[dict[str, Any]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    command: str = "tongdao bench crypto"
    started_at: str = ""
    load_average: dict[str, list[float]] = field(default_factory=dict)

    def add(self, r: Result) -> None:
        self.results.append(r)


def rate(fn: Callable[[], int], repeats: int) -> tuple[float, float, float]:
    """Run ``fn`` (returns how many operations it did) ``repeats`` times; ops/s median, min, max."""
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        count = fn()
        rates.append(count / (time.perf_counter() - start))
    return statistics.median(rates), min(rates), max(rates)


def _heu_kit(bits: int) -> Any | None:
    try:
        from heu import phe as heu_phe  # type: ignore[import-not-found]
    except ImportError:
        return None
    return heu_phe.setup(heu_phe.SchemaType.ZPaillier, bits)


def compare(
    fns: dict[str, Callable[[], int]], repeats: int
) -> dict[str, tuple[float, float, float]]:
    """Time several implementations of one operation, interleaved.

    Each repeat runs every implementation once, rotating the order, so load from other processes
    on a shared machine hits all of them alike instead of biasing whichever ran last.

    Returns:
        name -> (median, min, max) operations per second.
    """
    rates: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for i in range(repeats):
        rotated = names[i % len(names) :] + names[: i % len(names)]
        for name in rotated:
            start = time.perf_counter()
            count = fns[name]()
            rates[name].append(count / (time.perf_counter() - start))
    return {n: (statistics.median(v), min(v), max(v)) for n, v in rates.items()}


def add_all(
    report: Measurements,
    operation: str,
    bits: int,
    unit: str,
    fns: dict[str, Callable[[], int]],
    repeats: int,
    notes: dict[str, str] | None = None,
) -> None:
    for name, (med, lo, hi) in compare(fns, repeats).items():
        report.add(
            Result(operation, name, bits, unit, med, lo, hi, repeats, (notes or {}).get(name, ""))
        )


def bench_paillier(report: Measurements, bits: int, quick: bool, say: Progress) -> None:
    import phe

    from tongdao.crypto.encoding import PackingScheme
    from tongdao.crypto.paillier import Evaluator, generate_paillier_keypair

    r = 3 if quick else 7
    # decryption and ct × scalar are at parity with phe by construction (one or two GMP
    # exponentiations each, docs/crypto.md): more repeats, so that noise from a shared machine
    # does not decide which side of 1.0× the median falls
    r_parity = r if quick else 2 * r + 1
    # about as long per sample as phe's 40 (~0.4 s): on a shared machine a short sample can fall
    # wholly into a slow spell that a long one averages out
    n_enc = 60 if quick else 3000
    n_phe = 8 if quick else 40
    n_dec = 10 if quick else 60
    n_add = 2000 if quick else 20000
    n_mul = 50 if quick else 300
    kit = _heu_kit(bits)

    say(f"[{bits}] key generation")
    # prime search takes a random time: more samples than the other operations for a stable median
    keygen_r = 1 if quick else 9
    keygens: dict[str, Callable[[], int]] = {
        "tongdao": lambda: (generate_paillier_keypair(bits), 1)[1],
        "phe": lambda: (phe.generate_paillier_keypair(n_length=bits), 1)[1],
    }
    if kit is not None:
        from heu import phe as heu_phe

        keygens["sf-heu"] = lambda: (heu_phe.setup(heu_phe.SchemaType.ZPaillier, bits), 1)[1]
    add_all(report, "key generation", bits, "ops/s", keygens, keygen_r)

    pk, sk = generate_paillier_keypair(bits)
    start = time.perf_counter()
    table = pk.table  # built here, outside the encryption timing
    public_build = time.perf_counter() - start
    start = time.perf_counter()
    sk.encrypt(0)  # builds the owner's tables modulo p² and q²
    owner_build = time.perf_counter() - start
    tp, tq = sk._owner_tables()
    report.extras[f"table_{bits}"] = {
        "public_build_seconds": round(public_build, 3),
        "public_bytes": table.bytes,
        "owner_build_seconds": round(owner_build, 3),
        "owner_bytes": tp.bytes + tq.bytes,
        "window_bits": table.window,
        "exponent_bits": pk.exponent_bits,
    }
    phe_sk = sk.to_phe()
    phe_pk = phe_sk.public_key
    values = list(range(1, n_enc + 1))
    heu_vals = []
    heu_enc = heu_dec = heu_ev = None
    if kit is not None:
        heu_enc, heu_dec, heu_ev = kit.encryptor(), kit.decryptor(), kit.evaluator()
        heu_vals = [kit.plaintext(v) for v in values]

    say(f"[{bits}] encrypt")
    enc: dict[str, Callable[[], int]] = {
        "tongdao": lambda: len([pk.encrypt(v) for v in values]),
        "phe": lambda: len([phe_pk.encrypt(v) for v in values[:n_phe]]),
    }
    if heu_enc is not None:
        enc["sf-heu"] = lambda: len([heu_enc.encrypt(v) for v in heu_vals[: n_enc // 4]])
    add_all(report, "encrypt (public-key holder)", bits, "ops/s", enc, r)
    add_all(
        report,
        "encrypt (key owner)",
        bits,
        "ops/s",
        {
            "tongdao": lambda: len([sk.encrypt(v) for v in values]),
            "phe": lambda: len([phe_pk.encrypt(v) for v in values[:n_phe]]),
        },
        r,
        {"phe": "phe has no owner fast path: same as public-key encryption"},
    )

    cts = [pk.encrypt(v) for v in values[: max(n_dec, 64)]]
    phe_cts = [c.to_phe() for c in cts]
    heu_cts = [heu_enc.encrypt(v) for v in heu_vals[:n_dec]] if heu_enc is not None else []
    say(f"[{bits}] decrypt")
    dec: dict[str, Callable[[], int]] = {
        "tongdao": lambda: len([sk.decrypt(c) for c in cts[:n_dec]]),
        "phe": lambda: len([phe_sk.decrypt(c) for c in phe_cts[:n_dec]]),
    }
    if heu_dec is not None:
        dec["sf-heu"] = lambda: len([heu_dec.decrypt(c) for c in heu_cts])
    add_all(report, "decrypt", bits, "ops/s", dec, r_parity)

    say(f"[{bits}] ct+ct, ct×scalar")
    pairs = list(zip(cts, cts[1:] + cts[:1], strict=True))
    phe_pairs = list(zip(phe_cts, phe_cts[1:] + phe_cts[:1], strict=True))
    heu_pairs = list(itertools.pairwise(heu_cts))
    reps = max(1, n_add // len(pairs))
    add: dict[str, Callable[[], int]] = {
        "tongdao": lambda: sum(len([a + b for a, b in pairs]) for _ in range(reps)),
        "phe": lambda: sum(len([a + b for a, b in phe_pairs]) for _ in range(reps)),
    }
    if heu_ev is not None and heu_pairs:
        add["sf-heu"] = lambda: sum(
            len([heu_ev.add(a, b) for a, b in heu_pairs]) for _ in range(reps)
        )
    add_all(report, "ct + ct", bits, "ops/s", add, r)
    scalar = (1 << 63) - 0x5DEECE66D  # 63 bits: the largest sf-heu accepts (int64)
    mul: dict[str, Callable[[], int]] = {
        "tongdao": lambda: len([c * scalar for c in cts[:n_mul]]),
        "phe": lambda: len([c * scalar for c in phe_cts[:n_mul]]),
    }
    if heu_ev is not None and kit is not None:
        mul["sf-heu"] = lambda: len([heu_ev.mul(c, scalar) for c in heu_cts])
    add_all(report, "ct × 64-bit scalar", bits, "ops/s", mul, r_parity)

    # packed aggregates: 32-bit values, 3 parties (2 additions), as the aggregate engine uses them
    scheme = PackingScheme.for_bounds(pk, 0, 2**32 - 1, additions=3)
    per_ct = scheme.slots
    vec = [(i * 2654435761) % 2**32 for i in range(per_ct * (4 if quick else 16))]
    packed = scheme.encrypt(pk, vec)
    say(f"[{bits}] packed ({per_ct} values per ciphertext)")
    add_all(
        report,
        "decrypt, per packed value",
        bits,
        "values/s",
        {
            "tongdao": lambda: len(scheme.decrypt(sk, packed, len(vec))),
            "phe": lambda: len([phe_sk.decrypt(c) for c in phe_cts[:n_dec]]),
        },
        r,
        {
            "tongdao": f"{per_ct} 32-bit values per ciphertext",
            "phe": "phe: one ciphertext per value",
        },
    )

    def pipeline() -> int:
        parties = [scheme.encrypt(pk, vec) for _ in range(3)]
        total = Evaluator(pk).add_vectors(
            Evaluator(pk).add_vectors(parties[0], parties[1]), parties[2]
        )
        out = scheme.decrypt(sk, total, len(vec), summed=3)
        assert out[0] == 3 * vec[0]
        return len(vec)

    def phe_pipeline() -> int:
        k = 4 if quick else 10
        parties = [[phe_pk.encrypt(v) for v in vec[:k]] for _ in range(3)]
        totals = [a + b + c for a, b, c in zip(*parties, strict=True)]
        out = [phe_sk.decrypt(t) for t in totals]
        assert out[0] == 3 * vec[0]
        return k

    add_all(
        report,
        "packed pipeline per value (encrypt ×3 parties, sum, decrypt)",
        bits,
        "values/s",
        {"tongdao": pipeline, "phe": phe_pipeline},
        r,
        {"tongdao": f"{per_ct} values per ciphertext", "phe": "phe: one ciphertext per value"},
    )
