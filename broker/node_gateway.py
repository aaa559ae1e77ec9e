"""The broker's gRPC client to provider nodes (mutual TLS, bounded time)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc

from tongdao.broker.services import NodeRefused
from tongdao.proto.errors import Unavailable
from tongdao.proto.query import QueryAnswer, Receipt, RelayedQuery
from tongdao.proto.transport import TlsMaterial, secure_channel
from tongdao.v1 import broker_pb2, node_pb2_grpc


class GrpcNodeGateway:
    """Relays queries to nodes, keeping one channel per endpoint."""

    def __init__(
        self,
        tls: TlsMaterial,
        *,
        timeout_seconds: float = 30.0,
        stream_timeout_seconds: float = 3600.0,
    ) -> None:
        self._tls = tls
        self._timeout = timeout_seconds
        self._stream_timeout = stream_timeout_seconds
        self._channels: dict[str, grpc.Channel] = {}
        self._lock = threading.Lock()

    def _stub(self, endpoint: str) -> node_pb2_grpc.NodeStub:
        with self._lock:
            channel = self._channels.get(endpoint)
            if channel is None:
                channel = secure_channel(endpoint, self._tls)
                self._channels[endpoint] = channel
        return node_pb2_grpc.NodeStub(channel)

    def query(self, endpoint: str, query: RelayedQuery) -> QueryAnswer:
        """Relay one query; see :class:`broker.services.NodeGateway`."""
        request = query.to_pb()
        try:
            # an aggregate scans the node's whole entry (10⁶ rows: tens of seconds)
            timeout = self._stream_timeout if query.method == "aggregate" else self._timeout
            reply = self._stub(endpoint).Query(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise _node_error(endpoint, exc) from None
        return QueryAnswer(
            sealed_result=reply.sealed_result,
            receipt=Receipt.from_pb(reply.receipt),
            ciphertexts=tuple(reply.ciphertexts),
            suppressed=reply.suppressed,
        )

    def query_stream(
        self, endpoint: str, query: RelayedQuery, chunks: Iterator[bytes]
    ) -> Iterator[bytes | Receipt]:
        """Relay a streamed query; see :class:`broker.services.NodeGateway`."""

        def requests() -> Iterator[broker_pb2.QueryStreamRequest]:
            yield broker_pb2.QueryStreamRequest(open=query.to_pb())
            for chunk in chunks:
                yield broker_pb2.QueryStreamRequest(chunk=chunk)

        call = self._stub(endpoint).QueryStream(requests(), timeout=self._stream_timeout)
        try:
            for reply in call:
                if reply.WhichOneof("part") == "end":
                    yield Receipt.from_pb(reply.end.receipt)
                    return
                yield reply.chunk
        except grpc.RpcError as exc:
            raise _node_error(endpoint, exc) from None
        finally:
            call.cancel()  # no-op once the call has ended; stops the node if we leave early

    def close(self) -> None:
        """Close every channel."""
        with self._lock:
            for channel in self._channels.values():
                channel.close()
            self._channels.clear()


def _node_error(endpoint: str, exc: grpc.RpcError) -> Unavailable | NodeRefused:
    code = exc.code()
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return Unavailable(
            f"provider node at {endpoint} is unavailable ({code.name.lower()}); "
            "nothing was served — try again later"
        )
    return NodeRefused(code.name, f"provider node refused: {exc.details()}")
