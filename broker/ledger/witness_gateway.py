"""The broker's gRPC client for the ledger's calls to nodes: cosign a checkpoint, read the
receipt journal (mutual TLS, bounded time). Implements :class:`broker.ledger_keeper.LedgerNodes`."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import grpc

from tongdao.broker.ledger.keeper import CosignReply, JournalLine
from tongdao.proto.query import Receipt
from tongdao.proto.transport import TlsMaterial, secure_channel
from tongdao.v1 import node_pb2, node_pb2_grpc


class GrpcLedgerNodes:
    """One channel per node endpoint; every call bounded by ``timeout_seconds``."""

    def __init__(self, tls: TlsMaterial, *, timeout_seconds: float = 10.0) -> None:
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

    def add_checkpoint(
        self, endpoint: str, old_size: int, proof: Sequence[bytes], note: str
    ) -> CosignReply:
        try:
            reply = self._stub(endpoint).AddCheckpoint(
                node_pb2.AddCheckpointRequest(
                    old_size=old_size, proof=list(proof), checkpoint=note
                ),
                timeout=self._timeout,
            )
        except grpc.RpcError as exc:
            raise ConnectionError(f"node {endpoint}: {exc.code().name}: {exc.details()}") from None
        return CosignReply(
            reply.cosignature,
            reply.refusal,
            reply.message,
            reply.witnessed_size,
            reply.witnessed_checkpoint,
        )

    def list_receipts(self, endpoint: str, after: int, limit: int) -> list[JournalLine]:
        try:
            reply = self._stub(endpoint).ListReceipts(
                node_pb2.ListReceiptsRequest(after=after, limit=limit), timeout=self._timeout
            )
        except grpc.RpcError as exc:
            raise ConnectionError(f"node {endpoint}: {exc.code().name}: {exc.details()}") from None
        return [
            JournalLine(r.position, r.method, Receipt.from_pb(r.receipt)) for r in reply.receipts
        ]

    def close(self) -> None:
        with self._lock:
            for channel in self._channels.values():
                channel.close()
            self._channels.clear()
