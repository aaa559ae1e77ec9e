"""The broker's gRPC client to provider nodes (mutual TLS, bounded time)."""

from __future__ import annotations

import threading

import grpc

from broker.services import NodeAnswer, NodeReceipt, NodeRefused, RelayedQuery
from proto.errors import Unavailable
from proto.methods import METHOD_VALUES
from proto.tongdao.v1 import broker_pb2, node_pb2_grpc
from proto.transport import TlsMaterial, secure_channel


class GrpcNodeGateway:
    """Relays queries to nodes, keeping one channel per endpoint."""

    def __init__(self, tls: TlsMaterial, *, timeout_seconds: float = 30.0) -> None:
        self._tls = tls
        self._timeout = timeout_seconds
        self._channels: dict[str, grpc.Channel] = {}
        self._lock = threading.Lock()

    def _stub(self, endpoint: str) -> node_pb2_grpc.NodeStub:
        with self._lock:
            channel = self._channels.get(endpoint)
            if channel is None:
                channel = secure_channel(endpoint, self._tls)
                self._channels[endpoint] = channel
        return node_pb2_grpc.NodeStub(channel)

    def query(self, endpoint: str, query: RelayedQuery) -> NodeAnswer:
        """Relay one query; see :class:`broker.services.NodeGateway`."""
        request = broker_pb2.QueryRequest(
            grant_token=query.grant_token,
            request_id=query.request_id,
            method=METHOD_VALUES[query.method],
            purpose=query.purpose,
            fields=list(query.fields),
            sealed_query=query.sealed_query,
        )
        try:
            reply = self._stub(endpoint).Query(request, timeout=self._timeout)
        except grpc.RpcError as exc:
            code = exc.code()
            if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise Unavailable(
                    f"provider node at {endpoint} is unavailable ({code.name.lower()}); "
                    "nothing was served — try again later"
                ) from None
            raise NodeRefused(code.name, f"provider node refused: {exc.details()}") from None
        r = reply.receipt
        return NodeAnswer(
            ciphertexts=tuple(reply.ciphertexts),
            suppressed=reply.suppressed,
            sealed_result=reply.sealed_result,
            receipt=NodeReceipt(
                request_id=r.request_id,
                grant_id=r.grant_id,
                provider=r.provider,
                result_digest=r.result_digest,
                record_count=r.record_count,
                answered_at=r.answered_at,
                signature=r.signature,
            ),
        )

    def close(self) -> None:
        """Close every channel."""
        with self._lock:
            for channel in self._channels.values():
                channel.close()
            self._channels.clear()
