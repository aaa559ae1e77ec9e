"""/healthz, /readyz and /metrics over real HTTP; readiness checks on real stores; node probes
against a real gRPC health service; store gauges."""

from __future__ import annotations

import datetime as dt
import json
import socket
import urllib.error
import urllib.request

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from tongdao.broker.kernel.db import MIGRATIONS_DIR, make_engine, upgrade
from tongdao.broker.ops.http_listener import OpsHttpServer, split_address
from tongdao.broker.ops.metrics import NodeProber, StoreCollector, StoreReading
from tongdao.broker.ops.readiness import (
    check_database,
    check_migrations,
    check_policy,
    readiness_checks,
)
from tongdao.policies.loader import load_policy

POLICY = load_policy("heilongjiang-2025")


def _get(port: int, path: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as reply:
            return reply.status, reply.headers["Content-Type"], reply.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read().decode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def migrated(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'broker.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def _older_schema(tmp_path):
    from alembic import command
    from alembic.config import Config

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    return engine


def test_readiness_passes_on_a_migrated_store_in_the_rules_validity(migrated):
    checks = readiness_checks(migrated, lambda _day: POLICY, lambda: POLICY.valid_from)()
    assert [(c.name, c.ok) for c in checks] == [
        ("database", True),
        ("migrations", True),
        ("policy", True),
    ]


def test_readiness_names_what_is_wrong(tmp_path):
    old = _older_schema(tmp_path)
    check = check_migrations(old)
    assert not check.ok and "0003" in check.detail and "upgrade" in check.detail
    unreachable = make_engine(
        f"postgresql+psycopg://tongdao:s3cret@127.0.0.1:{_free_port()}/none?connect_timeout=2"
    )
    db = check_database(unreachable)
    assert not db.ok and "s3cret" not in db.detail and "***" in db.detail
    late = check_policy(POLICY, POLICY.valid_until + dt.timedelta(days=1))
    assert not late.ok and str(POLICY.valid_until) in late.detail
    early = check_policy(POLICY, POLICY.valid_from - dt.timedelta(days=1))
    assert not early.ok


def test_http_listener_serves_health_readiness_and_metrics(tmp_path, migrated):
    registry = CollectorRegistry()
    today = {"day": POLICY.valid_from}
    server = OpsHttpServer(
        "127.0.0.1:0",
        registry,
        readiness_checks(migrated, lambda _day: POLICY, lambda: today["day"]),
    )
    server.start()
    try:
        status, kind, body = _get(server.port, "/healthz")
        assert status == 200 and json.loads(body) == {"status": "alive"}
        status, kind, body = _get(server.port, "/readyz")
        assert status == 200 and kind == "application/json"
        ready = json.loads(body)
        assert ready["ready"] is True and set(ready["checks"]) == {
            "database",
            "migrations",
            "policy",
        }
        today["day"] = POLICY.valid_until + dt.timedelta(days=1)
        status, _, body = _get(server.port, "/readyz")
        assert status == 503 and json.loads(body)["checks"]["policy"]["ok"] is False
        status, kind, _ = _get(server.port, "/metrics")
        assert status == 200 and kind.startswith("text/plain")
        assert _get(server.port, "/admin")[0] == 404
    finally:
        server.stop()


def test_listener_address_errors_are_clear():
    with pytest.raises(ValueError):
        split_address("9464")
    with pytest.raises(ValueError):
        split_address("127.0.0.1:99999")
    assert split_address("[::1]:9464") == ("::1", 9464)
    port = _free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        with pytest.raises(RuntimeError) as err:
            OpsHttpServer(f"127.0.0.1:{port}", CollectorRegistry(), list)
    assert f"127.0.0.1:{port}" in str(err.value)


def test_node_prober_reports_serving_nodes_and_unreachable_ones():
    server = grpc.server(__import__("concurrent.futures").futures.ThreadPoolExecutor(2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        endpoints = {"hlj.gat": f"127.0.0.1:{port}", "hlj.mzt": f"127.0.0.1:{_free_port()}"}
        prober = NodeProber(
            lambda: endpoints, lambda _code, endpoint: grpc.insecure_channel(endpoint), timeout=1
        )
        assert prober.probe_once() == {"hlj.gat": True, "hlj.mzt": False}
        servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        assert prober.probe_once()["hlj.gat"] is False
    finally:
        server.stop(0)


def _families(registry):
    from prometheus_client import generate_latest

    text = generate_latest(registry).decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_store_gauges_and_a_store_that_cannot_be_read():
    now = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    registry = CollectorRegistry()
    registry.register(
        StoreCollector(
            lambda: StoreReading(
                3, 17, now - dt.timedelta(seconds=90), now - dt.timedelta(seconds=600)
            ),
            lambda: {"hlj.gat": True, "hlj.mzt": False},
            clock=lambda: now,
        )
    )
    families = _families(registry)
    assert families["tongdao_store_up"].samples[0].value == 1
    assert families["tongdao_deadlines_overdue"].samples[0].value == 3
    assert families["tongdao_ledger_entries"].samples[0].value == 17
    assert families["tongdao_ledger_head_age_seconds"].samples[0].value == 90
    assert families["tongdao_ledger_checkpoint_age_seconds"].samples[0].value == 600
    reach = {s.labels["department"]: s.value for s in families["tongdao_node_reachable"].samples}
    assert reach == {"hlj.gat": 1, "hlj.mzt": 0}

    def broken():
        raise OSError("store gone")

    down = CollectorRegistry()
    down.register(StoreCollector(broken))
    families = _families(down)
    assert families["tongdao_store_up"].samples[0].value == 0
    assert "tongdao_ledger_entries" not in families
