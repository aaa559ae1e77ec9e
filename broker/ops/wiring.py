"""Puts the operations pieces around a broker: the call interceptor (metrics and call log), the
store gauges, the node prober and the HTTP listener. ``broker.server`` makes one
:class:`Operations` and starts and stops it with the gRPC servers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.ops.calls import CallObservingInterceptor
from tongdao.broker.ops.http_listener import OpsHttpServer
from tongdao.broker.ops.logs import CallLog
from tongdao.broker.ops.metrics import (
    NodeProber,
    RpcMetrics,
    StoreCollector,
    node_endpoints,
    store_reader,
)
from tongdao.broker.ops.readiness import readiness_checks
from tongdao.policies.model import Policy


@dataclass
class Operations:
    """Metrics registry, interceptor and (optionally) the HTTP listener and node prober."""

    registry: CollectorRegistry
    interceptor: grpc.ServerInterceptor
    http: OpsHttpServer | None = None
    prober: NodeProber | None = None
    _started: bool = field(default=False, repr=False)

    @property
    def http_port(self) -> int:
        return self.http.port if self.http is not None else 0

    def start(self) -> None:
        if self.prober is not None:
            self.prober.start()
        if self.http is not None:
            self.http.start()
        self._started = True

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        if self.http is not None:
            self.http.stop()
        if self.prober is not None:
            self.prober.stop()


def build_operations(
    *,
    engine: Engine,
    sessions: sessionmaker[Session],
    policy_on: Callable[[dt.date], Policy],
    today: Callable[[], dt.date],
    overdue: Callable[[Session], int],
    ledger_head: Callable[[Session], tuple[int, dt.datetime | None]],
    checkpoint: Callable[[Session], dt.datetime | None] | None = None,
    departments: Callable[[Session], Iterable[Any]],
    node_channel: Callable[[str, str], grpc.Channel],  # (department, endpoint)
    metrics_listen: str = "",
    node_probe_interval: float = 0.0,
) -> Operations:
    """Everything but the start. ``metrics_listen`` "" leaves the HTTP listener off;
    ``node_probe_interval`` 0 leaves the node prober off."""
    registry = CollectorRegistry()
    interceptor = CallObservingInterceptor([RpcMetrics(registry), CallLog()])
    prober = None
    if node_probe_interval > 0:
        prober = NodeProber(
            node_endpoints(sessions, departments), node_channel, interval=node_probe_interval
        )
    registry.register(
        StoreCollector(
            store_reader(sessions, overdue, ledger_head, checkpoint),
            prober.state if prober else None,
        )
    )
    http = None
    if metrics_listen:
        http = OpsHttpServer(metrics_listen, registry, readiness_checks(engine, policy_on, today))
    return Operations(registry, interceptor, http, prober)


def ledger_head_of(
    page: Callable[..., tuple[Sequence[Any], Any]], reader: str
) -> Callable[[Session], tuple[int, dt.datetime | None]]:
    """The ledger's length and last entry's time through the ledger context's ``page`` (read as
    ``reader``, the authority): one call for the head, one for its entry."""

    def read(session: Session) -> tuple[int, dt.datetime | None]:
        _, head = page(session, reader, 1, 0)  # no entries, just the signed head
        if not head.length:
            return 0, None
        rows, _ = page(session, reader, head.length, 1)
        recorded = dt.datetime.fromisoformat(rows[0].recorded_at) if rows else None
        return int(head.length), recorded

    return read


def checkpoint_time_of(
    latest: Callable[[Session], Any],
) -> Callable[[Session], dt.datetime | None]:
    """When the latest checkpoint was signed, through the ledger context's ``latest`` reader."""

    def read(session: Session) -> dt.datetime | None:
        checkpoint = latest(session)
        return dt.datetime.fromisoformat(checkpoint.signed_at) if checkpoint is not None else None

    return read
