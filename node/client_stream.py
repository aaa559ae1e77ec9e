"""The consumer side of a streamed query: sealed chunks up and down one bidirectional stream,
and the framing helpers of the privacy-computing methods (see :mod:`tongdao.node.client`)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import grpc

from tongdao.crypto.envelope import open_authenticated, seal_authenticated
from tongdao.crypto.errors import EnvelopeError
from tongdao.crypto.grant_token import GrantClaims
from tongdao.crypto.psi import POINT_BYTES
from tongdao.crypto.query_binding import (
    QUERY,
    RESULT,
    query_associated_data,
)
from tongdao.crypto.stream import (
    DOWNSTREAM,
    UPSTREAM,
    ChunkOpener,
    ChunkSealer,
    StreamDigest,
    new_stream_secret,
)
from tongdao.node.results import STREAM_TIMEOUT, ClientError, Progress
from tongdao.node.streams import (
    CHUNK_POINTS,
    PARALLEL_FROM,
    POINTS,
    POINTS_END,
    StreamWorkers,
    chunked,
    frame,
    json_body,
)
from tongdao.policies.i18n import msg
from tongdao.proto.errors import DomainError
from tongdao.proto.methods import METHOD_VALUES
from tongdao.proto.query import new_request_id
from tongdao.proto.transport import english_details
from tongdao.v1 import query_pb2

if TYPE_CHECKING:
    from tongdao.node.client import ConsumerClient


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _workers(n: int) -> int:
    return 2 if n >= PARALLEL_FROM else 1


def _split(raw: bytes) -> list[bytes]:
    if len(raw) % POINT_BYTES:
        raise ClientError("DATA_LOSS", msg("the node returned a truncated point list"))
    return [raw[i : i + POINT_BYTES] for i in range(0, len(raw), POINT_BYTES)]


def _blinded_frames(
    pool: StreamWorkers,
    keys: list[bytes],
    progress: Progress | None,
    *,
    final: bool = True,
) -> Iterator[tuple[bytes, bool]]:
    """Our blinded keys as ``P`` frames, then ``E`` (the final chunk unless more follows)."""
    done = 0
    for raw in pool.map("blind", chunked(keys, CHUNK_POINTS)):
        done += len(raw) // POINT_BYTES
        yield frame(POINTS, raw), False
        if progress:
            progress("blinding", done, len(keys))
    yield frame(POINTS_END), final


class _QueryStream:
    """One streamed query from the consumer's side: sealing, opening, the receipt."""

    def __init__(
        self,
        client: ConsumerClient,
        claims: GrantClaims,
        token: str,
        method: str,
        fields: Sequence[str],
        purpose: str,
        body: dict[str, Any],
        provider_key: bytes,
    ) -> None:
        self._client = client
        self.claims = claims
        self.request_id = new_request_id()
        secret = new_stream_secret()
        context = query_associated_data(claims.grant_id, self.request_id, method, QUERY)
        self._open = query_pb2.QueryRequest(
            grant_token=token,
            request_id=self.request_id,
            method=METHOD_VALUES[method],
            purpose=purpose,
            fields=list(fields),
            sealed_query=seal_authenticated(
                client._keys.private_key,
                provider_key,
                json.dumps({**body, "stream_secret": secret.hex()}).encode(),
                context,
            ),
        )
        self._sealer = ChunkSealer(secret, context, UPSTREAM)
        # the node's first chunk is the result direction's secret, sealed to our key by the
        # node's key; every later chunk opens with it
        self._context = context
        self._provider_key = provider_key
        self._result_ad = query_associated_data(claims.grant_id, self.request_id, method, RESULT)
        self._opener: ChunkOpener | None = None
        self._digest = StreamDigest()
        self._frames: Iterator[tuple[bytes, bytes]] | None = None
        self._pushed: tuple[bytes, bytes] | None = None
        self._call: Any = None
        self.ledger_sequence = 0

    def run(self, upstream: Iterator[tuple[bytes, bool]]) -> None:
        """Start the call; ``upstream`` yields (frame, final) and is read by gRPC's thread.
        The node's frames are then read with :meth:`next_frame`, :meth:`bodies` and
        :meth:`expect_json`."""

        def requests() -> Iterator[query_pb2.QueryStreamRequest]:
            yield query_pb2.QueryStreamRequest(open=self._open)
            for message, final in upstream:
                yield query_pb2.QueryStreamRequest(chunk=self._sealer.seal(message, final=final))

        self._call = self._client.broker.query.QueryStream(
            requests(), timeout=max(self._client._timeout, STREAM_TIMEOUT)
        )
        self._frames = self._read()

    def active(self) -> bool:
        """Whether the call is still running (True before it starts)."""
        return self._call is None or bool(self._call.is_active())

    def _read(self) -> Iterator[tuple[bytes, bytes]]:
        try:
            for reply in self._call:
                if reply.WhichOneof("part") == "end":
                    if self._opener is None:
                        raise EnvelopeError("the stream ended before the node's result key")
                    self._opener.require_finished()
                    self._client._check_receipt(
                        reply.end.receipt, self.request_id, self.claims, self._digest
                    )
                    self.ledger_sequence = reply.end.ledger_sequence
                    return
                self._digest.update(reply.chunk)
                if self._opener is None:
                    result_secret = open_authenticated(
                        self._client._keys.private_key,
                        self._provider_key,
                        reply.chunk,
                        self._result_ad,
                    )
                    self._opener = ChunkOpener(result_secret, self._context, DOWNSTREAM)
                    continue
                plain = self._opener.open(reply.chunk)
                if not plain:
                    raise ClientError("DATA_LOSS", msg("the node sent an empty frame"))
                yield plain[:1], plain[1:]
        except grpc.RpcError as exc:
            raise ClientError(
                exc.code().name, exc.details() or "", english=english_details(exc)
            ) from None
        except EnvelopeError as exc:
            raise ClientError(
                "DATA_LOSS", msg("the answer does not authenticate: {exc}", exc=exc)
            ) from None

    def next_frame(self) -> tuple[bytes, bytes]:
        """The next (kind, body); ``(b"", b"")`` once the node's frames are over."""
        if self._pushed is not None:
            item, self._pushed = self._pushed, None
            return item
        assert self._frames is not None
        return next(self._frames, (b"", b""))

    def bodies(self, kind: bytes) -> Iterator[bytes]:
        """Bodies of the consecutive ``kind`` frames from here; the first other frame stays
        next."""
        while True:
            got, body = self.next_frame()
            if got != kind:
                self._pushed = (got, body)
                return
            yield body

    def expect_json(self, kind: bytes) -> dict[str, Any]:
        """The next frame, which must be ``kind`` with a JSON object body.

        Raises:
            ClientError: DATA_LOSS naming what arrived instead.
        """
        got, body = self.next_frame()
        if got != kind:
            raise ClientError(
                "DATA_LOSS", msg("expected a {kind!r} frame, got {got!r}", kind=kind, got=got)
            )
        try:
            return json_body(body, "frame")
        except DomainError:
            raise ClientError(
                "DATA_LOSS", msg("the node's {kind!r} frame is not JSON", kind=kind)
            ) from None

    def finish(self) -> None:
        """Read to the end: the node's receipt must arrive and verify."""
        kind, _ = self.next_frame()
        if kind:
            raise ClientError(
                "DATA_LOSS", msg("unexpected {kind!r} frame after the answer", kind=kind)
            )
        if not self.ledger_sequence:
            raise ClientError("DATA_LOSS", msg("the stream ended without the provider's receipt"))
