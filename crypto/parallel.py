"""Process pools for large Paillier batches.

Encryption workers rebuild the public key (and its fixed-base table) once each; decryption workers
rebuild the private key once each. Work moves in chunks of :data:`CHUNK` values, results come
back in input order, and ``progress(done, total)`` is called as chunks complete. Pools use the
``spawn`` start method: the caller may be a multi-threaded gRPC server, where ``fork`` is unsafe.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING

from gmpy2 import mpz

if TYPE_CHECKING:
    from tongdao.crypto.paillier import Ciphertext, PaillierPrivateKey, PaillierPublicKey

CHUNK = 2048
_worker_key: PaillierPublicKey | None = None
_worker_private: PaillierPrivateKey | None = None


def _init(n: int, hs: int) -> None:
    global _worker_key
    from tongdao.crypto.paillier import PaillierPublicKey

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


def _init_private(n: int, hs: int, p: int) -> None:
    global _worker_private
    from tongdao.crypto.paillier import PaillierPrivateKey, PaillierPublicKey

    _worker_private = PaillierPrivateKey(PaillierPublicKey(mpz(n), mpz(hs)), mpz(p), mpz(n) // p)


def _decrypt_chunk(values: list[int]) -> list[int]:
    assert _worker_private is not None
    from tongdao.crypto.paillier import Ciphertext

    pk = _worker_private.public_key
    return [_worker_private.decrypt(Ciphertext(pk, mpz(v))) for v in values]


def decrypt_parallel(
    private_key: PaillierPrivateKey,
    ciphertexts: list[Ciphertext],
    *,
    workers: int,
    progress: Callable[[int, int], None] | None = None,
) -> list[int]:
    """Decrypt ``ciphertexts`` (all under ``private_key``) on ``workers`` processes, in order.

    Raises:
        InvalidCiphertext: one is invalid (re-raised from the worker).
        PlaintextOverflow: one decrypts outside the signed range.
    """
    values = [int(c.value) for c in ciphertexts]
    chunks = [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]
    pk = private_key.public_key
    out: list[int] = []
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_private,
        initargs=(int(pk.n), int(pk.hs), int(private_key.p)),
    ) as pool:
        for result in pool.map(_decrypt_chunk, chunks):
            out.extend(result)
            if progress:
                progress(len(out), len(values))
    return out
