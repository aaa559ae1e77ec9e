"""Process-pool encryption for large batches (each worker builds the key's table once)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING

from gmpy2 import mpz

if TYPE_CHECKING:
    from crypto.paillier import PaillierPublicKey

CHUNK = 2048
_worker_key: PaillierPublicKey | None = None


def _init(n: int, hs: int) -> None:
    global _worker_key
    from crypto.paillier import PaillierPublicKey

    _worker_key = PaillierPublicKey(mpz(n), mpz(hs))


def _encrypt_chunk(values: list[int]) -> list[int]:
    assert _worker_key is not None
    return [int(_worker_key.encrypt(v).value) for v in values]


def encrypt_parallel(
    public_key: PaillierPublicKey,
    values: list[int],
    *,
    workers: int,
    progress: Callable[[int, int], None] | None = None,
) -> list[mpz]:
    """Encrypt ``values`` on ``workers`` processes, in order.

    Raises:
        PlaintextOverflow: a value does not fit (checked before any work starts).
    """
    for v in values:
        public_key.encode(v)
    chunks = [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]
    out: list[mpz] = []
    done = 0
    # spawn, not fork: the caller may be a multi-threaded gRPC server
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init,
        initargs=(int(public_key.n), int(public_key.hs)),
    ) as pool:
        for chunk, result in zip(chunks, pool.map(_encrypt_chunk, chunks), strict=True):
            out.extend(mpz(c) for c in result)
            done += len(chunk)
            if progress:
                progress(done, len(values))
    return out
