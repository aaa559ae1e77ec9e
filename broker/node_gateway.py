"""The broker's gRPC client to provider nodes (mutual TLS, bounded time)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc

from tongdao.broker.services import NodeRefused
from tongdao.crypto.grant_token import GrantTokenError, read_grant_token_unverified
from tongdao.crypto.pki import node_server_name
from tongdao.proto.errors import Unavailable
from tongdao.proto.query import QueryAnswer, Receipt, RelayedQuery
from tongdao.proto.transport import TlsMaterial, TlsSource, secure_channel
from tongdao.v1 import broker_pb2, node_pb2_grpc


def _provider_of(query: RelayedQuery) -> str:
    """The department the query is for: the provider named in the grant token (which the broker
    signed and the relay has already checked against the directory entry of ``endpoint``)."""
    try:
        return read_grant_token_unverified(query.grant_token).provider
    except GrantTokenError:
        return ""


class GrpcNodeGateway:
    """Relays queries to nodes, keeping one channel per (endpoint, department).

    Each channel verifies that the node's server certificate names the department
    (``<code>.node.tongdao.invalid``): a node at a registered endpoint cannot answer for another
    department. Given a :data:`TlsSource`, a renewed broker certificate is picked up by opening
    fresh channels.
    """

    def __init__(
        self,
        tls: TlsMaterial | TlsSource,
        *,
        timeout_seconds: float = 30.0,
        stream_timeout_seconds: float = 3600.0,
    ) -> None:
        self._source: TlsSource = tls if callable(tls) else (lambda: tls)
        self._tls = self._source()
        self._timeout = timeout_seconds
        self._stream_timeout = stream_timeout_seconds
        self._channels: dict[tuple[str, str], grpc.Channel] = {}
        self._lock = threading.Lock()

    def _stub(self, endpoint: str, department: str) -> node_pb2_grpc.NodeStub:
        try:
            material = self._source()
        except Exception:  # a renewal half-written: keep the current material
            material = self._tls
        with self._lock:
            if material != self._tls:
                for old in self._channels.values():
                    old.close()
                self._channels.clear()
                self._tls = material
            key = (endpoint, department)
            channel = self._channels.get(key)
            if channel is None:
                name = node_server_name(department) if department else ""
                channel = secure_channel(endpoint, self._tls, server_name=name)
                self._channels[key] = channel
        return node_pb2_grpc.NodeStub(channel)

    def query(self, endpoint: str, query: RelayedQuery) -> QueryAnswer:
        """Relay one query; see :class:`broker.services.NodeGateway`."""
        request = query.to_pb()
        try:
            # an aggregate scans the node's whole entry (10⁶ rows: tens of seconds)
            timeout = self._stream_timeout if query.method == "aggregate" else self._timeout
            reply = self._stub(endpoint, _provider_of(query)).Query(request, timeout=timeout)
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

        stub = self._stub(endpoint, _provider_of(query))
        call = stub.QueryStream(requests(), timeout=self._stream_timeout)
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
