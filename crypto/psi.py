"""ECDH-PSI building block: hash to the group and commutative blinding.

Group: Curve25519 through X25519 (RFC 7748), computed by OpenSSL via ``cryptography`` — the
fastest well-kept C-backed scalar multiplication available here (measured in docs/crypto.md
against libsodium's ed25519 and libsecp256k1). An item is hashed to a u-coordinate
``SHA-512(domain ‖ len ‖ item)[:32]``; blinding with a secret scalar ``k`` is ``X25519(k, u)``.
X25519 clamps every scalar to a multiple of the cofactor, so every blinded value lies in a
prime-order subgroup (of the curve or of its twist — Curve25519 is twist-secure), and blinding
commutes: ``X25519(a, X25519(b, H(x))) == X25519(b, X25519(a, H(x)))``. A peer's point that
yields the all-zero output (a low-order point) is refused.

APIs: single items, batches (optionally on several processes, or on a caller's pool) and
bounded-memory streams.
"""

from __future__ import annotations

import hashlib
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from crypto.errors import CryptoError
from crypto.randomness import RandomBytes, resolve

POINT_BYTES = 32
DEFAULT_DOMAIN = b"tongdao/v1 psi x25519"
STREAM_CHUNK = 4096
_SPAWN = multiprocessing.get_context("spawn")


class PsiError(CryptoError):
    """A peer sent a malformed or low-order point."""


def hash_to_point(item: bytes, domain: bytes = DEFAULT_DOMAIN) -> bytes:
    """Map an item to a group element (a 32-byte X25519 u-coordinate)."""
    h = hashlib.sha512()
    h.update(len(domain).to_bytes(2, "big") + domain + len(item).to_bytes(8, "big") + item)
    return h.digest()[:POINT_BYTES]


class PsiBlinder:
    """One party's secret scalar and the operations with it."""

    def __init__(self, scalar: bytes | None = None, *, rng: RandomBytes | None = None) -> None:
        """Create a blinder.

        Args:
            scalar: 32 secret bytes (known-answer tests); drawn from the CSPRNG when omitted.
            rng: random source for known-answer tests only.

        Raises:
            PsiError: the scalar is not 32 bytes.
        """
        raw = scalar if scalar is not None else resolve(rng)(POINT_BYTES)
        if len(raw) != POINT_BYTES:
            raise PsiError("scalar must be 32 bytes")
        self._scalar = bytes(raw)
        self._key = X25519PrivateKey.from_private_bytes(self._scalar)

    def __repr__(self) -> str:
        return "PsiBlinder(<secret scalar>)"

    def __getstate__(self) -> dict[str, bytes]:  # for process pools: the key object does not pickle
        return {"scalar": self._scalar}

    def __setstate__(self, state: dict[str, bytes]) -> None:
        self.__init__(state["scalar"])  # type: ignore[misc]

    def reblind(self, point: bytes) -> bytes:
        """Multiply a peer's (or our own) point by our scalar.

        Raises:
            PsiError: not 32 bytes, or a low-order point.
        """
        if len(point) != POINT_BYTES:
            raise PsiError("point must be 32 bytes")
        try:
            return self._key.exchange(X25519PublicKey.from_public_bytes(point))
        except ValueError:
            raise PsiError("point has low order") from None

    def blind(self, item: bytes, domain: bytes = DEFAULT_DOMAIN) -> bytes:
        """Hash an item to the group and blind it."""
        return self.reblind(hash_to_point(item, domain))

    def blind_many(
        self,
        items: Iterable[bytes],
        *,
        domain: bytes = DEFAULT_DOMAIN,
        workers: int = 1,
        progress: Callable[[int, int], None] | None = None,
        executor: Executor | None = None,
    ) -> list[bytes]:
        """Blind a batch, in order.

        Args:
            items: the items (bytes).
            domain: hash-to-group domain separation tag; both parties must use the same.
            workers: ``> 1`` spreads large batches over that many new processes.
            progress: called as ``progress(done, total)`` after each chunk.
            executor: an existing process pool to use instead of starting one (saves the start-up
                of a pool per call when a protocol runs several steps).

        Returns:
            32-byte blinded points, in input order.

        Raises:
            PsiError: an item hashed to a low-order point (probability about 2^-250).
        """
        return self._many(list(items), _blind_chunk, domain, workers, progress, executor)

    def reblind_many(
        self,
        points: Iterable[bytes],
        *,
        workers: int = 1,
        progress: Callable[[int, int], None] | None = None,
        executor: Executor | None = None,
    ) -> list[bytes]:
        """Re-blind a batch of points (a peer's blinded items), in order.

        Args:
            points: 32-byte points.
            workers: ``> 1`` spreads large batches over that many new processes.
            progress: called as ``progress(done, total)`` after each chunk.
            executor: an existing process pool to use instead of starting one.

        Returns:
            The points multiplied by this party's scalar, in input order.

        Raises:
            PsiError: a point is malformed or of low order.
        """
        return self._many(list(points), _reblind_chunk, DEFAULT_DOMAIN, workers, progress, executor)

    def _many(
        self,
        items: list[bytes],
        fn: Callable[[PsiBlinder, list[bytes], bytes], list[bytes]],
        domain: bytes,
        workers: int,
        progress: Callable[[int, int], None] | None,
        executor: Executor | None = None,
    ) -> list[bytes]:
        total = len(items)
        chunks = [items[i : i + STREAM_CHUNK] for i in range(0, total, STREAM_CHUNK)]
        out: list[bytes] = []
        if executor is not None and total >= 2 * STREAM_CHUNK:
            for result in executor.map(fn, [self] * len(chunks), chunks, [domain] * len(chunks)):
                out.extend(result)
                if progress:
                    progress(len(out), total)
            return out
        if workers > 1 and total >= 4 * STREAM_CHUNK:
            # spawn, not fork: the caller may be a multi-threaded gRPC server
            with ProcessPoolExecutor(max_workers=workers, mp_context=_SPAWN) as pool:
                return self._many(items, fn, domain, 1, progress, pool)
        for chunk in chunks:
            out.extend(fn(self, chunk, domain))
            if progress:
                progress(len(out), total)
        return out

    def blind_stream(
        self, items: Iterable[bytes], *, domain: bytes = DEFAULT_DOMAIN, chunk: int = STREAM_CHUNK
    ) -> Iterator[list[bytes]]:
        """Blind an iterable lazily, yielding chunks: memory stays bounded by ``chunk``."""
        buffer: list[bytes] = []
        for item in items:
            buffer.append(item)
            if len(buffer) == chunk:
                yield _blind_chunk(self, buffer, domain)
                buffer = []
        if buffer:
            yield _blind_chunk(self, buffer, domain)

    def reblind_stream(
        self, points: Iterable[bytes], *, chunk: int = STREAM_CHUNK
    ) -> Iterator[list[bytes]]:
        """Re-blind an iterable of peer points lazily, yielding chunks (bounded memory).

        Raises:
            PsiError: a point is malformed or of low order.
        """
        buffer: list[bytes] = []
        for point in points:
            buffer.append(point)
            if len(buffer) == chunk:
                yield _reblind_chunk(self, buffer, DEFAULT_DOMAIN)
                buffer = []
        if buffer:
            yield _reblind_chunk(self, buffer, DEFAULT_DOMAIN)


def _blind_chunk(blinder: PsiBlinder, items: list[bytes], domain: bytes) -> list[bytes]:
    exchange = blinder._key.exchange
    load = X25519PublicKey.from_public_bytes
    out = []
    for item in items:
        try:
            out.append(exchange(load(hash_to_point(item, domain))))
        except ValueError:
            # a hash landing on a low-order point has probability ~2^-250; refuse rather than guess
            raise PsiError("item hashed to a low-order point") from None
    return out


def _reblind_chunk(blinder: PsiBlinder, points: list[bytes], domain: bytes) -> list[bytes]:
    del domain
    return [blinder.reblind(p) for p in points]
