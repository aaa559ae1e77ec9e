"""The consumer SDK's privacy-computing queries (PRIV-3..5): private set intersection,
intersection-sum and the aggregate across nodes.

Part of :class:`tongdao.node.client.ConsumerClient`.
"""

from __future__ import annotations

import json
import queue
import secrets
import time
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, cast

import numpy as np

from tongdao.crypto.envelope import EncryptionKeyPair, seal_authenticated
from tongdao.crypto.errors import CryptoError
from tongdao.crypto.filter_shape import filter_shape, pseudonym_key
from tongdao.crypto.grant_token import GrantClaims, GrantTokenError, read_grant_token_unverified
from tongdao.crypto.query_binding import (
    QUERY,
    query_associated_data,
)
from tongdao.crypto.stream import (
    StreamDigest,
)
from tongdao.node import streams
from tongdao.node.client_stream import (
    _b64,
    _blinded_frames,
    _QueryStream,
    _split,
    _workers,
)
from tongdao.node.results import (
    IN_FLIGHT_FRAMES,
    STREAM_TIMEOUT,
    Aggregate,
    ClientError,
    Intersection,
    IntersectionSum,
    Progress,
)
from tongdao.node.stream_padding import StreamPadding, dummy_keys
from tongdao.node.streams import (
    CHUNK_POINTS,
    DOUBLE,
    HEADER,
    MATCHES,
    PARALLEL_SELECTIONS_FROM,
    PROVIDER,
    PROVIDER_END,
    RESULT,
    SELECTED_COUNT,
    SELECTION_KEY,
    SELECTION_ROWS,
    SELECTIONS,
    SELECTIONS_END,
    VIEW,
    VIEW_END,
    StreamWorkers,
    chunked,
    frame,
    json_frame,
    shuffle,
)
from tongdao.policies.i18n import msg
from tongdao.proto.methods import METHOD_VALUES
from tongdao.proto.query import new_request_id
from tongdao.proto.stubs import BrokerStubs
from tongdao.v1 import query_pb2


class PrivacyComputing:
    """Intersection, intersection-sum and aggregate queries of :class:`ConsumerClient`.

    The calls to the broker, the provider keys and the receipt check are the client's own.
    """

    department: str
    broker: BrokerStubs
    _keys: EncryptionKeyPair
    _timeout: float
    _padding: StreamPadding

    def _call(self, method: Any, request: Any, *, timeout: float | None = None) -> Any:
        raise NotImplementedError

    def _provider(self, code: str) -> tuple[bytes, bytes]:
        raise NotImplementedError

    def _check_receipt(
        self, r: Any, request_id: str, claims: GrantClaims, sealed_result: bytes | StreamDigest
    ) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ privacy computing
    def _stream(
        self, token: str, method: str, fields: Sequence[str], purpose: str, body: dict[str, Any]
    ) -> _QueryStream:
        try:
            claims = read_grant_token_unverified(token)
        except GrantTokenError as exc:
            raise ClientError("INVALID_ARGUMENT", msg("grant_token: {exc}", exc=exc)) from None
        enc_key, _ = self._provider(claims.provider)
        return _QueryStream(self, claims, token, method, fields, purpose, body, enc_key)

    def intersection(
        self,
        grant_token: str,
        keys: Sequence[str],
        key_field: str,
        purpose: str,
        *,
        progress: Progress | None = None,
    ) -> Intersection:
        """ECDH-PSI with the provider's key field (PRIV-3), as one streamed query.

        Args:
            grant_token: a grant with ``intersection`` or ``intersection_size``.
            keys: our keys (normalised as the node does: NFKC, trimmed, case-folded).
            key_field: the provider entry's key field (must be in the grant).
            purpose: the grant's purpose.
            progress: ``progress(stage, done, total)`` as points are blinded and matched.

        Returns:
            The size, our set size and the provider's rows, plus ``members`` when the grant's
            method is ``intersection``. With ``intersection_size`` the node compares (we send
            it our view of its rows in an order of ours), so we learn only the size, and only
            when it reaches the policy's minimum group size.

        Raises:
            ClientError: the broker's or node's refusal (its status; PERMISSION_DENIED below
                the minimum group size, with its article and no number), or DATA_LOSS when the
                answer does not authenticate.
        """
        from tongdao.node.engines import psi_key

        method = self._psi_method(grant_token)
        originals: dict[bytes, str] = {}
        for k in keys:
            originals.setdefault(psi_key(k), k)
        unique = list(originals)
        sent = _padded(unique, self._padding)
        ordered = method == "intersection"
        later: queue.Queue[tuple[bytes, bool]] = queue.Queue(maxsize=IN_FLIGHT_FRAMES)
        with StreamWorkers(secrets.token_bytes(32), None, workers=_workers(len(sent))) as pool:
            stream = self._stream(grant_token, method, [key_field], purpose, {"points": len(sent)})
            if ordered:
                stream.run(_blinded_frames(pool, sent, progress))
            else:
                stream.run(_then(_blinded_frames(pool, sent, progress, final=False), later, stream))
            header = stream.expect_json(HEADER)
            if bool(header.get("ordered")) != ordered:
                raise ClientError("DATA_LOSS", msg("the node's header names another protocol"))
            theirs_total = int(header.get("padded_rows", 0))
            double: list[bytes] = []
            for body in stream.bodies(DOUBLE):
                double.extend(_split(body))
            if len(double) != (len(sent) if ordered else 0):
                raise ClientError(
                    "DATA_LOSS", msg("the node returned a different number of points")
                )
            view = self._view(pool, stream, progress, theirs_total)
            end = stream.expect_json(PROVIDER_END)
            out: dict[str, Any] = {
                "consumer_set_size": len(unique),
                "provider_rows": int(end.get("provider_rows", 0)),
            }
            if ordered:
                theirs = set(view)
                hits = [p in theirs for p in double[: len(unique)]]
                out["size"] = sum(hits)
                out["members"] = [originals[u] for u, hit in zip(unique, hits, strict=True) if hit]
            else:
                # the node compares: we send our view of its rows in an order of our own and
                # learn the size only when it reaches the minimum group size
                shuffle(view)
                _put_view(later, view, final=True)
                result = stream.expect_json(RESULT)
                try:
                    out["size"] = int(result["size"])
                except (KeyError, ValueError, TypeError):
                    raise ClientError("DATA_LOSS", msg("the node's result is malformed")) from None
            stream.finish()
        return cast(Intersection, out)

    @staticmethod
    def _view(
        pool: StreamWorkers, stream: _QueryStream, progress: Progress | None, total: int
    ) -> list[bytes]:
        """The node's blinded keys, re-blinded with our scalar, in the node's order."""
        view: list[bytes] = []
        for raw in pool.map("reblind", stream.bodies(PROVIDER)):
            view.extend(_split(raw))
            if progress:
                progress("matching", len(view), total)
        return view

    def _psi_method(self, grant_token: str) -> str:
        try:
            methods = read_grant_token_unverified(grant_token).methods
        except GrantTokenError as exc:
            raise ClientError("INVALID_ARGUMENT", msg("grant_token: {exc}", exc=exc)) from None
        for method in ("intersection", "intersection_size"):
            if method in methods:
                return method
        raise ClientError("PERMISSION_DENIED", msg("method: the grant allows no intersection"))

    def intersection_sum(
        self,
        grant_token: str,
        keys: Sequence[str],
        value_field: str,
        purpose: str,
        *,
        progress: Progress | None = None,
        key_bits: int = 2048,
    ) -> IntersectionSum:
        """Size of the intersection and the sum of ``value_field`` over it (PRIV-4).

        One streamed query. We send a fresh Paillier key of ours with its modulus certificate,
        then our blinded keys (padded); the provider sends its own blinded keys, shuffled
        (padded). We return them re-blinded in an order of ours; the provider compares them
        with our double-blinded keys and, only if the intersection reaches the minimum group
        size, says which of the returned points matched. For each provider row we send an
        encryption of 1 (it matched) or 0 with a zero-knowledge proof that it is 0 or 1
        (:mod:`crypto.selection`); the provider sums its values under those selections and
        returns the sum encrypted under our key. Neither side learns which keys matched; the
        provider learns the bucket of our set size and the intersection size.

        Args:
            grant_token: a grant with ``intersection_sum`` on ``value_field``.
            keys: our keys (normalised as the node does).
            value_field: the provider's numeric data item to sum.
            purpose: the grant's purpose.
            progress: ``progress(stage, done, total)`` as points are blinded, matched and
                selections proved.
            key_bits: our Paillier modulus size (2048, 3072 or 4096).

        Returns:
            The size of the intersection and the sum of the value over it.

        Raises:
            ClientError: PERMISSION_DENIED below the minimum group size (with the article),
                other refusals with their status, DATA_LOSS when the answer does not
                authenticate or does not decrypt.
        """
        from tongdao.crypto.paillier import InvalidCiphertext, PlaintextOverflow
        from tongdao.crypto.selection import SelectionKey
        from tongdao.node.engines import psi_key

        unique = list(dict.fromkeys(psi_key(k) for k in keys))
        sent = _padded(unique, self._padding)
        selection_key = SelectionKey.generate(key_bits)
        key_bytes = selection_key.public_key.to_bytes()
        later: queue.Queue[tuple[bytes, bool]] = queue.Queue(maxsize=IN_FLIGHT_FRAMES)
        scalar = secrets.token_bytes(32)
        with StreamWorkers(scalar, None, workers=_workers(len(sent))) as pool:
            stream = self._stream(
                grant_token,
                "intersection_sum",
                [value_field],
                purpose,
                {"points": len(sent), "value_field": value_field},
            )

            def points() -> Iterator[tuple[bytes, bool]]:
                yield frame(SELECTION_KEY, key_bytes), False
                yield from _blinded_frames(pool, sent, progress, final=False)

            stream.run(_then(points(), later, stream))
            header = stream.expect_json(HEADER)
            try:
                nonce = bytes.fromhex(header["selection_nonce"])
                scale = int(header["scale_digits"])
                theirs_total = int(header.get("padded_rows", 0))
            except (KeyError, ValueError, TypeError, CryptoError):
                raise ClientError("DATA_LOSS", msg("the node's header is malformed")) from None
            view = self._view(pool, stream, progress, theirs_total)
            end = stream.expect_json(PROVIDER_END)
            # the node compares our view (in an order of ours) with our points and says which
            # view points matched, only when they reach the minimum group size
            order = list(range(len(view)))
            shuffle(order)
            _put_view(later, [view[i] for i in order], final=False)
            del view
            got, body = stream.next_frame()
            if got != MATCHES or len(body) != -(-len(order) // 8):
                raise ClientError("DATA_LOSS", msg("the node's match frame is malformed"))
            matched = np.unpackbits(np.frombuffer(body, dtype=np.uint8))[: len(order)].tolist()
            bits = [0] * len(order)
            for position, row in enumerate(order):
                bits[row] = matched[position]
            del order, matched
            size = sum(bits)
            context = streams.selection_context(nonce, key_bytes)
            later.put((json_frame(SELECTED_COUNT, {"count": size}), False))
            # prove while the node verifies: frames go out as they are ready
            starts = range(0, len(bits), SELECTION_ROWS)
            tasks = ((context, i, bits[i : i + SELECTION_ROWS]) for i in starts)
            done = 0
            provers = 2 if len(bits) >= PARALLEL_SELECTIONS_FROM else 1
            with StreamWorkers(scalar, selection_key.to_bytes(), workers=provers) as proving:
                for records in proving.map("prove", tasks):
                    later.put((frame(SELECTIONS, records), False))
                    done += len(records) // selection_key.public_key.record_bytes
                    if progress:
                        progress("proving", done, len(bits))
            later.put((frame(SELECTIONS_END), True))
            result = stream.expect_json(RESULT)
            stream.finish()
        try:
            value = selection_key.decrypt_sum(bytes.fromhex(result["sum"]))
        except (KeyError, ValueError, TypeError, InvalidCiphertext, PlaintextOverflow):
            raise ClientError("DATA_LOSS", msg("the node's result does not decrypt")) from None
        return {
            "size": size,
            "sum": Decimal(value).scaleb(-scale),
            "consumer_set_size": len(unique),
            "provider_rows": int(end.get("provider_rows", len(bits))),
        }

    def aggregate(
        self,
        grant_tokens: Sequence[str],
        value_field: str,
        purpose: str,
        *,
        bounds: tuple[float, float],
        buckets: Sequence[float] = (),
        filter_field: str | None = None,
        filter_op: str = "eq",
        filter_value: str | int | float | bool | None = None,
        max_rows: int = 1_000_000,
        key_bits: int = 2048,
    ) -> Aggregate:
        """Count, sum, mean, variance and histogram of ``value_field`` across nodes (PRIV-5).

        One grant per provider node. The broker adds the nodes' packed ciphertexts under our
        Paillier key; only we decrypt the total.

        Args:
            grant_tokens: one grant with ``aggregate`` per provider node.
            value_field: the numeric data item to aggregate.
            purpose: the grants' purpose.
            bounds: the value's range ``(low, high)``; values are clipped to it.
            buckets: histogram bucket edges within the bounds (empty: no histogram). The bounds
                are added as the outer edges when the given ones stop short (``0,300,600``
                with bounds ``0,3000`` counts ``[600, 3000]`` as the last bucket), so no value
                is left out. Buckets are ``[a, b)``, the last ``[a, b]``.
            filter_field: count only records whose field passes the filter (None: all).
            filter_op: the filter's comparison, e.g. ``"eq"``.
            filter_value: the value compared with.
            max_rows: the most records one node may add.
            key_bits: size of the one-off Paillier key.

        Returns:
            Count, sum, mean, variance and histogram over every node.

        Raises:
            ClientError: a refusal with its status, DATA_LOSS when a receipt or ciphertext
                does not verify, INVALID_ARGUMENT for edges outside the bounds or not
                increasing.
        """
        from tongdao.crypto.paillier import generate_paillier_keypair
        from tongdao.node.engines import VALUE_SCALE_DIGITS, AggregateQuery, aggregate_scheme

        def scaled(x: float) -> int:
            return int(Decimal(str(x)).scaleb(VALUE_SCALE_DIGITS).to_integral_value())

        buckets = _histogram_edges(bounds, buckets)
        public_key, private_key = generate_paillier_keypair(key_bits)
        lo, hi = scaled(bounds[0]), scaled(bounds[1])
        edges = [scaled(b) for b in buckets]
        flt = {"field": filter_field, "op": filter_op, "value": filter_value}
        body = {
            "paillier_public_key": _b64(public_key.to_bytes()),
            "value_field": value_field,
            "filter": flt if filter_field else None,
            "bounds": [lo, hi],
            "buckets": edges,
            "nodes": len(grant_tokens),
            "max_rows": max_rows,
        }
        fields = [value_field] + ([filter_field] if filter_field else [])
        parts = []
        sent: dict[str, GrantClaims] = {}
        for token in grant_tokens:
            try:
                claims = read_grant_token_unverified(token)
            except GrantTokenError as exc:
                raise ClientError("INVALID_ARGUMENT", msg("grant_token: {exc}", exc=exc)) from None
            enc_key, _ = self._provider(claims.provider)
            request_id = new_request_id()
            sent[request_id] = claims
            sealed = seal_authenticated(
                self._keys.private_key,
                enc_key,
                json.dumps(body).encode(),
                query_associated_data(claims.grant_id, request_id, "aggregate", QUERY),
            )
            parts.append(
                query_pb2.QueryRequest(
                    grant_token=token,
                    request_id=request_id,
                    method=METHOD_VALUES["aggregate"],
                    purpose=purpose,
                    fields=fields,
                    sealed_query=sealed,
                    # the filter's shape for the broker's supervision, values pseudonymised
                    filter_shape=filter_shape(
                        pseudonym_key(self._keys.private_key, enc_key),
                        filter_field,
                        filter_op,
                        filter_value,
                    ),
                )
            )
        reply = self._call(
            self.broker.query.Aggregate,
            query_pb2.AggregateRequest(parts=parts, paillier_public_key=public_key.to_bytes()),
            timeout=max(self._timeout, STREAM_TIMEOUT),  # nodes scan whole entries
        )
        for part in reply.parts:
            # each receipt must answer one of our parts, once
            part_claims = sent.pop(part.receipt.request_id, None)
            if part_claims is None:
                raise ClientError("DATA_LOSS", msg("an aggregate receipt names no request we sent"))
            self._check_receipt(part.receipt, part.receipt.request_id, part_claims, b"")
        q = AggregateQuery(
            public_key,
            value_field,
            filter_field,
            filter_op,
            filter_value,
            lo,
            hi,
            tuple(edges),
            len(grant_tokens),
            max_rows,
        )
        scheme = aggregate_scheme(q)
        stats = scheme.decrypt(
            private_key,
            [public_key.ciphertext(c) for c in reply.ciphertexts],
            3 + max(len(edges) - 1, 0) + 1,
            summed=len(grant_tokens),
        )
        count, s1, s2, hist, suppressed = stats[0], stats[1], stats[2], stats[3:-1], stats[-1]
        scale = Decimal(10) ** VALUE_SCALE_DIGITS
        labels = [
            f"[{buckets[i]}, {buckets[i + 1]}{']' if i == len(hist) - 1 else ')'}"
            for i in range(len(hist))
        ]
        out: dict[str, Any] = {
            "count": count,
            "nodes": len(grant_tokens),
            "suppressed_nodes": suppressed,  # how many; which ones, no one but those nodes knows
            "histogram": dict(zip(labels, hist, strict=True)),
        }
        if count:
            mean_shifted = Decimal(s1) / count
            out["sum"] = (Decimal(s1) + Decimal(lo) * count) / scale
            out["mean"] = (mean_shifted + lo) / scale
            variance = Decimal(s2) / count - mean_shifted * mean_shifted
            out["variance"] = max(variance, Decimal(0)) / scale / scale
        return cast(Aggregate, out)


def _padded(keys: list[bytes], padding: StreamPadding) -> list[bytes]:
    """Our keys, then dummy keys up to the padding bucket (they match nothing)."""
    return keys + dummy_keys(padding.bucket(len(keys)) - len(keys))


def _then(
    first: Iterator[tuple[bytes, bool]],
    later: queue.Queue[tuple[bytes, bool]],
    stream: _QueryStream,
) -> Iterator[tuple[bytes, bool]]:
    """``first``'s frames, then those put on ``later`` up to the final one (or until the call
    ends, so a refused stream leaves no thread waiting). While nothing is ready — the node is
    sending its rows, or a proof is being computed — a keepalive frame goes out every
    :data:`~tongdao.node.streams.KEEPALIVE_SECONDS`, so the edge's idle limit does not cut the
    stream."""
    yield from first
    last = time.monotonic()
    while True:
        try:
            item = later.get(timeout=0.5)
        except queue.Empty:
            if not stream.active():
                return
            if time.monotonic() - last >= streams.KEEPALIVE_SECONDS:
                last = time.monotonic()
                yield frame(streams.KEEPALIVE), False
            continue
        last = time.monotonic()
        yield item
        if item[1]:
            return


def _put_view(later: queue.Queue[tuple[bytes, bool]], view: list[bytes], *, final: bool) -> None:
    for part in chunked(view, CHUNK_POINTS):
        later.put((frame(VIEW, b"".join(part)), False))
    later.put((frame(VIEW_END), final))


def _histogram_edges(bounds: tuple[float, float], buckets: Sequence[float]) -> list[float]:
    """Histogram edges that cover every (clipped) value: the bounds close any open end.

    Raises:
        ClientError: INVALID_ARGUMENT naming ``buckets``.
    """
    edges = list(buckets)
    if not edges:
        return edges
    low, high = bounds
    if edges != sorted(set(edges)):
        raise ClientError("INVALID_ARGUMENT", msg("buckets: the edges must increase"))
    if edges[0] < low or edges[-1] > high:
        raise ClientError(
            "INVALID_ARGUMENT",
            msg(
                "buckets: every edge must lie within the bounds [{low}, {high}] "
                "(values are clipped to the bounds)",
                low=low,
                high=high,
            ),
        )
    if edges[0] > low:
        edges.insert(0, low)
    if edges[-1] < high:
        edges.append(high)
    return edges
