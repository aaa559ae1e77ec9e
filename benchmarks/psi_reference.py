"""The compute floor of ECDH-PSI on this host, measured beside the engines in the same run.

Both parties' four steps — hash and blind each side's items (RFC 9380 hash to Curve25519, then
X25519), re-blind each other's points, compare — with the same primitives and backend as the
engine, in this process and one pool of two worker processes, with no network, no broker, no
sealing, no padding and no protocol. The engine's time over this one says what the protocol and
transport cost on top of the cryptography, whatever else the machine was running.
"""

from __future__ import annotations

import multiprocessing
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from tongdao.crypto.psi import PsiBlinder, backend


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # counted once the workers exit
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def reference_psi(keys: int, rows: int, overlap: int) -> dict[str, Any]:
    """Time a bare two-party PSI of ``keys`` × ``rows`` items sharing ``overlap``.

    Returns:
        Wall and CPU seconds (this process and its workers), the intersection found and the
        backend that blinded.

    Raises:
        AssertionError: the intersection is not ``overlap`` (the reference must be right too).
    """
    a, b = PsiBlinder(), PsiBlinder()
    xs = [f"X{i:017d}".encode() for i in range(keys)]
    ys = [f"X{i:017d}".encode() for i in range(keys - overlap, keys - overlap + rows)]
    cpu_start = _cpu_seconds()
    start = time.perf_counter()
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        bx = a.blind_packed(xs, executor=pool)
        by = b.blind_packed(ys, executor=pool)
        bxy = b.reblind_packed(bx, executor=pool)
        del bx
        byx = a.reblind_packed(by, executor=pool)
        del by
    theirs = {byx[i : i + 32] for i in range(0, len(byx), 32)}
    hits = sum(bxy[i : i + 32] in theirs for i in range(0, len(bxy), 32))
    seconds = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu_start
    assert hits == overlap, (hits, overlap)
    return {
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "intersection": hits,
        "backend": backend(),
    }
