"""Streamed privacy engines: ECDH-PSI and intersection-sum at 10⁶ keys in bounded memory.

One query is one bidirectional stream (``QueryStream``). Each side's messages are *frames*: one
kind byte and a body; frames travel sealed chunk by chunk (:mod:`crypto.stream`), so the broker
relays ciphertext only. Points travel as raw 32-byte strings, ciphertexts as fixed-width
big-endian integers — no JSON or base64 on the bulk path.

Consumer → node: for intersection-sum first ``K`` its selection key (:mod:`crypto.selection`);
``P`` points (its blinded keys, any number of frames), ``E`` end of points; for
intersection-size and intersection-sum then ``V`` its *view* — the node's blinded keys
re-blinded with its scalar, in an order of its own choosing — and ``W`` end of view; for
intersection-sum then ``N`` the number of rows it selects (JSON), ``S`` selection records (a
ciphertext of 0 or 1 and its proof per node row, in the order the rows came) and ``Z`` end of
selections.
Node → consumer: ``H`` header (JSON), for ``intersection`` ``D`` double-blinded consumer points
in the consumer's order, ``Q`` the node's blinded keys, shuffled, ``F`` end of the node's rows
(JSON); for intersection-size ``R`` the size (JSON); for intersection-sum ``M`` which points of
the consumer's view matched (one bit each, in the view's order) and ``R`` the sum, encrypted
under the consumer's selection key (JSON).

Intersection-size and intersection-sum compare at the node: it double-blinds the consumer's
points and keeps them, and counts how many points of the consumer's view are among them. It
learns that count and nothing of which rows (the view is in the consumer's order); below the
minimum group size it refuses before anything about the intersection reaches the consumer.

Both sides pad their sets with dummy points (:class:`StreamPadding`) that cannot match, so the
broker sees only bucketed sizes.

Work is spread over a process pool per stream once the inputs are large (the pool's workers
hold the session's blinding scalar and Paillier key, so only points and values cross process
boundaries), and at most :data:`IN_FLIGHT` chunks are in flight: memory stays bounded however
fast one side sends. Protocols and what each party learns: docs/privacy.md.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import secrets
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

import numpy as np

from tongdao.crypto.psi import POINT_BYTES, PsiBlinder, PsiError
from tongdao.crypto.selection import (
    SelectedSum,
    SelectionKey,
    SelectionKeyError,
    SelectionProofError,
    SelectionPublicKey,
    partial_products,
)
from tongdao.node.frames import (  # noqa: F401 (the protocol's frames, used by the clients too)
    JSON_FRAME_BYTES,
    frame,
    join_points,
    json_body,
    json_frame,
    split_points,
    unframe,
)
from tongdao.node.stream_padding import MAX_STREAM_POINTS, StreamPadding, dummy_keys, policy_padding
from tongdao.policies.i18n import msg
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from tongdao.proto.query import STREAM_METHODS

# frame kinds
POINTS, POINTS_END = b"P", b"E"
SELECTION_KEY, SELECTED_COUNT, SELECTIONS, SELECTIONS_END = b"K", b"N", b"S", b"Z"
VIEW, VIEW_END = b"V", b"W"
KEEPALIVE = b"."  # sent by a consumer that is waiting, so the edge's idle limit does not cut it
KEEPALIVE_SECONDS = 30.0  # well under the edge's stream_idle_seconds
HEADER, DOUBLE, PROVIDER, PROVIDER_END, MATCHES, RESULT = b"H", b"D", b"Q", b"F", b"M", b"R"
GATED_METHODS = ("intersection_size", "intersection_sum")  # compared at the node, thresholded

CHUNK_POINTS = 8192  # points per frame: 256 KiB
SELECTION_ROWS = 1024  # selection records per frame: ≈ 1 MiB at 2048 bits
IN_FLIGHT = 4  # chunks queued on the pool ahead of the one being sent
PARALLEL_FROM = 20_000  # below this a pool costs more than it saves
PARALLEL_SELECTIONS_FROM = 4 * 1024  # selection proofs cost ~5 ms a row: a pool pays off sooner
_SPAWN = multiprocessing.get_context("spawn")

T = TypeVar("T")
R = TypeVar("R")


# ---------------------------------------------------------------- work on a pool (or here)


class _Session:
    """A stream's secrets, rebuilt once per worker process."""

    def __init__(self, scalar: bytes, private_key: bytes | None) -> None:
        self.blinder = PsiBlinder(scalar)
        self.selection_key = SelectionKey.from_bytes(private_key) if private_key else None
        self._verifiers: dict[tuple[bytes, bytes], Any] = {}

    def reblind(self, raw: bytes) -> bytes:
        return self.blinder.reblind_packed(raw)

    def blind(self, keys: list[bytes]) -> bytes:
        return self.blinder.blind_packed(keys)

    def prove(self, task: tuple[bytes, int, list[int]]) -> bytes:
        """The consumer's selection records for one frame: ``(context, first row, bits)``."""
        assert self.selection_key is not None
        context, start, bits = task
        return self.selection_key.prove(bits, context, start)

    def verify(self, task: tuple[bytes, bytes, int, bytes, list[int]]) -> tuple[int, int, int]:
        """The node's check of one frame of selection records, folded with its values:
        ``(key bytes, context, first row, records, values)`` → ``(Π c^v, Π c, rows)``.

        Raises:
            SelectionKeyError, SelectionProofError: the key or a record does not verify.
        """
        key_bytes, context, start, records, values = task
        verifier = self._verifiers.get((key_bytes, context))
        if verifier is None:
            self._verifiers.clear()
            verifier = SelectionPublicKey.from_bytes(key_bytes).verifier(context)
            self._verifiers[key_bytes, context] = verifier
        cts = verifier.verify(records, start)
        if len(cts) != len(values):
            raise SelectionProofError("one selection record per row is required")
        weighted, count = partial_products(verifier.key.paillier.nsquare, cts, values)
        return int(weighted), int(count), len(cts)


_worker: _Session | None = None


def _init_worker(scalar: bytes, private_key: bytes | None) -> None:
    global _worker
    _worker = _Session(scalar, private_key)


def _call_worker(method: str, arg: Any) -> Any:
    assert _worker is not None
    return getattr(_worker, method)(arg)


class StreamWorkers:
    """Runs a stream's heavy steps here or on a process pool, in order, a few chunks ahead."""

    def __init__(self, scalar: bytes, private_key: bytes | None, *, workers: int) -> None:
        """Args:
        scalar: the session's PSI blinding scalar.
        private_key: the session's Paillier private key bytes (intersection-sum) or None.
        workers: processes (1: run in this thread).
        """
        self._local = _Session(scalar, private_key)
        self._pool: ProcessPoolExecutor | None = None
        if workers > 1:
            # spawn, not fork: the caller is a multi-threaded gRPC server
            self._pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=_SPAWN,
                initializer=_init_worker,
                initargs=(scalar, private_key),
            )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> StreamWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def map(self, method: str, items: Iterable[Any]) -> Iterator[Any]:
        """``getattr(session, method)(item)`` for each item, in order, bounded look-ahead."""
        if self._pool is None:
            fn = getattr(self._local, method)
            for item in items:
                yield fn(item)
            return
        pending: deque[Future[Any]] = deque()
        for item in items:
            pending.append(self._pool.submit(_call_worker, method, item))
            if len(pending) > IN_FLIGHT:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def chunked(items: list[T], size: int) -> Iterator[list[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def shuffle(items: list[T]) -> None:
    """Shuffle in place with a uniformly random permutation from the CSPRNG.

    Sorting by 64-bit keys from ``os.urandom`` (ties have probability < n²/2⁶⁵, and a tie only
    keeps two items in their original relative order) is five times faster at 10⁶ items than
    ``SystemRandom.shuffle``, which makes a system call per element.
    """
    if len(items) < 2:
        return
    keys = np.frombuffer(secrets.token_bytes(8 * len(items)), dtype=np.uint64)
    order = np.argsort(keys, kind="stable").tolist()
    items[:] = [items[i] for i in order]


# ---------------------------------------------------------------- the provider's side


class ProviderStream:
    """The node's side of one streamed PSI or intersection-sum query.

    ``messages(incoming)`` reads the consumer's frames (already opened) and yields
    ``(frame, final)`` to send; :attr:`record_count` is set once the node's rows are read.
    """

    def __init__(
        self,
        method: str,
        keys: Callable[[], list[bytes]] | None = None,
        rows: Callable[[], list[tuple[bytes, int]]] | None = None,
        *,
        declared_points: int,
        min_group: int = 1,
        min_group_article: str = "",
        padding: StreamPadding | None = None,
        workers: int | None = None,
    ) -> None:
        """Args:
            method: ``intersection``, ``intersection_size`` or ``intersection_sum``.
            keys: the node's normalised keys (PSI).
            rows: the node's (normalised key, value in hundredths) pairs (intersection-sum).
            declared_points: how many points the consumer said it will send.
            min_group: the policy's minimum group size (intersection-size and -sum).
            min_group_article: the article the minimum group size applies.
            padding: size buckets for the node's set (default: the shipped rule file's).
            workers: processes (default: 2 for large inputs, else 1).

        Raises:
            InvalidArgument: unknown method or a declared size out of range.
        """
        if method not in STREAM_METHODS:
            raise InvalidArgument(
                msg("method {method!r} is not streamed", method=method), field="method"
            )
        if not 0 <= declared_points <= MAX_STREAM_POINTS:
            raise InvalidArgument(
                msg("must be 0 to {MAX_STREAM_POINTS:,}", MAX_STREAM_POINTS=MAX_STREAM_POINTS),
                field="sealed_query.points",
            )
        self.method = method
        self._keys = keys
        self._rows = rows
        self.declared = declared_points
        self.min_group = min_group
        self.min_group_article = min_group_article
        self.padding = padding or policy_padding()
        self.workers = workers
        self.record_count = 0

    def _own(self) -> tuple[list[bytes], list[int]]:
        """The node's distinct keys (and, summing, each key's total value), padded with dummy
        keys (value 0) to the bucket and shuffled, so their order says nothing of the rows."""
        if self.method == "intersection_sum":
            assert self._rows is not None
            totals: dict[bytes, int] = {}
            for k, v in self._rows():
                totals[k] = totals.get(k, 0) + v  # one person's rows count once
            pairs = list(totals.items())
        else:
            assert self._keys is not None
            pairs = [(k, 0) for k in dict.fromkeys(self._keys())]
        self.record_count = len(pairs)
        pairs += [(k, 0) for k in dummy_keys(self.padding.bucket(len(pairs)) - len(pairs))]
        shuffle(pairs)
        return [k for k, _ in pairs], [v for _, v in pairs]

    def messages(self, incoming: Iterator[bytes]) -> Iterator[tuple[bytes, bool]]:
        """Run the protocol.

        Raises:
            InvalidArgument: a malformed or unexpected frame, more points than declared, a
                view that is not one point per node row, a selection key or selection proof
                that does not verify.
            PermissionDenied: an intersection-size or -sum below the minimum group size.
            FailedPrecondition: a non-numeric value in the summed data item.
        """
        summing = self.method == "intersection_sum"
        gated = self.method in GATED_METHODS
        incoming = _without_keepalives(incoming)
        own, values = self._own()
        own_size = self.record_count
        large = max(len(own), self.declared) >= PARALLEL_FROM or (
            summing and len(own) >= PARALLEL_SELECTIONS_FROM
        )
        workers = self.workers or (2 if large else 1)
        with StreamWorkers(secrets.token_bytes(POINT_BYTES), None, workers=workers) as pool:
            header: dict[str, Any] = {
                "ordered": not gated,
                "provider_rows": own_size,
                "padded_rows": len(own),
            }
            if summing:
                nonce = secrets.token_bytes(32)
                header["selection_nonce"] = nonce.hex()
                header["scale_digits"] = 2
            yield json_frame(HEADER, header), False
            if summing:
                key_bytes, key = _selection_key(incoming)
                context = selection_context(nonce, key_bytes)

            # the consumer's points, double-blinded as they arrive: sent back in order
            # (intersection) or kept here for the comparison
            received = 0
            consumer_done = False

            def consumer_chunks() -> Iterator[bytes]:
                nonlocal received, consumer_done
                for message in incoming:
                    kind, body = unframe(message)
                    if kind == POINTS_END:
                        consumer_done = True
                        return
                    if kind != POINTS:
                        raise InvalidArgument(
                            msg("expected points, got a {kind!r} frame", kind=kind), field="chunk"
                        )
                    if len(body) % POINT_BYTES:
                        raise InvalidArgument(
                            msg(
                                "must be a whole number of {POINT_BYTES}-byte points",
                                POINT_BYTES=POINT_BYTES,
                            ),
                            field="chunk",
                        )
                    received += len(body) // POINT_BYTES
                    if received > self.declared:
                        raise InvalidArgument(
                            msg("more points than the {declared} declared", declared=self.declared),
                            field="chunk",
                        )
                    yield body

            double: set[bytes] = set()
            try:
                for raw in pool.map("reblind", consumer_chunks()):
                    if gated:
                        double.update(split_points(raw))
                    else:
                        yield frame(DOUBLE, raw), False  # in order: the consumer learns members
            except PsiError as exc:
                raise InvalidArgument(str(exc), field="chunk") from None
            if not consumer_done:
                raise InvalidArgument(msg("the stream ended before the end-of-points frame"))
            if received != self.declared:
                raise InvalidArgument(
                    msg(
                        "{received} points arrived, {declared} were declared",
                        received=received,
                        declared=self.declared,
                    ),
                    field="chunk",
                )

            # our own keys, padded and shuffled
            for raw in pool.map("blind", chunked(own, CHUNK_POINTS)):
                yield frame(PROVIDER, raw), False
            rows = len(own)
            del own
            end = {"provider_rows": own_size, "consumer_points": received}
            yield json_frame(PROVIDER_END, end), not gated
            if not gated:
                return
            matched, size = _compare_view(incoming, double, rows)
            del double
            if size < self.min_group:
                # before anything about the intersection leaves the node; no number
                raise PermissionDenied(
                    msg("the intersection is smaller than the minimum group size"),
                    field="chunk",
                    articles=(self.min_group_article,),
                )
            if not summing:
                yield json_frame(RESULT, {"size": size}), True
                return
            yield frame(MATCHES, np.packbits(np.array(matched, dtype=np.uint8)).tobytes()), False
            del matched
            result = self._selected_sum(pool, incoming, key_bytes, key, context, values, size)
        yield json_frame(RESULT, {"sum": result.hex()}), True

    def _selected_sum(
        self,
        pool: StreamWorkers,
        incoming: Iterator[bytes],
        key_bytes: bytes,
        key: SelectionPublicKey,
        context: bytes,
        values: list[int],
        size: int,
    ) -> bytes:
        """Read the selected count and the selection records; return the sealed-to-consumer sum.

        The count must be the intersection size the node counted; the sum is bound to it (a
        selection of another number of rows garbles it).
        """
        count = _selected_count(next(incoming, None))
        if count != size:
            raise InvalidArgument(msg("is not the size of the intersection"), field="chunk.count")
        record = key.record_bytes
        done = False
        position = 0

        def tasks() -> Iterator[tuple[bytes, bytes, int, bytes, list[int]]]:
            nonlocal done, position
            for message in incoming:
                kind, body = unframe(message)
                if kind == SELECTIONS_END:
                    done = True
                    return
                if kind != SELECTIONS:
                    raise InvalidArgument(
                        msg("expected selections, got a {kind!r} frame", kind=kind), field="chunk"
                    )
                rows = len(body) // record
                if len(body) % record or position + rows > len(values):
                    raise InvalidArgument(
                        msg("selection records do not match the rows sent"), field="chunk"
                    )
                yield key_bytes, context, position, body, values[position : position + rows]
                position += rows

        total = SelectedSum(key)
        try:
            for weighted, product, rows in pool.map("verify", tasks()):
                total.merge(weighted, product, rows)
        except (SelectionProofError, SelectionKeyError) as exc:
            raise InvalidArgument(str(exc), field="chunk.selections") from None
        if not done:
            raise InvalidArgument(msg("the stream ended before the end-of-selections frame"))
        if total.rows != len(values):
            raise InvalidArgument(msg("one selection record per row is required"), field="chunk")
        return total.result(size)


def _without_keepalives(incoming: Iterator[bytes]) -> Iterator[bytes]:
    for message in incoming:
        if message != KEEPALIVE:
            yield message


def _compare_view(
    incoming: Iterator[bytes], double: set[bytes], rows: int
) -> tuple[list[int], int]:
    """Read the consumer's view of the node's rows (``V`` frames, then ``W``) and compare it
    with the double-blinded consumer points.

    Returns:
        One bit per view point (1: it is a double-blinded consumer point), and how many.

    Raises:
        InvalidArgument: not one point per node row, or a matching point that repeats (a
            consumer counting one key many times).
    """
    bits: list[int] = []
    hits: set[bytes] = set()
    for message in incoming:
        kind, body = unframe(message)
        if kind == VIEW_END:
            break
        if kind != VIEW:
            raise InvalidArgument(
                msg("expected the view, got a {kind!r} frame", kind=kind), field="chunk"
            )
        points = split_points(body)
        if len(bits) + len(points) > rows:
            raise InvalidArgument(
                msg("the view has more points than the node's rows"), field="chunk"
            )
        for p in points:
            if p in double:
                if p in hits:
                    raise InvalidArgument(msg("the view repeats a point"), field="chunk")
                hits.add(p)
                bits.append(1)
            else:
                bits.append(0)
    else:
        raise InvalidArgument(msg("the stream ended before the end-of-view frame"))
    if len(bits) != rows:
        raise InvalidArgument(msg("the view must hold one point per node row"), field="chunk")
    return bits, len(hits)


def selection_context(nonce: bytes, key_bytes: bytes) -> bytes:
    """What a stream's selection proofs are bound to: the node's nonce and the consumer's key."""
    return nonce + hashlib.sha256(key_bytes).digest()


def _selection_key(incoming: Iterator[bytes]) -> tuple[bytes, SelectionPublicKey]:
    message = next(incoming, None)
    if message is None:
        raise InvalidArgument(msg("the stream ended before the selection key"), field="chunk")
    kind, body = unframe(message)
    if kind != SELECTION_KEY:
        raise InvalidArgument(
            msg("expected the selection key, got a {kind!r} frame", kind=kind), field="chunk"
        )
    try:
        return body, SelectionPublicKey.from_bytes(body)
    except SelectionKeyError as exc:
        raise InvalidArgument(str(exc), field="chunk.selection_key") from None


def _selected_count(message: bytes | None) -> int:
    if message is None:
        raise InvalidArgument(msg("the stream ended before the selected count"), field="chunk")
    kind, body = unframe(message)
    if kind != SELECTED_COUNT:
        raise InvalidArgument(
            msg("expected the selected count, got a {kind!r} frame", kind=kind), field="chunk"
        )
    value = json_body(body, "chunk.count")
    count = value.get("count")
    if set(value) != {"count"} or not isinstance(count, int) or isinstance(count, bool):
        raise InvalidArgument(msg("must be {{count}}"), field="chunk.count")
    if count < 0:
        raise InvalidArgument(msg("must not be negative"), field="chunk.count")
    return count


def summable_rows(
    rows: Iterable[dict[str, str]],
    key_field: str,
    value_field: str,
    key: Callable[[str], bytes],
    value: Callable[[str, str], int],
) -> list[tuple[bytes, int]]:
    """(normalised key, value) for every row with a key; a row without a value is refused.

    Raises:
        FailedPrecondition: a non-numeric value.
    """
    out = []
    for r in rows:
        k = r.get(key_field)
        if not k:
            continue
        raw = r.get(value_field, "")
        if raw == "":
            raise FailedPrecondition(
                msg("data item {value_field!r} is empty in a row", value_field=value_field)
            )
        out.append((key(k), value(raw, value_field)))
    return out
