"""`tongdao node serve` as its own process, called over real mutual TLS by a stand-in broker.

The test holds the broker's TLS material and signing key (from a temporary home), so it can
issue genuine, forged, expired and widened tokens and see the node refuse them itself.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tongdao.ca_home import CaHome
from tongdao.crypto.envelope import open_sealed, seal_authenticated
from tongdao.crypto.grant_status import issue_status_ticket
from tongdao.crypto.grant_token import GrantClaims, b64url_encode, issue_grant_token
from tongdao.crypto.pki import node_server_name
from tongdao.crypto.query_binding import (
    QUERY,
    RESULT,
    query_associated_data,
    receipt_signing_bytes,
    result_digest,
)
from tongdao.crypto.signing import SigningKey
from tongdao.home import DepartmentProfile, Home
from tongdao.proto.methods import METHOD_VALUES
from tongdao.proto.transport import secure_channel
from tongdao.v1 import node_pb2, node_pb2_grpc, query_pb2

ROOT = Path(__file__).resolve().parents[2]
PROVIDER, CONSUMER = "hlj.gat", "hrb.rsj"
LOOPBACK = ("127.0.0.1",)
PURPOSE = "低保申请人身份核验"
PEOPLE = [
    {"id_number": "23010219900101123X", "name": "张三丰", "gender": "男", "region": "230102"},
    {"id_number": "230102198505052345", "name": "李四娘", "gender": "女", "region": "230102"},
]
# the published catalogue entry's grades, as the broker signs them into every grant
CATALOGUE_GRADES = {"id_number": "sensitive_personal", "name": "personal", "gender": "general"}

CONFIG = """
department = "{provider}"
home = "{home}"
listen = "127.0.0.1:0"
state_dir = "node-state"

[[entries]]
code = "gat.population"
source = "csv:population.csv"
key_field = "id_number"
casefold_keys = true

[entries.grades]
id_number = "sensitive_personal"
name = "personal"
gender = "general"
"""


class Node:
    def __init__(self, process: subprocess.Popen[str], target: str, lines: list[str]) -> None:
        self.process, self.target, self.lines = process, target, lines


def start(config: Path, *options: str, timeout: float = 30) -> Node:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tongdao", "node", "serve", "--config", str(config), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if " listening on " in line:
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(timeout) or process.poll() is not None:
        process.kill()
        pytest.fail("node did not start: " + "\n".join(lines))
    address = next(x for x in lines if " listening on " in x).rsplit(" ", 1)[1]
    return Node(process, address, lines)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("node-serve")
    home = Home(tmp / "home")
    ca = CaHome(tmp / "ca")
    ca.init()
    ca.enrol_locally(home, "broker", role="broker", server_names=("127.0.0.1",))
    provider = DepartmentProfile(PROVIDER, "黑龙江省公安厅", "230000", "province")
    ca.enrol_locally(home, PROVIDER, role="department", profile=provider, server_names=LOOPBACK)
    consumer = DepartmentProfile(CONSUMER, "哈尔滨市人社局", "230100", "city")
    ca.enrol_locally(home, CONSUMER, role="department", profile=consumer)
    ca.publish_to(home)
    with (tmp / "population.csv").open("w", encoding="utf-8") as fh:
        fh.write(",".join(PEOPLE[0]) + "\n")
        for p in PEOPLE:
            fh.write(",".join(p.values()) + "\n")
    config = tmp / "node.toml"
    config.write_text(CONFIG.format(provider=PROVIDER, home=home.root), encoding="utf-8")
    node = start(config)
    channel = secure_channel(
        node.target, home.tls("broker"), server_name=node_server_name(PROVIDER)
    )
    yield home, node, node_pb2_grpc.NodeStub(channel), channel
    channel.close()
    if node.process.poll() is None:
        node.process.kill()
        node.process.wait(10)


def claims_for(home: Home, **changes) -> GrantClaims:
    now = int(time.time())
    base = GrantClaims(
        grant_id=uuid.uuid4().hex,
        issuer="broker",
        consumer=CONSUMER,
        provider=PROVIDER,
        entry_code="gat.population",
        entry_version=1,
        fields=("name", "gender"),
        methods=("fetch", "verify"),
        purpose=PURPOSE,
        regions=(),
        issued_at=now - 10,
        expires_at=now + 3600,
        quota=10,
        consumer_encryption_key=b64url_encode(home.encryption_keys(CONSUMER).public_key),
        grades=CATALOGUE_GRADES,
    )
    return dataclasses.replace(base, **changes)


def request(home, claims, body, *, method="fetch", fields=("name",), token=None, **over):
    request_id = over.pop("request_id", uuid.uuid4().hex)
    sealed = seal_authenticated(
        home.encryption_keys(CONSUMER).private_key,
        home.encryption_keys(PROVIDER).public_key,
        json.dumps(body).encode(),
        query_associated_data(claims.grant_id, request_id, method, QUERY),
    )
    token = token or issue_grant_token(claims, home.signing_key("broker"))
    values = {
        "grant_token": token,
        # what the broker attaches to every query it relays (crypto.grant_status)
        "status_ticket": issue_status_ticket(
            claims.grant_id, token, home.signing_key("broker"), now=int(time.time()), lifetime=60
        ),
        "request_id": request_id,
        "method": METHOD_VALUES[method],
        "purpose": PURPOSE,
        "fields": list(fields),
        "sealed_query": sealed,
    }
    values.update(over)
    return query_pb2.QueryRequest(**values)


def status_of(call) -> tuple[str, str]:
    try:
        call()
    except grpc.RpcError as exc:
        return exc.code().name, exc.details() or ""
    return "OK", ""


def test_prints_its_address_and_serves_health_and_entries(world):
    _, node, stub, channel = world
    assert any(line.startswith("serving gat.population (2 records)") for line in node.lines)
    assert node.target.startswith("127.0.0.1:")
    health = health_pb2_grpc.HealthStub(channel)
    reply = health.Check(health_pb2.HealthCheckRequest(service="tongdao.v1.Node"), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    served = stub.ListServedEntries(node_pb2.ListServedEntriesRequest(), timeout=5)
    assert [(e.entry_code, list(e.fields), e.record_count) for e in served.entries] == [
        ("gat.population", ["id_number", "name", "gender"], 2)  # region has no grade
    ]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux scheduling policies")
def test_every_thread_of_the_node_runs_under_batch_scheduling(world):
    _, node, stub, _ = world
    stub.ListServedEntries(node_pb2.ListServedEntriesRequest(), timeout=5)  # threads started
    tids = [int(t) for t in os.listdir(f"/proc/{node.process.pid}/task")]
    assert len(tids) > 2
    # the node's own, gRPC's and SQLite's threads inherit the policy set at start, and threads a
    # library started at import are set too (a test run under a policy of the operator's own
    # would see that one kept)
    expected = (
        os.SCHED_BATCH if os.sched_getscheduler(0) == os.SCHED_OTHER else os.sched_getscheduler(0)
    )
    assert {os.sched_getscheduler(t) for t in tids} == {expected}


def test_fetch_and_verify_end_to_end(world):
    home, _, stub, _ = world
    claims = claims_for(home)
    req = request(home, claims, {"keys": [PEOPLE[0]["id_number"].lower()]}, fields=("name",))
    reply = stub.Query(req, timeout=10)
    plain = open_sealed(
        home.encryption_keys(CONSUMER).private_key,
        reply.sealed_result,
        query_associated_data(claims.grant_id, req.request_id, "fetch", RESULT),
    )
    [record] = json.loads(plain)["records"]
    assert record["found"] is True
    assert record["fields"]["name"] not in ("", PEOPLE[0]["name"])  # personal: masked
    assert record["fields"]["name"][0] == PEOPLE[0]["name"][0]
    r = reply.receipt
    assert r.result_digest == result_digest(reply.sealed_result) and r.record_count == 1
    home.signing_key(PROVIDER).verify_key.verify(
        r.signature,
        receipt_signing_bytes(
            request_id=r.request_id,
            grant_id=r.grant_id,
            provider=r.provider,
            result_digest=r.result_digest,
            record_count=r.record_count,
            answered_at=r.answered_at,
        ),
    )
    body = {"key": PEOPLE[1]["id_number"], "claims": {"name": PEOPLE[1]["name"], "gender": "男"}}
    req = request(home, claims, body, method="verify", fields=("name", "gender"))
    reply = stub.Query(req, timeout=10)
    plain = open_sealed(
        home.encryption_keys(CONSUMER).private_key,
        reply.sealed_result,
        query_associated_data(claims.grant_id, req.request_id, "verify", RESULT),
    )
    assert json.loads(plain) == {"found": True, "matches": {"name": True, "gender": False}}


def _refusals(home):
    key = {"keys": [PEOPLE[0]["id_number"]]}
    good = claims_for(home)
    token = issue_grant_token(good, home.signing_key("broker"))
    wider = issue_grant_token(
        dataclasses.replace(good, fields=("name", "gender", "id_number")), SigningKey.generate()
    )
    spliced = ".".join([*wider.split(".")[:2], token.split(".")[2]])
    now = int(time.time())
    expired = dataclasses.replace(good, issued_at=now - 7200, expires_at=now - 60)
    unspecified = request(home, good, key)
    unspecified.method = 0  # QUERY_METHOD_UNSPECIFIED
    return {
        "forged": (
            request(home, good, key, token=issue_grant_token(good, SigningKey.generate())),
            "PERMISSION_DENIED",
            "signature",
        ),
        "expired": (request(home, expired, key), "PERMISSION_DENIED", "expired"),
        "widened": (
            request(home, good, key, token=spliced, fields=("id_number",)),
            "PERMISSION_DENIED",
            "signature",
        ),
        "field outside the grant": (
            request(home, claims_for(home, fields=("gender",)), key, fields=("name",)),
            "PERMISSION_DENIED",
            "'name' is outside the grant",
        ),
        "wrong purpose": (
            request(home, good, key, purpose="商业营销"),
            "PERMISSION_DENIED",
            "wrong purpose",
        ),
        "another provider": (
            request(home, claims_for(home, provider="hlj.mzt"), key),
            "PERMISSION_DENIED",
            "another provider",
        ),
        "entry not served": (
            request(home, claims_for(home, entry_code="mzt.marriage"), key),
            "NOT_FOUND",
            "mzt.marriage",
        ),
        "unspecified method": (unspecified, "INVALID_ARGUMENT", "method"),
        "empty purpose": (request(home, good, key, purpose=""), "INVALID_ARGUMENT", "purpose"),
        "bad request id": (
            request(home, good, key, request_id="1234"),
            "INVALID_ARGUMENT",
            "request_id",
        ),
        "garbage sealed query": (
            request(home, good, key, sealed_query=b"\x01" * 200),
            "INVALID_ARGUMENT",
            "sealed_query",
        ),
        "too many keys": (
            request(home, good, {"keys": ["1"] * 1001}),
            "INVALID_ARGUMENT",
            "sealed_query.keys",
        ),
        "oversize key": (
            request(home, good, {"keys": ["1" * 300]}),
            "INVALID_ARGUMENT",
            "sealed_query.keys",
        ),
        "sensitive field fetched": (
            request(home, claims_for(home, fields=("id_number",)), key, fields=("id_number",)),
            "PERMISSION_DENIED",
            "sensitive_personal",
        ),
    }


def test_refusals_over_grpc(world):
    home, _, stub, _ = world
    for case, (req, code, needle) in _refusals(home).items():
        got, message = status_of(lambda req=req: stub.Query(req, timeout=10))
        assert (got, needle in message) == (code, True), f"{case}: {got} {message}"


def test_replay_and_quota_over_grpc(world):
    home, _, stub, _ = world
    claims = claims_for(home, quota=2)
    first = request(home, claims, {"keys": [PEOPLE[0]["id_number"]]})
    stub.Query(first, timeout=10)
    code, message = status_of(lambda: stub.Query(first, timeout=10))
    assert code == "PERMISSION_DENIED" and "replayed request" in message
    stub.Query(request(home, claims, {"keys": [PEOPLE[1]["id_number"]]}), timeout=10)
    third = request(home, claims, {"keys": [PEOPLE[1]["id_number"]]})
    code, message = status_of(lambda: stub.Query(third, timeout=10))
    assert code == "PERMISSION_DENIED" and "quota of 2" in message


def test_only_the_broker_may_call(world):
    home, node, _, _ = world
    claims = claims_for(home)
    with secure_channel(node.target, home.tls(CONSUMER)) as channel:
        req = request(home, claims, {"keys": [PEOPLE[0]["id_number"]]})
        code, message = status_of(lambda: node_pb2_grpc.NodeStub(channel).Query(req, timeout=5))
    assert code == "PERMISSION_DENIED" and "broker" in message


def test_output_carries_no_record_value(world):
    _, node, _, _ = world
    text = "\n".join(node.lines)
    for person in PEOPLE:
        for value in person.values():
            if len(value) > 2:  # skip one-character values such as 男 that may occur by chance
                assert value not in text


def test_a_port_in_use_stops_start_up_before_the_state_directory_is_created(world):
    home, node, _, _ = world
    folder = home.root.parent
    config = folder / "taken.toml"
    text = CONFIG.format(provider=PROVIDER, home=home.root)
    text = text.replace('listen = "127.0.0.1:0"', f'listen = "{node.target}"')
    config.write_text(text.replace('"node-state"', '"taken-state"'), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "tongdao", "node", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert f"cannot listen on {node.target}" in result.stderr
    assert "already in use" in result.stderr and "Traceback" not in result.stderr
    assert not (folder / "taken-state").exists()
    assert node.process.poll() is None  # the node holding the port serves on


def test_log_lines_as_json_objects_when_asked(world):
    home, _, _, _ = world
    config = Path(home.root).parent / "node-json.toml"
    text = CONFIG.format(provider=PROVIDER, home=home.root)
    config.write_text(text.replace('"node-state"', '"node-state-json"'), encoding="utf-8")
    node = start(config, "--log-format", "json")
    try:
        logged = [json.loads(line) for line in node.lines if line.startswith("{")]
        assert any("revocation list" in entry["message"] for entry in logged)
        assert all({"time", "level", "logger", "message"} <= set(entry) for entry in logged)
    finally:
        node.process.send_signal(signal.SIGTERM)
        node.process.wait(20)


def test_sigterm_stops_cleanly(world):
    _, node, _, _ = world
    node.process.send_signal(signal.SIGTERM)
    assert node.process.wait(20) == 0
    time.sleep(0.1)
    assert node.lines[-1] == "node hlj.gat stopped"


def test_bad_config_exits_2_naming_file_and_problem(tmp_path):
    config = tmp_path / "node.toml"
    config.write_text('department = "hlj.gat"\nhome = "h"\nentries = []\n', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "tongdao", "node", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert result.returncode == 2
    assert "tongdao: error:" in result.stderr and str(config) in result.stderr
    assert "entries" in result.stderr
