"""ECDH-PSI building block: hash to the group and commutative blinding.

Group: the prime-order subgroup of Curve25519, through X25519 (RFC 7748). An item is hashed to
the curve by RFC 9380's ``curve25519_XMD:SHA-512_ELL2_RO_`` (Elligator 2, two maps added, cofactor
cleared: :mod:`crypto.hash_to_curve`) with the domain as its domain separation tag, and encoded as
the point's u-coordinate; blinding with a secret scalar ``k`` is ``X25519(k, u)``. Every hashed
point is in the prime-order subgroup of the curve (never on the twist), so the hashed and blinded
values are pseudorandom subgroup elements under DDH, and blinding commutes:
``X25519(a, X25519(b, H(x))) == X25519(b, X25519(a, H(x)))``.

Low-order points are refused *before* any multiplication: a u-coordinate that, with bit 255
masked as RFC 7748 says, is one of the seven encodings of a point of order 1, 2, 4 or 8 (on the
curve or its twist) raises :class:`PsiError`; so does an all-zero result (defence in depth).

Two backends compute the same function, byte for byte (checked by the tests):

* ``crypto_mb`` — Intel's multi-buffer X25519 (eight lanes of AVX-512 IFMA, :mod:`crypto.crypto_mb`)
  for batches: about 4× OpenSSL's throughput per core where the CPU has IFMA;
* ``openssl`` — ``cryptography``'s X25519 (OpenSSL), for single points and wherever crypto_mb
  cannot be loaded (a :class:`RuntimeWarning` says so once per process).

``TONGDAO_PSI_BACKEND`` = ``auto`` (default), ``openssl`` (never load crypto_mb) or ``crypto_mb``
(fail loudly if it cannot be used) chooses. Both parties may use different backends.

APIs: single items, batches (optionally on several processes, or on a caller's pool; chunks cross
process boundaries as one bytes string each), packed batches (``n × 32`` bytes in and out, no
per-point Python objects) and bounded-memory streams.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from itertools import repeat

import numpy as np
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from tongdao.crypto import crypto_mb
from tongdao.crypto.errors import CryptoError
from tongdao.crypto.hash_to_curve import hash_to_u
from tongdao.crypto.randomness import RandomBytes, resolve
from tongdao.policies.i18n import msg

POINT_BYTES = 32
DEFAULT_DOMAIN = b"tongdao/v1 psi curve25519_XMD:SHA-512_ELL2_RO_"
STREAM_CHUNK = 4096
POOL_CHUNK = 8192  # points per task on a process pool: 256 KiB each way
BACKEND_ENV = "TONGDAO_PSI_BACKEND"
_SPAWN = multiprocessing.get_context("spawn")

_P = 2**255 - 19
# u-coordinates of the points of order 1, 2, 4 and 8 on Curve25519 and its twist (0, 1, the two
# of order 8, −1), and the non-canonical encodings below 2^255 of 0, 1 (p, p + 1)
LOW_ORDER_U = (
    0,
    1,
    0xB8495F16056286FDB1329CEB8D09DA6AC49FF1FAE35616AEB8413B7C7AEBE0,
    0x57119FD0DD4E22D8868E1C58C45C44045BEF839C55B1D0B1248C50A3BC959C5F,
    _P - 1,
    _P,
    _P + 1,
)
_LOW_ORDER_WORDS = np.frombuffer(
    b"".join(u.to_bytes(POINT_BYTES, "little") for u in LOW_ORDER_U), dtype="<u8"
).reshape(-1, 4)
_TOP_BIT_MASK = np.uint64(2**63 - 1)


class PsiError(CryptoError):
    """A peer sent a malformed or low-order point."""


def hash_to_point(item: bytes, domain: bytes = DEFAULT_DOMAIN) -> bytes:
    """Map an item to a group element (a 32-byte X25519 u-coordinate).

    Args:
        item: the item's bytes.
        domain: domain separation tag (RFC 9380 DST, at most 255 bytes); both parties must use
            the same.

    Returns:
        The u-coordinate of RFC 9380 ``hash_to_curve(item)`` for suite
        ``curve25519_XMD:SHA-512_ELL2_RO_``, little-endian.

    Raises:
        ParameterError: a domain longer than 255 bytes.
    """
    return hash_to_u(item, domain)


def hash_to_points(items: Sequence[bytes], domain: bytes = DEFAULT_DOMAIN) -> bytes:
    """:func:`hash_to_point` of every item, in one pass.

    Args:
        items: the items' bytes.
        domain: domain separation tag; both parties must use the same.

    Returns:
        The points concatenated: ``len(items) × 32`` bytes.
    """
    return b"".join([hash_to_u(x, domain) for x in items])


def is_low_order(point: bytes) -> bool:
    """Whether a u-coordinate encodes a point of order 1, 2, 4 or 8 (curve or twist).

    Args:
        point: 32 bytes, little-endian; bit 255 is ignored as RFC 7748 says.

    Returns:
        True for the seven encodings in :data:`LOW_ORDER_U`.
    """
    return int.from_bytes(point, "little") % 2**255 in LOW_ORDER_U


def _any_low_order(points: bytes) -> bool:
    words = np.frombuffer(points, dtype="<u8").reshape(-1, 4)
    top = words[:, 3] & _TOP_BIT_MASK
    # every low-order encoding differs from every other in word 0, so test that first
    for w0, w1, w2, w3 in _LOW_ORDER_WORDS:
        hit = words[:, 0] == w0
        if hit.any() and (hit & (words[:, 1] == w1) & (words[:, 2] == w2) & (top == w3)).any():
            return True
    return False


def _any_zero(points: bytes) -> bool:
    words = np.frombuffer(points, dtype="<u8").reshape(-1, 4)
    return bool((~words.any(axis=1)).any())


def split_points(packed: bytes) -> list[bytes]:
    """Split packed points into a list.

    Args:
        packed: ``n × 32`` bytes.

    Returns:
        ``n`` 32-byte points.
    """
    return [packed[i : i + POINT_BYTES] for i in range(0, len(packed), POINT_BYTES)]


def pack_points(points: Iterable[bytes]) -> bytes:
    """Concatenate 32-byte points.

    Args:
        points: 32-byte points.

    Returns:
        The points as one ``n × 32``-byte string.

    Raises:
        PsiError: a point is not 32 bytes.
    """
    points = points if isinstance(points, list | tuple) else list(points)
    if any(len(p) != POINT_BYTES for p in points):
        raise PsiError("point must be 32 bytes")
    return b"".join(points)


# ---------------------------------------------------------------- backend choice

_backend: crypto_mb.CryptoMb | None = None
_backend_chosen = False


def backend() -> str:
    """The backend that blinds this party's own items in batches, in this process.

    Returns:
        ``"crypto_mb"`` or ``"openssl"`` (a peer's points always go to OpenSSL).

    Raises:
        PsiError: ``TONGDAO_PSI_BACKEND`` is ``crypto_mb`` and it cannot be used, or is unknown.
    """
    return "crypto_mb" if _multi_buffer() is not None else "openssl"


def _multi_buffer() -> crypto_mb.CryptoMb | None:
    global _backend, _backend_chosen
    if _backend_chosen:
        return _backend
    choice = os.environ.get(BACKEND_ENV, "auto").strip().lower() or "auto"
    if choice not in ("auto", "openssl", "crypto_mb"):
        raise PsiError(f"{BACKEND_ENV} must be auto, openssl or crypto_mb")
    if choice != "openssl":
        try:
            _backend = crypto_mb.load()
        except crypto_mb.CryptoMbUnavailable as exc:
            if choice == "crypto_mb":
                raise PsiError(f"{BACKEND_ENV}=crypto_mb but {exc}") from None
            warnings.warn(
                msg(
                    "PSI: {reason}; blinding falls back to OpenSSL's X25519 (about 4× slower "
                    "per core)",
                    reason=exc.args[0] if exc.args else str(exc),
                ),
                RuntimeWarning,
                stacklevel=3,
            )
    _backend_chosen = True
    return _backend


def _openssl_packed(blinder: PsiBlinder, points: bytes) -> bytes:
    exchange = blinder._key.exchange
    load = X25519PublicKey.from_public_bytes
    step = POINT_BYTES
    return b"".join([exchange(load(points[i : i + step])) for i in range(0, len(points), step)])


def _scalarmult_packed(blinder: PsiBlinder, points: bytes, what: str, *, own: bool) -> bytes:
    """X25519(k, u) for each u in ``points`` (``n × 32`` bytes), refusing low order.

    ``own`` marks points this party hashed itself: only those may go to crypto_mb. A peer's points
    always go to OpenSSL — crypto_mb returns wrong results for some crafted inputs
    (docs/crypto.md), and a wrong result computed from a secret scalar on an input the attacker
    chose must never leave this process.
    """
    if len(points) % POINT_BYTES:
        raise PsiError("points must be a whole number of 32-byte points")
    if not points:
        return b""
    if _any_low_order(points):
        raise PsiError(f"{what} has low order")
    mb = _multi_buffer() if own and len(points) >= 4 * POINT_BYTES else None
    try:
        if mb is None or _any_near_p(points):
            out = _openssl_packed(blinder, points)
        else:
            out, status = mb.x25519(blinder._scalar, points)
            if status or not _spot_check(blinder, points, out):
                warnings.warn(
                    "PSI: crypto_mb disagreed with OpenSSL; this chunk was recomputed with OpenSSL",
                    RuntimeWarning,
                    stacklevel=2,
                )
                out = _openssl_packed(blinder, points)
    except ValueError:
        raise PsiError(f"{what} has low order") from None
    if _any_zero(out):
        raise PsiError(f"{what} has low order")
    return out


def _any_near_p(points: bytes) -> bool:
    # crypto_mb is wrong for u in [p - 1393, p - 2]: every u ≥ 2^255 − 2^64 (bit 255 masked)
    # goes to OpenSSL (a hash lands there with probability 2^-191)
    words = np.frombuffer(points, dtype="<u8").reshape(-1, 4)
    top = words[:, 3] & _TOP_BIT_MASK
    return bool(((top == _TOP_BIT_MASK) & (words[:, 2] == _ALL) & (words[:, 1] == _ALL)).any())


_ALL = np.uint64(2**64 - 1)
SPOT_CHECK_EVERY = 64


def _spot_check(blinder: PsiBlinder, points: bytes, out: bytes) -> bool:
    """Recompute one point in every :data:`SPOT_CHECK_EVERY` (random offset) with OpenSSL."""
    n = len(points) // POINT_BYTES
    exchange = blinder._key.exchange
    for i in range(secrets.randbelow(min(n, SPOT_CHECK_EVERY)), n, SPOT_CHECK_EVERY):
        u = points[i * POINT_BYTES : (i + 1) * POINT_BYTES]
        if exchange(X25519PublicKey.from_public_bytes(u)) != out[i * 32 : (i + 1) * 32]:
            return False
    return True


# ---------------------------------------------------------------- the blinder


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

        Args:
            point: a 32-byte u-coordinate.

        Returns:
            ``X25519(scalar, point)``.

        Raises:
            PsiError: not 32 bytes, or a low-order point.
        """
        if len(point) != POINT_BYTES:
            raise PsiError("point must be 32 bytes")
        if is_low_order(point):
            raise PsiError("point has low order")
        try:
            return self._key.exchange(X25519PublicKey.from_public_bytes(point))
        except ValueError:
            raise PsiError("point has low order") from None

    def blind(self, item: bytes, domain: bytes = DEFAULT_DOMAIN) -> bytes:
        """Hash an item to the group and blind it.

        Args:
            item: the item's bytes.
            domain: hash-to-group domain separation tag; both parties must use the same.

        Returns:
            The 32-byte blinded point.

        Raises:
            PsiError: the item hashed to the identity (probability about 2^-250).
        """
        try:
            return self.reblind(hash_to_point(item, domain))
        except PsiError:
            raise PsiError("item hashed to a low-order point") from None

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
        packed = self.blind_packed(
            items, domain=domain, workers=workers, progress=progress, executor=executor
        )
        return split_points(packed)

    def blind_packed(
        self,
        items: Iterable[bytes],
        *,
        domain: bytes = DEFAULT_DOMAIN,
        workers: int = 1,
        progress: Callable[[int, int], None] | None = None,
        executor: Executor | None = None,
    ) -> bytes:
        """Like :meth:`blind_many`, but the result is one ``n × 32``-byte string.

        Args:
            items: the items (bytes).
            domain: hash-to-group domain separation tag; both parties must use the same.
            workers: ``> 1`` spreads large batches over that many new processes.
            progress: called as ``progress(done, total)`` after each chunk.
            executor: an existing process pool to use instead of starting one.

        Returns:
            The blinded points, concatenated in input order.

        Raises:
            PsiError: an item hashed to a low-order point (probability about 2^-250).
        """
        work = items if isinstance(items, list) else list(items)
        return self._run(_blind_chunk, work, len(work), domain, workers, progress, executor)

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
        packed = self.reblind_packed(
            pack_points(points), workers=workers, progress=progress, executor=executor
        )
        return split_points(packed)

    def reblind_packed(
        self,
        points: bytes,
        *,
        workers: int = 1,
        progress: Callable[[int, int], None] | None = None,
        executor: Executor | None = None,
    ) -> bytes:
        """Like :meth:`reblind_many`, on ``n × 32`` bytes in and out (no per-point objects).

        Args:
            points: the peer's points, concatenated.
            workers: ``> 1`` spreads large batches over that many new processes.
            progress: called as ``progress(done, total)`` after each chunk.
            executor: an existing process pool to use instead of starting one.

        Returns:
            The re-blinded points, concatenated in input order.

        Raises:
            PsiError: the length is not a multiple of 32, or a point has low order.
        """
        if len(points) % POINT_BYTES:
            raise PsiError("points must be a whole number of 32-byte points")
        n = len(points) // POINT_BYTES
        return self._run(_reblind_chunk, bytes(points), n, b"", workers, progress, executor)

    def _run(
        self,
        fn: Callable[[PsiBlinder, list[bytes] | bytes, bytes], bytes],
        work: list[bytes] | bytes,
        total: int,
        domain: bytes,
        workers: int,
        progress: Callable[[int, int], None] | None,
        executor: Executor | None,
    ) -> bytes:
        # a chunk is a list of items (blinding) or a slice of the packed points (re-blinding)
        unit = 1 if isinstance(work, list) else POINT_BYTES
        if executor is None and workers > 1 and total >= 4 * POOL_CHUNK:
            # spawn, not fork: the caller may be a multi-threaded gRPC server
            with ProcessPoolExecutor(max_workers=workers, mp_context=_SPAWN) as pool:
                return self._run(fn, work, total, domain, 1, progress, pool)
        size = POOL_CHUNK if executor is not None and total >= 2 * POOL_CHUNK else STREAM_CHUNK
        chunks = (work[i * unit : (i + size) * unit] for i in range(0, total, size))
        if size == POOL_CHUNK and executor is not None:
            results: Iterator[bytes] = executor.map(fn, repeat(self), chunks, repeat(domain))
        else:
            results = (fn(self, chunk, domain) for chunk in chunks)
        out: list[bytes] = []
        done = 0
        for part in results:
            out.append(part)
            done += len(part) // POINT_BYTES
            if progress:
                progress(done, total)
        return b"".join(out)

    def blind_stream(
        self, items: Iterable[bytes], *, domain: bytes = DEFAULT_DOMAIN, chunk: int = STREAM_CHUNK
    ) -> Iterator[list[bytes]]:
        """Blind an iterable lazily, yielding chunks: memory stays bounded by ``chunk``.

        Args:
            items: any iterable of item bytes.
            domain: hash-to-group domain separation tag.
            chunk: points per yielded list.

        Yields:
            Lists of up to ``chunk`` blinded points, in input order.

        Raises:
            PsiError: an item hashed to a low-order point (probability about 2^-250).
        """
        buffer: list[bytes] = []
        for item in items:
            buffer.append(item)
            if len(buffer) == chunk:
                yield split_points(_blind_chunk(self, buffer, domain))
                buffer = []
        if buffer:
            yield split_points(_blind_chunk(self, buffer, domain))

    def reblind_stream(
        self, points: Iterable[bytes], *, chunk: int = STREAM_CHUNK
    ) -> Iterator[list[bytes]]:
        """Re-blind an iterable of peer points lazily, yielding chunks (bounded memory).

        Args:
            points: any iterable of 32-byte points.
            chunk: points per yielded list.

        Yields:
            Lists of up to ``chunk`` re-blinded points, in input order.

        Raises:
            PsiError: a point is malformed or of low order.
        """
        buffer: list[bytes] = []
        for point in points:
            buffer.append(point)
            if len(buffer) == chunk:
                yield split_points(_reblind_chunk(self, pack_points(buffer), b""))
                buffer = []
        if buffer:
            yield split_points(_reblind_chunk(self, pack_points(buffer), b""))


def _blind_chunk(blinder: PsiBlinder, items: list[bytes] | bytes, domain: bytes) -> bytes:
    assert isinstance(items, list)
    # a hash landing on a low-order point has probability ~2^-250; refuse rather than guess
    return _scalarmult_packed(
        blinder, hash_to_points(items, domain), "item hashed to a point that", own=True
    )


def _reblind_chunk(blinder: PsiBlinder, points: list[bytes] | bytes, domain: bytes) -> bytes:
    del domain
    assert isinstance(points, bytes)
    return _scalarmult_packed(blinder, points, "point", own=False)
