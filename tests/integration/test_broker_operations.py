"""A broker with its operations listener, over real gRPC and mutual TLS: the per-call metrics and
JSON log lines match the calls made, the store gauges match the store, nodes are probed, and no
token, key or record value reaches the logs."""

from __future__ import annotations

import io
import json
import logging
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.stack import BASIS, PURPOSE, SCENARIO, start_stack
from tongdao.broker.kernel.db import make_engine, session_factory
from tongdao.broker.kernel.settings import BrokerSettings
from tongdao.broker.ledger.chain import latest_checkpoint, verify_ledger
from tongdao.broker.ops.logs import CALL_FIELDS, JsonFormatter
from tongdao.broker.server import BrokerConfig, start_broker
from tongdao.node.client import ClientError, ConsumerClient


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("ops"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def log_lines():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield out
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.fixture(scope="module")
def broker(stack, log_lines):
    """A second broker on the stack's store, with metrics, health and node probes on."""
    running = start_broker(
        BrokerConfig(
            tls=stack.home.tls("broker"),
            server_tls=stack.home.tls_source("broker", server=True),
            signing_key=stack.home.signing_key("broker"),
            database_url=stack.database_url,
            settings=BrokerSettings(locale="en"),
            metrics_listen="127.0.0.1:0",
            node_probe_interval=0.2,
        )
    )
    yield running
    running.stop(0)


def _http(broker, path: str) -> tuple[int, str]:
    port = broker.operations.http_port
    url = f"http://127.0.0.1:{port}{path}"
    with urllib.request.urlopen(url, timeout=5) as reply:
        return reply.status, reply.read().decode()


def _metrics(broker) -> dict[str, list]:
    _, text = _http(broker, "/metrics")
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def _calls(broker) -> dict[tuple[str, str], float]:
    return {
        (s.labels["method"], s.labels["code"]): s.value
        for s in _metrics(broker).get("tongdao_rpc_calls", [])
        if s.name == "tongdao_rpc_calls_total"
    }


def _call_lines(log_lines) -> list[dict]:
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    return [line for line in lines if line["logger"] == "tongdao.calls"]


@pytest.fixture(scope="module")
def session_of_calls(stack, broker):
    """A consumer's ordinary session against the broker, and what must never be logged."""
    person = stack.people[3]
    consumer = "hrb.rsj"
    with ConsumerClient(
        broker.target, stack.home.tls(consumer), stack.home.encryption_keys(consumer), consumer
    ) as client:
        req = client.file_share_request(
            "gat.population", ["name", "birth_date"], ["fetch", "verify"], PURPOSE, SCENARIO, BASIS
        )
        token = client.get_grant(req.grant_id).token
        rows = client.fetch(token, [person["id_number"]], ["name", "birth_date"], PURPOSE)
        client.verify(token, person["id_number"], {"name": person["name"]}, PURPOSE)
        with pytest.raises(ClientError):
            client.get_grant("00000000-0000-0000-0000-000000000000")
    assert rows[0]["found"]
    home = stack.home
    secrets = {
        "grant token": token,
        "id number": person["id_number"],
        "name": person["name"],
        "birth date": person["birth_date"],
        "address": person["household_address"],
        "consumer signing key": home.signing_key(consumer).private_key.hex(),
        "consumer encryption key": home.encryption_keys(consumer).private_key.hex(),
        "broker signing key": home.signing_key("broker").private_key.hex(),
    }
    for party in (consumer, "broker"):
        pem = (home.party_dir(party) / "tls.key").read_text().splitlines()
        secrets[f"{party} TLS key"] = max(pem, key=len)  # a line of the key's base64 body
    return secrets


def test_every_call_is_one_json_line_with_only_the_call_fields(session_of_calls, log_lines):
    lines = _call_lines(log_lines)
    assert len(lines) >= 5
    for line in lines:
        assert set(line) == {"time", "level", "logger", "message", *CALL_FIELDS}
        assert line["message"] == "call"
        assert line["caller"] == "hrb.rsj"
        assert len(line["request_id"]) == 32
        assert line["duration_ms"] >= 0
    assert len({line["request_id"] for line in lines}) == len(lines)
    methods = [(line["method"], line["code"]) for line in lines]
    assert ("FileShareRequest", "OK") in methods
    assert ("GetGrant", "NOT_FOUND") in methods


def test_no_token_key_or_record_value_is_logged(session_of_calls, log_lines):
    text = log_lines.getvalue()
    assert text  # the capture works
    for what, secret in session_of_calls.items():
        assert secret not in text, f"the {what} appears in the logs"


def test_metrics_count_the_calls_the_log_shows(broker, session_of_calls, log_lines):
    calls = _calls(broker)
    logged: dict[tuple[str, str], int] = {}
    for line in _call_lines(log_lines):
        key = (line["method"], line["code"])
        logged[key] = logged.get(key, 0) + 1
    assert calls == logged
    assert calls[("GetGrant", "NOT_FOUND")] == 1
    durations = {
        s.labels["method"]: s.value
        for s in _metrics(broker)["tongdao_rpc_duration_seconds"]
        if s.name == "tongdao_rpc_duration_seconds_count"
    }
    assert durations["FileShareRequest"] == calls[("FileShareRequest", "OK")]


def test_store_gauges_match_the_store(stack, broker, session_of_calls):
    engine = make_engine(stack.database_url)

    def length() -> int:
        with session_factory(engine).begin() as session:
            return verify_ledger(session, stack.home.broker_verify_key()).length

    # the broker's own rounds may append while the gauge is read: it lies between the two
    before = length()
    samples = _metrics(broker)
    after = length()
    engine.dispose()
    assert samples["tongdao_store_up"][0].value == 1
    assert 0 < before <= samples["tongdao_ledger_entries"][0].value <= after
    age = samples["tongdao_ledger_head_age_seconds"][0].value
    assert 0 <= age < 600
    assert samples["tongdao_deadlines_overdue"][0].value == 0
    checkpoint = samples.get("tongdao_ledger_checkpoint_age_seconds", [])
    engine = make_engine(stack.database_url)
    with session_factory(engine).begin() as session:
        latest = latest_checkpoint(session)
    engine.dispose()
    if latest is None:
        assert checkpoint == []
    else:
        assert len(checkpoint) == 1 and 0 <= checkpoint[0].value < 600


def test_readyz_and_healthz(broker):
    assert _http(broker, "/healthz")[0] == 200
    status, body = _http(broker, "/readyz")
    assert status == 200 and json.loads(body)["ready"] is True


def _reachable(broker) -> dict[str, float]:
    return {
        s.labels["department"]: s.value for s in _metrics(broker).get("tongdao_node_reachable", [])
    }


def _wait_for(predicate, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_nodes_are_probed_and_a_stopped_node_is_reported(stack, broker):
    nodes = set(stack.nodes)
    assert _wait_for(lambda: set(_reachable(broker)) == nodes)
    assert all(v == 1 for v in _reachable(broker).values())
    stack.nodes["hlj.sw"].stop(0)
    assert _wait_for(lambda: _reachable(broker).get("hlj.sw") == 0)
    assert _reachable(broker)["hlj.gat"] == 1
