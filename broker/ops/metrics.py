"""The broker's Prometheus metrics (prometheus-client), on a registry of its own.

Per call (from :class:`tongdao.broker.ops.calls.CallObservingInterceptor`):

* ``tongdao_rpc_calls_total{service,method,code}`` — finished calls by status code;
* ``tongdao_rpc_duration_seconds{service,method}`` — latency histogram;
* ``tongdao_rpc_open_streams{service,method}`` — streaming calls in progress.

Read from the store at scrape time (through the contexts' service APIs, in one read-only
session):

* ``tongdao_deadlines_overdue`` — open working-day deadlines past their due day (SUP-1);
* ``tongdao_ledger_entries``, ``tongdao_ledger_head_age_seconds`` and
  ``tongdao_ledger_checkpoint_age_seconds`` — the log's size, how long ago its head entry was
  recorded and how long ago the broker signed its latest checkpoint;
* ``tongdao_node_reachable{department}`` — 1 when the department's node answered the last health
  probe (:class:`NodeProber`), 0 otherwise;
* ``tongdao_store_up`` — 1 when the scrape could read the store.

Labels hold method names and department codes only: never a caller's data, token or key.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.ops.calls import CallRecord

log = logging.getLogger("tongdao.broker.metrics")
disable_created_metrics()  # no *_created series: start times say nothing a scraper needs

# seconds; from a cached read (~1 ms) to an aggregate over a large entry (minutes)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)


def _split(method: str) -> tuple[str, str]:
    parts = method.split("/")
    return (parts[-2], parts[-1]) if len(parts) >= 3 else ("-", method)


class RpcMetrics:
    """A :class:`~tongdao.broker.ops.calls.CallObserver` that counts and times calls."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "tongdao_rpc_calls",
            "gRPC calls finished, by service, method and status code",
            ("service", "method", "code"),
            registry=registry,
        )
        self.duration = Histogram(
            "tongdao_rpc_duration_seconds",
            "gRPC call duration in seconds, by service and method",
            ("service", "method"),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.open_streams = Gauge(
            "tongdao_rpc_open_streams",
            "streaming gRPC calls in progress",
            ("service", "method"),
            registry=registry,
        )

    def call_finished(self, record: CallRecord) -> None:
        service, method = record.service, record.rpc
        self.calls.labels(service, method, record.code).inc()
        self.duration.labels(service, method).observe(record.duration_seconds)

    def stream_opened(self, method: str) -> None:
        self.open_streams.labels(*_split(method)).inc()

    def stream_closed(self, method: str) -> None:
        self.open_streams.labels(*_split(method)).dec()


class NodeProber:
    """Asks each department's node for its gRPC health every ``interval`` seconds.

    ``endpoints`` returns the current ``{department: endpoint}`` map (from the directory);
    ``channel`` opens a mutual-TLS channel to an endpoint (the broker's own certificate).
    """

    def __init__(
        self,
        endpoints: Callable[[], dict[str, str]],
        channel: Callable[[str, str], grpc.Channel],  # (department, endpoint)
        *,
        interval: float = 30.0,
        timeout: float = 3.0,
    ) -> None:
        self._endpoints = endpoints
        self._channel = channel
        self._interval = interval
        self._timeout = timeout
        self._state: dict[str, bool] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def probe_once(self) -> dict[str, bool]:
        """Probe every node now; returns and remembers ``{department: reachable}``."""
        try:
            endpoints = self._endpoints()
        except Exception as exc:  # the store is down: keep the last known state
            log.warning("node probe skipped: cannot read the directory (%s)", type(exc).__name__)
            return self.state()
        state = {code: self._probe(code, endpoint) for code, endpoint in sorted(endpoints.items())}
        with self._lock:
            self._state = state
        return dict(state)

    def _probe(self, department: str, endpoint: str) -> bool:
        channel = self._channel(department, endpoint)
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=self._timeout
            )
            return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
        except grpc.RpcError:
            return False
        finally:
            channel.close()

    def state(self) -> dict[str, bool]:
        with self._lock:
            return dict(self._state)

    def start(self) -> None:
        def run() -> None:
            while not self._stop.is_set():
                self.probe_once()
                self._stop.wait(self._interval)

        self._thread = threading.Thread(target=run, name="tongdao-node-prober", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._timeout + 1)


@dataclass(frozen=True)
class StoreReading:
    """What one scrape reads from the store."""

    overdue: int
    ledger_entries: int
    head_recorded_at: dt.datetime | None
    checkpoint_signed_at: dt.datetime | None = None


class StoreCollector(Collector):
    """Reads the store's gauges at scrape time.

    ``read`` runs in a read-only session and returns a :class:`StoreReading`; ``nodes`` is the
    node prober's last state.
    """

    def __init__(
        self,
        read: Callable[[], StoreReading],
        nodes: Callable[[], dict[str, bool]] | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._read = read
        self._nodes = nodes
        self._clock = clock

    def _age(self, at: dt.datetime) -> float:
        return max(0.0, (self._clock() - at).total_seconds())

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily("tongdao_store_up", "1 when the metrics scrape could read the store")
        try:
            reading = self._read()
        except Exception as exc:
            log.warning("metrics: cannot read the store (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
        else:
            up.add_metric([], 1)
            yield up
            yield GaugeMetricFamily(
                "tongdao_deadlines_overdue",
                "open working-day deadlines past their due day",
                value=reading.overdue,
            )
            yield GaugeMetricFamily(
                "tongdao_ledger_entries",
                "entries in the tamper-evident ledger",
                value=reading.ledger_entries,
            )
            age = GaugeMetricFamily(
                "tongdao_ledger_head_age_seconds",
                "seconds since the ledger's head entry was recorded (absent while empty)",
            )
            if reading.head_recorded_at is not None:
                age.add_metric([], self._age(reading.head_recorded_at))
            yield age
            checkpoint = GaugeMetricFamily(
                "tongdao_ledger_checkpoint_age_seconds",
                "seconds since the broker signed its latest checkpoint (absent before the first)",
            )
            if reading.checkpoint_signed_at is not None:
                checkpoint.add_metric([], self._age(reading.checkpoint_signed_at))
            yield checkpoint
        if self._nodes is not None:
            reachable = GaugeMetricFamily(
                "tongdao_node_reachable",
                "1 when the department's node answered the last health probe",
                labels=("department",),
            )
            for code, ok in sorted(self._nodes().items()):
                reachable.add_metric([code], 1 if ok else 0)
            yield reachable


def store_reader(
    sessions: sessionmaker[Session],
    overdue: Callable[[Session], int],
    ledger_head: Callable[[Session], tuple[int, dt.datetime | None]],
    checkpoint: Callable[[Session], dt.datetime | None] | None = None,
) -> Callable[[], StoreReading]:
    """The read for :class:`StoreCollector`, in one read-only session: overdue deadlines (from
    supervision), the ledger's length, last entry's time and latest checkpoint's time (from the
    ledger context)."""

    def read() -> StoreReading:
        with sessions() as session, session.begin():
            count = overdue(session)
            length, recorded_at = ledger_head(session)
            signed_at = checkpoint(session) if checkpoint is not None else None
        return StoreReading(count, length, recorded_at, signed_at)

    return read


def node_endpoints(
    sessions: sessionmaker[Session], departments: Callable[[Session], Iterable[Any]]
) -> Callable[[], dict[str, str]]:
    """``{department: node endpoint}`` for every department with a node, from the directory."""

    def read() -> dict[str, str]:
        with sessions() as session, session.begin():
            return {d.code: d.node_endpoint for d in departments(session) if d.node_endpoint}

    return read
