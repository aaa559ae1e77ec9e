"""Crypto-core benchmark: this project vs phe (always) vs sf-heu (when installed), same run.

Run: ``tongdao bench crypto [--quick] [--out DIR] [--key-sizes 2048,3072]``.
Writes ``crypto-bench.json``, ``crypto-bench.md`` (the table) and PNG plots to ``--out``.
Every figure is a median over repeats measured in this run; ratios are to phe in the same run.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

Progress = Callable[[str], None]
SECTIONS = ("paillier", "psi", "envelope", "scaling")


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
class Report:
    machine: dict[str, Any]
    versions: dict[str, str]
    quick: bool
    results: list[Result] = field(default_factory=list)
    scaling: list[dict[str, Any]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    def add(self, r: Result) -> None:
        self.results.append(r)


def _rate(fn: Callable[[], int], repeats: int) -> tuple[float, float, float]:
    """Run ``fn`` (returns how many operations it did) ``repeats`` times; ops/s median, min, max."""
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        count = fn()
        rates.append(count / (time.perf_counter() - start))
    return statistics.median(rates), min(rates), max(rates)


def _machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu or platform.processor(),
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "single_core": "per-operation figures are single-threaded unless the note says otherwise",
    }


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("tongdao", "phe", "gmpy2", "cryptography", "numpy", "sf-heu"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _heu_kit(bits: int) -> Any | None:
    try:
        from heu import phe as heu_phe  # type: ignore[import-not-found]
    except ImportError:
        return None
    return heu_phe.setup(heu_phe.SchemaType.ZPaillier, bits)


def _compare(
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


def _add_all(
    report: Report,
    operation: str,
    bits: int,
    unit: str,
    fns: dict[str, Callable[[], int]],
    repeats: int,
    notes: dict[str, str] | None = None,
) -> None:
    for name, (med, lo, hi) in _compare(fns, repeats).items():
        report.add(
            Result(operation, name, bits, unit, med, lo, hi, repeats, (notes or {}).get(name, ""))
        )


def bench_paillier(report: Report, bits: int, quick: bool, say: Progress) -> None:
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
    _add_all(report, "key generation", bits, "ops/s", keygens, keygen_r)

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
    _add_all(report, "encrypt (public-key holder)", bits, "ops/s", enc, r)
    _add_all(
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
    _add_all(report, "decrypt", bits, "ops/s", dec, r_parity)

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
    _add_all(report, "ct + ct", bits, "ops/s", add, r)
    scalar = (1 << 63) - 0x5DEECE66D  # 63 bits: the largest sf-heu accepts (int64)
    mul: dict[str, Callable[[], int]] = {
        "tongdao": lambda: len([c * scalar for c in cts[:n_mul]]),
        "phe": lambda: len([c * scalar for c in phe_cts[:n_mul]]),
    }
    if heu_ev is not None and kit is not None:
        mul["sf-heu"] = lambda: len([heu_ev.mul(c, scalar) for c in heu_cts])
    _add_all(report, "ct × 64-bit scalar", bits, "ops/s", mul, r_parity)

    # packed aggregates: 32-bit values, 3 parties (2 additions), as the aggregate engine uses them
    scheme = PackingScheme.for_bounds(pk, 0, 2**32 - 1, additions=3)
    per_ct = scheme.slots
    vec = [(i * 2654435761) % 2**32 for i in range(per_ct * (4 if quick else 16))]
    packed = scheme.encrypt(pk, vec)
    say(f"[{bits}] packed ({per_ct} values per ciphertext)")
    _add_all(
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

    _add_all(
        report,
        "packed pipeline per value (encrypt ×3 parties, sum, decrypt)",
        bits,
        "values/s",
        {"tongdao": pipeline, "phe": phe_pipeline},
        r,
        {"tongdao": f"{per_ct} values per ciphertext", "phe": "phe: one ciphertext per value"},
    )


def bench_psi(report: Report, quick: bool, say: Progress, psi_size: int) -> None:
    from tongdao.crypto.psi import PsiBlinder

    r = 3 if quick else 5
    n = 4000 if quick else 40000
    items = [f"2301{i:014d}".encode() for i in range(n)]
    blinder = PsiBlinder()
    from cryptography.hazmat.primitives.asymmetric.x25519 import (
        X25519PrivateKey,
        X25519PublicKey,
    )

    from tongdao.crypto.psi import backend, hash_to_points, split_points

    # the host's own speed limit, in the same run: OpenSSL's bare X25519 on ready-made key objects
    # (no hashing, no checks, no object creation). Targets written for one host carry over to
    # another through this ratio.
    bare_key = X25519PrivateKey.generate()
    bare_points = [
        X25519PublicKey.from_public_bytes(u) for u in split_points(hash_to_points(items[: n // 4]))
    ]
    say("PSI blinding")
    rates = _compare(
        {
            "tongdao": lambda: len(blinder.blind_many(items)),
            "openssl": lambda: len([bare_key.exchange(u) for u in bare_points]),
        },
        r,
    )
    ratio = rates["tongdao"][0] / rates["openssl"][0]
    report.extras["psi_blinding_ratio_to_bare_openssl_x25519"] = round(ratio, 2)
    report.add(
        Result(
            "PSI blinding (hash-to-group + scalar mult)",
            "tongdao",
            0,
            "elements/s",
            *rates["tongdao"],
            r,
            f"one core, {backend()} backend; {ratio:.2f}× bare OpenSSL X25519 in this run",
        )
    )
    report.add(
        Result(
            "X25519 scalar mult, bare OpenSSL (this host's reference)",
            "tongdao",
            0,
            "ops/s",
            *rates["openssl"],
            r,
            "one core; no hashing or checks",
        )
    )
    cpu_rates = []
    for _ in range(r):
        cpu_start = time.process_time()
        blinder.blind_many(items)
        cpu_rates.append(n / (time.process_time() - cpu_start))
    # elements per CPU-second: what one core does when no other job shares it
    report.extras["psi_blinding_per_cpu_second"] = round(statistics.median(cpu_rates))
    report.extras["psi_blinding_backend"] = backend()
    # re-blinding a peer's points: always OpenSSL (crypto/psi.py says why)
    peer = blinder.blind_packed(items)
    cpu_rates = []
    for _ in range(r):
        cpu_start = time.process_time()
        blinder.reblind_packed(peer)
        cpu_rates.append(n / (time.process_time() - cpu_start))
    report.extras["psi_reblinding_per_cpu_second"] = round(statistics.median(cpu_rates))
    if psi_size:
        say(f"PSI {psi_size:,} × {psi_size:,}, both parties here, 2 processes each step")
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        a, b = PsiBlinder(), PsiBlinder()
        xs = [f"A{i:012d}".encode() for i in range(psi_size)]
        ys = [f"A{i:012d}".encode() for i in range(psi_size // 2, psi_size + psi_size // 2)]
        import resource

        def cpu_seconds() -> float:
            own = resource.getrusage(resource.RUSAGE_SELF)
            kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # counted once workers exit
            return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

        cpu_start = cpu_seconds()
        start = time.perf_counter()
        # one pool of 2 processes for the four steps (both parties share this machine's 2 cores)
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
            bx = a.blind_many(xs, executor=pool)
            by = b.blind_many(ys, executor=pool)
            bxy = b.reblind_many(bx, executor=pool)
            del bx
            byx = set(a.reblind_many(by, executor=pool))
            del by
        hits = sum(1 for p in bxy if p in byx)
        seconds = time.perf_counter() - start
        cpu = cpu_seconds() - cpu_start
        assert hits == psi_size - psi_size // 2

        report.extras["psi_full"] = {
            "size": psi_size,
            "seconds": round(seconds, 1),
            # CPU seconds of this process and its workers: on a machine shared with other jobs,
            # cpu_seconds / 2 is the wall time the two cores would need without them
            "cpu_seconds": round(cpu, 1),
            "wall_if_two_idle_cores": round(cpu / 2, 1),
            "intersection": hits,
            # ru_maxrss is in KiB on Linux: the largest single process, not a sum
            "peak_rss_main_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "peak_rss_worker_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
        }


def bench_envelope(report: Report, quick: bool, say: Progress) -> None:
    from tongdao.crypto.envelope import EncryptionKeyPair, open_sealed, seal

    say("envelope")
    kp = EncryptionKeyPair.generate()
    size = 16 * 1024 * 1024 if not quick else 4 * 1024 * 1024
    payload = os.urandom(size)
    r = 3 if quick else 5

    def seal_mb() -> int:
        seal(kp.public_key, payload, b"ad")
        return size // (1024 * 1024)

    sealed = seal(kp.public_key, payload, b"ad")

    def open_mb() -> int:
        open_sealed(kp.private_key, sealed, b"ad")
        return size // (1024 * 1024)

    report.add(
        Result(
            "envelope seal (AES-256-GCM)",
            "tongdao",
            0,
            "MB/s",
            *_rate(seal_mb, r),
            r,
            f"{size // 2**20} MiB messages",
        )
    )
    report.add(
        Result(
            "envelope open (AES-256-GCM)",
            "tongdao",
            0,
            "MB/s",
            *_rate(open_mb, r),
            r,
            f"{size // 2**20} MiB messages",
        )
    )
    small = [os.urandom(256) for _ in range(200 if quick else 2000)]
    report.add(
        Result(
            "envelope seal, 256-byte records",
            "tongdao",
            0,
            "ops/s",
            *_rate(lambda: len([seal(kp.public_key, m, b"ad") for m in small]), r),
            r,
            "dominated by the X25519 key agreement",
        )
    )


def bench_scaling(report: Report, quick: bool, say: Progress) -> None:
    """Time vs batch size, 10² to 10⁶ values, for packed encryption (32-bit values, 3 additions).

    The full run measures every size, 10⁶ included; ``--quick`` measures up to 10³ and
    extrapolates linearly (marked as such in the JSON and the plot). phe (one ciphertext per
    value) is measured at 10² and extrapolated: 10⁶ phe encryptions would take hours.
    """

    from tongdao.crypto.encoding import PackingScheme
    from tongdao.crypto.paillier import generate_paillier_keypair

    pk, _ = generate_paillier_keypair(2048)
    pk.table  # noqa: B018 - build the table outside the timing (reported separately)
    scheme = PackingScheme.for_bounds(pk, 0, 2**32 - 1, additions=3)
    measured_max = 10**3 if quick else 10**6
    per_value: float | None = None
    for exp in range(2, 7):
        size = 10**exp
        if size <= measured_max:
            say(f"scaling: {size:,} values")
            values = [(i * 2654435761) % 2**32 for i in range(size)]
            start = time.perf_counter()
            scheme.encrypt(pk, values)
            seconds = time.perf_counter() - start
            per_value = seconds / size
            report.scaling.append(
                {"implementation": "tongdao", "values": size, "seconds": seconds, "measured": True}
            )
        else:
            assert per_value is not None
            report.scaling.append(
                {
                    "implementation": "tongdao",
                    "values": size,
                    "seconds": per_value * size,
                    "measured": False,
                }
            )
    phe_pk = pk.to_phe()
    n_phe = 20 if quick else 100
    start = time.perf_counter()
    for v in range(n_phe):
        phe_pk.encrypt(v)
    phe_per_value = (time.perf_counter() - start) / n_phe
    for exp in range(2, 7):
        size = 10**exp
        report.scaling.append(
            {
                "implementation": "phe",
                "values": size,
                "seconds": phe_per_value * (n_phe if size == n_phe else size),
                "measured": size == n_phe,
            }
        )


def ratios(report: Report) -> list[dict[str, Any]]:
    """Rows of the table: each of our results with its ratio to phe at the same size."""
    phe = {(r.operation, r.key_bits): r for r in report.results if r.implementation == "phe"}
    heu = {(r.operation, r.key_bits): r for r in report.results if r.implementation == "sf-heu"}
    rows = []
    for r in report.results:
        if r.implementation != "tongdao":
            continue
        ref = phe.get((r.operation, r.key_bits))
        other = heu.get((r.operation, r.key_bits))
        rows.append(
            {
                "operation": r.operation,
                "key_bits": r.key_bits,
                "unit": r.unit,
                "median": r.median,
                "low": r.low,
                "high": r.high,
                "phe": ref.median if ref else None,
                "ratio_to_phe": r.median / ref.median if ref else None,
                "sf_heu": other.median if other else None,
                "note": r.note,
            }
        )
    return rows


def render_table(report: Report) -> str:
    def fmt(x: float | None) -> str:
        if x is None:
            return "—"
        return f"{x:,.0f}" if x >= 100 else f"{x:,.2f}"

    lines = [
        "| operation | key | tongdao median (min–max) | phe | ratio to phe | sf-heu | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in ratios(report):
        ratio = f"{row['ratio_to_phe']:.1f}×" if row["ratio_to_phe"] else "—"
        key = str(row["key_bits"]) if row["key_bits"] else "—"
        lines.append(
            f"| {row['operation']} | {key} | {fmt(row['median'])} {row['unit']} "
            f"({fmt(row['low'])}–{fmt(row['high'])}) | {fmt(row['phe'])} | {ratio} | "
            f"{fmt(row['sf_heu'])} | {row['note']} |"
        )
    return "\n".join(lines)


def plot(report: Report, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    rows = [r for r in ratios(report) if r["phe"]]
    if rows:
        fig, ax = plt.subplots(figsize=(12, 0.45 * len(rows) + 1.5))
        labels = [f"{r['operation']} ({r['key_bits']})" for r in rows]
        ax.barh(labels, [r["ratio_to_phe"] for r in rows], color="#2a6f97")
        ax.set_xscale("log")
        ax.axvline(1.0, color="grey", lw=1)
        ax.set_xlabel("throughput ratio to phe, same run (log scale; >1 is faster)")
        ax.set_title("Tongdao crypto core vs phe")
        ax.invert_yaxis()
        fig.tight_layout()
        p = out / "crypto-ratio-to-phe.png"
        fig.savefig(p, dpi=80)
        plt.close(fig)
        paths.append(p)
    for bits in sorted({r.key_bits for r in report.results if r.key_bits}):
        ops = list(dict.fromkeys(r.operation for r in report.results if r.key_bits == bits))
        impls = ["tongdao", "phe", "sf-heu"]
        fig, ax = plt.subplots(figsize=(12, 0.6 * len(ops) + 1.5))
        height = 0.8 / len(impls)
        for j, (impl, color) in enumerate(
            zip(impls, ("#2a6f97", "#c44536", "#7a9e3b"), strict=True)
        ):
            found = {
                r.operation: r.median
                for r in report.results
                if r.key_bits == bits and r.implementation == impl
            }
            ys = [i + j * height for i, op in enumerate(ops) if op in found]
            if ys:
                ax.barh(
                    ys, [found[op] for op in ops if op in found], height, label=impl, color=color
                )
        ax.set_yticks([i + height for i in range(len(ops))], ops)
        ax.set_xscale("log")
        ax.set_xlabel("throughput, one core (operations or values per second; log scale)")
        ax.set_title(f"Paillier throughput per operation, {bits}-bit, same run")
        ax.invert_yaxis()
        ax.legend()
        fig.tight_layout()
        p = out / f"crypto-throughput-{bits}.png"
        fig.savefig(p, dpi=80)
        plt.close(fig)
        paths.append(p)
    if report.scaling:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for impl, color in (("tongdao", "#2a6f97"), ("phe", "#c44536")):
            points = [p for p in report.scaling if p.get("implementation", "tongdao") == impl]
            if not points:
                continue
            xs = [pt["values"] for pt in points]
            ys = [pt["seconds"] for pt in points]
            ax.plot(xs, ys, color=color, lw=1)
            label = "tongdao, packed" if impl == "tongdao" else "phe, one ciphertext per value"
            ax.scatter(
                [pt["values"] for pt in points if pt["measured"]],
                [pt["seconds"] for pt in points if pt["measured"]],
                color=color,
                label=f"{label}: measured",
                zorder=3,
            )
            ax.scatter(
                [pt["values"] for pt in points if not pt["measured"]],
                [pt["seconds"] for pt in points if not pt["measured"]],
                color=color,
                marker="x",
                label=f"{label}: extrapolated (linear)",
                zorder=3,
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("values (32-bit)")
        ax.set_ylabel("seconds to encrypt, one core")
        ax.set_title("Encryption time vs batch size (2048-bit)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        p = out / "crypto-scaling.png"
        fig.savefig(p, dpi=90)
        plt.close(fig)
        paths.append(p)
    return paths


def run(
    out: Path,
    *,
    quick: bool = False,
    key_sizes: tuple[int, ...] = (2048, 3072),
    psi_size: int = 0,
    say: Progress = print,
    only: tuple[str, ...] = SECTIONS,
) -> Report:
    """Run the benchmark and write JSON, the Markdown table and plots to ``out``.

    Args:
        out: output directory (created).
        quick: CI smoke sizes.
        key_sizes: Paillier key sizes.
        psi_size: also run an N × N PSI with both parties on this machine (0: no).
        say: progress messages.
        only: sections to run, a subset of :data:`SECTIONS`.
    """
    out.mkdir(parents=True, exist_ok=True)
    report = Report(_machine(), _versions(), quick)
    report.extras["load_average_at_start"] = list(os.getloadavg())
    if "paillier" in only:
        for bits in key_sizes:
            bench_paillier(report, bits, quick, say)
    if "psi" in only:
        bench_psi(report, quick, say, psi_size)
    if "envelope" in only:
        bench_envelope(report, quick, say)
    if "scaling" in only:
        bench_scaling(report, quick, say)
    report.extras["load_average_at_end"] = list(os.getloadavg())
    table = render_table(report)
    (out / "crypto-bench.md").write_text(table + "\n")
    data = asdict(report)
    data["table"] = ratios(report)
    (out / "crypto-bench.json").write_text(json.dumps(data, indent=2))
    plot(report, out)
    return report


def replot(json_path: Path, out: Path) -> list[Path]:
    """Redraw the plots of an earlier run from its JSON (no measurement)."""
    data = json.loads(json_path.read_text())
    report = Report(data["machine"], data["versions"], data["quick"])
    report.results = [Result(**r) for r in data["results"]]
    report.scaling = data["scaling"]
    report.extras = data["extras"]
    return plot(report, out)
