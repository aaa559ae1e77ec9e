"""Crypto-core benchmark: this project vs phe (always) vs sf-heu (when installed), same run.

Run: ``tongdao bench crypto [--quick] [--out DIR] [--key-sizes 2048,3072]``.
Writes ``crypto-bench.json``, ``crypto-bench.md`` (the table) and the plots to ``--out`` in the
benchmarks' one report format (:mod:`report`). Every figure is a median over repeats measured
in this run; ratios are to phe (PSI: to bare OpenSSL X25519) in the same run.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tongdao.benchmarks import report as common
from tongdao.benchmarks.crypto_paillier import (
    Measurements,
    Progress,
    Result,
    bench_paillier,
    compare,
    rate,
)

__all__ = ["SECTIONS", "Measurements", "Report", "Result", "bench_paillier", "run"]

SECTIONS = ("paillier", "psi", "envelope", "scaling")
Report = Measurements  # the name earlier callers use

# what docs/benchmarks/crypto.md states the core must reach, as ratios to phe in the same run
# or as values; an operation without a stated target has none here
RATIO_TARGETS = {
    "encrypt (public-key holder)": 50.0,
    "encrypt (key owner)": 80.0,
    "decrypt": 1.0,
    "ct + ct": 1.5,
    "ct × 64-bit scalar": 1.0,
    "decrypt, per packed value": 20.0,
    "packed pipeline per value (encrypt ×3 parties, sum, decrypt)": 500.0,
}
VALUE_TARGETS = {
    "envelope seal (AES-256-GCM)": common.Target(1000.0),
    "envelope open (AES-256-GCM)": common.Target(1000.0),
}
PSI_FULL_TARGET_SECONDS = 120.0
PSI_BLINDING = "PSI blinding (hash-to-group + scalar mult)"
BARE_X25519 = "X25519 scalar mult, bare OpenSSL (this host's reference)"


def _machine() -> dict[str, Any]:
    return {
        **common.machine(),
        "single_core": "per-operation figures are single-threaded unless the note says otherwise",
    }


def bench_psi(report: Measurements, quick: bool, say: Progress, psi_size: int) -> None:
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
    rates = compare(
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
            "openssl",
            0,
            "ops/s",
            *rates["openssl"],
            r,
            "one core; no hashing or checks",
        )
    )
    report.extras["psi_blinding_backend"] = backend()
    # re-blinding a peer's points: always OpenSSL (crypto/psi.py says why)
    peer = blinder.blind_packed(items)
    for name, work in (
        ("PSI blinding, per CPU-second", lambda: blinder.blind_many(items)),
        ("PSI re-blinding a peer's points, per CPU-second", lambda: blinder.reblind_packed(peer)),
    ):
        cpu_rates = []
        for _ in range(r):
            cpu_start = time.process_time()
            work()
            cpu_rates.append(n / (time.process_time() - cpu_start))
        # elements per CPU-second: what one core does when no other job shares it
        report.add(
            Result(
                name,
                "tongdao",
                0,
                "elements/s",
                statistics.median(cpu_rates),
                min(cpu_rates),
                max(cpu_rates),
                r,
                "process CPU time, not wall time",
            )
        )
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


def bench_envelope(report: Measurements, quick: bool, say: Progress) -> None:
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
            *rate(seal_mb, r),
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
            *rate(open_mb, r),
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
            *rate(lambda: len([seal(kp.public_key, m, b"ad") for m in small]), r),
            r,
            "dominated by the X25519 key agreement",
        )
    )


def bench_scaling(report: Measurements, quick: bool, say: Progress) -> None:
    """Time vs batch size, 10² to 10⁶ values, for packed encryption (32-bit values, 3 additions).

    The full run measures every size, 10⁶ included; ``--quick`` measures up to 10³ and
    extrapolates linearly from the largest measured size. phe (one ciphertext per value) is
    measured on a small batch and extrapolated at every size: 10⁶ phe encryptions would take
    hours. Each point says whether it was measured; sizes up to 10⁴ are timed three times.
    """

    from tongdao.crypto.encoding import PackingScheme
    from tongdao.crypto.paillier import generate_paillier_keypair

    pk, _ = generate_paillier_keypair(2048)
    pk.table  # noqa: B018 - build the table outside the timing (reported separately)
    scheme = PackingScheme.for_bounds(pk, 0, 2**32 - 1, additions=3)
    measured_max = 10**3 if quick else 10**6
    per_value = (0.0, 0.0, 0.0)
    for exp in range(2, 7):
        size = 10**exp
        point: dict[str, Any] = {"implementation": "tongdao", "values": size}
        if size <= measured_max:
            say(f"scaling: {size:,} values")
            values = [(i * 2654435761) % 2**32 for i in range(size)]
            times = []
            for _ in range(3 if size <= 10**4 else 1):
                start = time.perf_counter()
                scheme.encrypt(pk, values)
                times.append(time.perf_counter() - start)
            per_value = tuple(t / size for t in (statistics.median(times), min(times), max(times)))
            point["measured"] = True
        else:
            point["measured"] = False
        point["seconds"], point["low"], point["high"] = (x * size for x in per_value)
        report.scaling.append(point)
    phe_pk = pk.to_phe()
    n_phe = 20 if quick else 100
    times = []
    for _ in range(3):
        start = time.perf_counter()
        for v in range(n_phe):
            phe_pk.encrypt(v)
        times.append((time.perf_counter() - start) / n_phe)
    phe_per_value = (statistics.median(times), min(times), max(times))
    sizes = sorted({n_phe, *(10**exp for exp in range(2, 7))})
    for size in sizes:
        seconds, low, high = (x * size for x in phe_per_value)
        report.scaling.append(
            {
                "implementation": "phe",
                "values": size,
                "seconds": seconds,
                "low": low,
                "high": high,
                "measured": size == n_phe,
            }
        )


# ---------------------------------------------------------------- the report


def _section(r: Result) -> str:
    if r.key_bits:
        return f"Paillier {r.key_bits}"
    return "envelope" if r.operation.startswith("envelope") else "PSI"


def rows(m: Measurements) -> list[common.Row]:
    """The report's rows: each of our results with its reference in the same run."""
    by = {(r.operation, r.key_bits, r.implementation): r for r in m.results}
    out = []
    for r in m.results:
        if r.implementation != "tongdao":
            continue
        phe = by.get((r.operation, r.key_bits, "phe"))
        heu = by.get((r.operation, r.key_bits, "sf-heu"))
        bare = by.get((BARE_X25519, 0, "openssl")) if r.operation == PSI_BLINDING else None
        reference, ref = (
            ("phe", phe) if phe else ("bare OpenSSL X25519", bare) if bare else ("", None)
        )
        target = VALUE_TARGETS.get(r.operation)
        if r.operation in RATIO_TARGETS and ref is not None and r.key_bits >= 2048:
            target = common.Target(RATIO_TARGETS[r.operation], of="ratio")
        note = "; ".join(
            x for x in (r.note, f"sf-heu {common.fmt(heu.median)} {r.unit}" if heu else "") if x
        )
        out.append(
            common.Row(
                _section(r),
                r.operation,
                r.unit,
                r.median,
                r.low,
                r.high,
                reference=reference,
                reference_value=ref.median if ref else None,
                target=target,
                note=note,
            )
        )
    full = m.extras.get("psi_full")
    if full:
        out.append(
            common.Row(
                "PSI",
                f"PSI {full['size']:,} × {full['size']:,}, both parties on this machine",
                "s",
                full["seconds"],
                target=common.Target(PSI_FULL_TARGET_SECONDS, at_most=True),
                note=f"{full['cpu_seconds']} CPU-s, peak {full['peak_rss_main_mib']} MiB "
                f"(main) / {full['peak_rss_worker_mib']} MiB (worker)",
            )
        )
    for point in m.scaling:
        if point["implementation"] == "tongdao" and point["values"] == 10**6:
            phe_point = next(
                (p for p in m.scaling if p["implementation"] == "phe" and p["values"] == 10**6),
                None,
            )
            out.append(
                common.Row(
                    "scaling (2048)",
                    "encrypt 10⁶ 32-bit values, packed",
                    "s",
                    point["seconds"],
                    point.get("low"),
                    point.get("high"),
                    measured=point["measured"],
                    note=f"phe one ciphertext per value: {common.fmt(phe_point['seconds'])} s, "
                    f"{'measured' if phe_point['measured'] else 'extrapolated'}"
                    if phe_point
                    else "",
                )
            )
    return out


def series(m: Measurements) -> list[common.Series]:
    """The scaling curve (time to encrypt against batch size)."""
    if not m.scaling:
        return []
    labels = {"tongdao": "tongdao, packed", "phe": "phe, one ciphertext per value"}
    curves: dict[str, list[common.Point]] = {}
    for p in m.scaling:
        curves.setdefault(labels.get(p["implementation"], p["implementation"]), []).append(
            common.Point(p["values"], p["seconds"], p.get("low"), p.get("high"), p["measured"])
        )
    return [
        common.Series(
            "scaling",
            "Encryption time vs batch size (2048-bit, 32-bit values)",
            "values",
            "seconds to encrypt, one core",
            curves,
            log_y=True,
        )
    ]


def to_report(m: Measurements, command: str) -> common.Report:
    """The run in the benchmarks' common report format."""
    report = common.Report(
        "crypto",
        command,
        quick=m.quick,
        machine=m.machine,
        versions=m.versions,
        started_at=m.started_at or common._now(),
        load_average=m.load_average or {"start": common._load()},
        rows=rows(m),
        series=series(m),
    )
    report.detail = {
        "results": [asdict(r) for r in m.results],
        "scaling": m.scaling,
        "extras": m.extras,
    }
    return report


def render_table(m: Measurements) -> str:
    """The header and the Markdown table of a run."""
    return to_report(m, m.command).markdown()


def run(
    out: Path,
    *,
    quick: bool = False,
    key_sizes: tuple[int, ...] = (2048, 3072),
    psi_size: int = 0,
    say: Progress = print,
    only: tuple[str, ...] = SECTIONS,
) -> Measurements:
    """Run the benchmark and write JSON, the Markdown table and plots to ``out``.

    Args:
        out: output directory (created).
        quick: CI smoke sizes.
        key_sizes: Paillier key sizes.
        psi_size: also run an N × N PSI with both parties on this machine (0: no).
        say: progress messages.
        only: sections to run, a subset of :data:`SECTIONS`.
    """
    m = Measurements(_machine(), common.versions("phe", "gmpy2", "cryptography", "sf-heu"), quick)
    argv = ["--quick"] if quick else []
    argv += ["--key-sizes", ",".join(map(str, key_sizes)), "--only", ",".join(only)]
    argv += ["--psi-size", str(psi_size)] if psi_size else []
    m.command = common.command("crypto", [*argv, "--out", str(out)])
    m.started_at = common._now()
    m.load_average = {"start": common._load()}
    if "paillier" in only:
        for bits in key_sizes:
            bench_paillier(m, bits, quick, say)
    if "psi" in only:
        bench_psi(m, quick, say, psi_size)
    if "envelope" in only:
        bench_envelope(m, quick, say)
    if "scaling" in only:
        bench_scaling(m, quick, say)
    m.load_average["end"] = common._load()
    to_report(m, m.command).write(out, "crypto-bench")
    return m


def replot(json_path: Path, out: Path) -> list[Path]:
    """Redraw the plots of an earlier run from its JSON (no measurement)."""
    data = json.loads(json_path.read_text())
    detail = data["detail"]
    m = Measurements(data["machine"], data["versions"], data["quick"], command=data["command"])
    m.results = [Result(**r) for r in detail["results"]]
    m.scaling = detail["scaling"]
    m.extras = detail["extras"]
    m.started_at, m.load_average = data["started_at"], data["load_average"]
    return common.plot(to_report(m, data["command"]), out, "crypto-bench")
