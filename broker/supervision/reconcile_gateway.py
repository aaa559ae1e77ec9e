"""The broker's gRPC client for ``Node.ReportReconciliation`` (mutual TLS, bounded time).

Implements :class:`~tongdao.broker.supervision.reconciliation.ReconciliationNodes`. What a node
answers is checked here before the reconciliation reads it: digest sizes, text lengths and item
counts (a malformed report is a :class:`ConnectionError`, so the node is tried again later).
"""

from __future__ import annotations

import threading

import grpc

from tongdao.broker.supervision.reconciliation import (
    NodeReport,
    ReportedEntry,
    ReportedGrant,
)
from tongdao.proto.transport import TlsMaterial, secure_channel
from tongdao.v1 import node_pb2, node_pb2_grpc

MAX_ENTRIES = 1000
MAX_GRANTS = 100_000
MAX_LISTED = 10_000
MAX_TEXT = 128


def _text(value: str, what: str) -> str:
    if len(value) > MAX_TEXT or any(ord(c) < 32 for c in value):
        raise ConnectionError(f"the node's report has a malformed {what}")
    return value


def _digest(value: bytes, what: str) -> bytes:
    if len(value) != 32:
        raise ConnectionError(f"the node's report has a {what} that is not 32 bytes")
    return value


def report_from_pb(reply: node_pb2.ReconciliationReport) -> NodeReport:
    """The report, checked for shape (not yet for its signature)."""
    if len(reply.entries) > MAX_ENTRIES or len(reply.grants) > MAX_GRANTS:
        raise ConnectionError("the node's report has too many entries or grants")
    if any(len(g.request_ids) > MAX_LISTED for g in reply.grants):
        raise ConnectionError(f"the node's report lists more than {MAX_LISTED} request ids")
    return NodeReport(
        department=_text(reply.department, "department"),
        period_start=_text(reply.period_start, "period"),
        period_end=_text(reply.period_end, "period"),
        reported_at=_text(reply.reported_at, "time"),
        key_id=_text(reply.key_id, "key id"),
        entries=tuple(
            ReportedEntry(
                _text(e.entry_code, "entry code"),
                max(0, e.record_count),
                _digest(e.content_digest, "content digest"),
            )
            for e in reply.entries
        ),
        grants=tuple(
            ReportedGrant(
                _text(g.grant_id, "grant id"),
                max(0, g.answered),
                _digest(g.request_ids_digest, "request ids digest"),
                tuple(_text(r, "request id") for r in g.request_ids),
            )
            for g in reply.grants
        ),
        signature=reply.signature,
    )


class GrpcReconciliationNodes:
    """One channel per node endpoint; every call bounded by ``timeout_seconds``."""

    def __init__(self, tls: TlsMaterial, *, timeout_seconds: float = 60.0) -> None:
        self._tls = tls
        self._timeout = timeout_seconds
        self._channels: dict[str, grpc.Channel] = {}
        self._lock = threading.Lock()

    def report(self, endpoint: str, period_start: str, period_end: str) -> NodeReport:
        with self._lock:
            channel = self._channels.get(endpoint)
            if channel is None:
                channel = secure_channel(endpoint, self._tls)
                self._channels[endpoint] = channel
        try:
            reply = node_pb2_grpc.NodeStub(channel).ReportReconciliation(
                node_pb2.ReportReconciliationRequest(
                    period_start=period_start, period_end=period_end
                ),
                timeout=self._timeout,
            )
        except grpc.RpcError as exc:
            raise ConnectionError(f"node {endpoint}: {exc.code().name}: {exc.details()}") from None
        return report_from_pb(reply)

    def close(self) -> None:
        with self._lock:
            for channel in self._channels.values():
                channel.close()
            self._channels.clear()
