"""The whole path over real gRPC and mutual TLS: statuses, node-side checks, ciphertext only."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import uuid

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from sqlalchemy import create_engine, text

from tests.integration.stack import BASIS, PURPOSE, SCENARIO, start_stack
from tongdao.crypto.envelope import seal, seal_authenticated
from tongdao.crypto.grant_token import issue_grant_token, read_grant_token_unverified
from tongdao.crypto.query_binding import query_associated_data
from tongdao.home import AUTHORITY
from tongdao.node.client import ClientError
from tongdao.proto.methods import METHOD_VALUES
from tongdao.proto.stubs import BrokerStubs
from tongdao.proto.transport import english_details, secure_channel
from tongdao.v1 import catalogue_pb2, directory_pb2, ledger_pb2, node_pb2_grpc, query_pb2


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("stack"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def population_grant(stack):
    with stack.consumer() as client:
        req = client.file_share_request(
            "gat.population",
            ["name", "gender", "birth_date"],
            ["fetch", "verify"],
            PURPOSE,
            SCENARIO,
            BASIS,
            quota=50,
        )
        assert req.status == "approved"
        return client.get_grant(req.grant_id)


def code_of(call):
    with pytest.raises((grpc.RpcError, ClientError)) as err:
        call()
    exc = err.value
    if isinstance(exc, ClientError):
        return exc.code, exc.message
    return exc.code().name, exc.details()


# ---------------------------------------------------------------- broker statuses


def test_unknown_entry_and_department_are_not_found(stack):
    stub = stack.stub("hrb.rsj")
    code, msg = code_of(
        lambda: stub.catalogue.GetCatalogueEntry(
            catalogue_pb2.GetCatalogueEntryRequest(code="no.such"), timeout=5
        )
    )
    assert code == "NOT_FOUND" and "no.such" in msg
    code, msg = code_of(
        lambda: stub.directory.GetDepartment(
            directory_pb2.GetDepartmentRequest(code="no.such"), timeout=5
        )
    )
    assert code == "NOT_FOUND" and "code" in msg
    with stack.consumer() as client:
        code, msg = code_of(
            lambda: client.file_share_request(
                "no.entry", ["x"], ["fetch"], PURPOSE, SCENARIO, BASIS
            )
        )
    assert code == "NOT_FOUND" and "request.entry_code" in msg


@pytest.mark.parametrize(
    ("fields", "purpose", "field_named"),
    [
        (["bad name!"], PURPOSE, "request.fields"),
        ([], PURPOSE, "request.fields"),
        (["name"], "   ", "request.purpose"),
        (["name"], "x" * 5000, "request.purpose"),
    ],
)
def test_malformed_requests_are_invalid_argument_naming_the_field(
    stack, fields, purpose, field_named
):
    with stack.consumer() as client:
        code, msg = code_of(
            lambda: client.file_share_request(
                "gat.population", fields, ["fetch"], purpose, SCENARIO, BASIS
            )
        )
    assert code == "INVALID_ARGUMENT"
    assert msg.startswith(field_named)


def test_oversize_sealed_query_is_invalid_argument(stack, population_grant):
    stub = stack.stub("hrb.rsj")
    request = query_pb2.QueryRequest(
        grant_token=population_grant.token,
        request_id=str(uuid.uuid4()),
        method=METHOD_VALUES["fetch"],
        purpose=PURPOSE,
        fields=["name"],
        sealed_query=b"\0" * (25 * 1024 * 1024),
    )
    code, msg = code_of(lambda: stub.query.Query(request, timeout=10))
    assert code == "INVALID_ARGUMENT" and "sealed_query" in msg


def test_message_over_the_transport_limit_is_refused(stack):
    stub = stack.stub("hrb.rsj")
    request = query_pb2.QueryRequest(sealed_query=b"\0" * (40 * 1024 * 1024))
    code, _ = code_of(lambda: stub.query.Query(request, timeout=20))
    assert code == "RESOURCE_EXHAUSTED"


def test_only_the_authority_registers_departments(stack):
    stub = stack.stub("hlj.gat")
    code, _ = code_of(
        lambda: stub.directory.RegisterDepartment(
            directory_pb2.RegisterDepartmentRequest(
                department=directory_pb2.Department(code="x.y")
            ),
            timeout=5,
        )
    )
    assert code == "PERMISSION_DENIED"


# ---------------------------------------------------------------- the happy path


def test_fetch_and_verify_end_to_end(stack, population_grant):
    person = stack.people[0]
    with stack.consumer() as client:
        rows = client.fetch(
            population_grant.token, [person["id_number"], "230102199901019999"], ["gender"], PURPOSE
        )
        assert rows[0] == {
            "key": person["id_number"],
            "found": True,
            "fields": {"gender": person["gender"]},
        }
        assert rows[1]["found"] is False
        answer = client.verify(
            population_grant.token,
            person["id_number"],
            {"name": person["name"], "birth_date": "1900-01-01"},
            PURPOSE,
        )
    assert answer == {"found": True, "matches": {"name": True, "birth_date": False}}


def test_full_width_and_lower_case_keys_are_normalised(stack, population_grant):
    person = stack.people[0]
    wide = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in person["id_number"])
    with stack.consumer() as client:
        rows = client.fetch(population_grant.token, [f" {wide} "], ["gender"], PURPOSE)
    assert rows[0]["found"] is True


# ---------------------------------------------------------------- refusals relayed from the node


def test_replayed_request_is_refused_by_the_node_through_the_broker(stack, population_grant):
    claims = read_grant_token_unverified(population_grant.token)
    gat = stack.home.encryption_keys("hlj.gat").public_key
    request_id = str(uuid.uuid4())
    sealed = seal_authenticated(
        stack.home.encryption_keys("hrb.rsj").private_key,
        gat,
        json.dumps({"keys": [stack.people[1]["id_number"]]}).encode(),
        query_associated_data(claims.grant_id, request_id, "fetch", "query"),
    )
    request = query_pb2.QueryRequest(
        grant_token=population_grant.token,
        request_id=request_id,
        method=METHOD_VALUES["fetch"],
        purpose=PURPOSE,
        fields=["gender"],
        sealed_query=sealed,
    )
    stub = stack.stub("hrb.rsj")
    stub.query.Query(request, timeout=10)
    code, msg = code_of(lambda: stub.query.Query(request, timeout=10))
    assert code == "PERMISSION_DENIED" and "replayed" in msg
    # the node's refusal, relayed, in the caller's language; the English kept in the details
    zh = (("tongdao-locale", "zh-CN"),)
    with pytest.raises(grpc.RpcError) as err:
        stub.query.Query(request, timeout=10, metadata=zh)
    assert err.value.details().startswith("提供部门节点拒绝：")
    assert "重放的请求：此请求编号已应答过" in err.value.details()
    info = error_details_pb2.ErrorInfo()
    status = rpc_status.from_call(err.value)
    assert status is not None and any(d.Unpack(info) for d in status.details)
    assert info.metadata["message"].startswith("provider node refused: ")
    assert "replayed request" in info.metadata["message"]
    # what a program matching on the text reads, whatever language the call asked for
    assert english_details(err.value) == info.metadata["message"]


def test_sealed_query_moved_to_another_request_does_not_open(stack, population_grant):
    claims = read_grant_token_unverified(population_grant.token)
    gat = stack.home.encryption_keys("hlj.gat").public_key
    sealed = seal_authenticated(
        stack.home.encryption_keys("hrb.rsj").private_key,
        gat,
        json.dumps({"keys": ["x"]}).encode(),
        query_associated_data(claims.grant_id, str(uuid.uuid4()), "fetch", "query"),
    )
    request = query_pb2.QueryRequest(
        grant_token=population_grant.token,
        request_id=str(uuid.uuid4()),
        method=METHOD_VALUES["fetch"],
        purpose=PURPOSE,
        fields=["gender"],
        sealed_query=sealed,
    )
    code, msg = code_of(lambda: stack.stub("hrb.rsj").query.Query(request, timeout=10))
    assert code == "INVALID_ARGUMENT" and "sealed_query" in msg


def _as_broker_to_node(
    stack, token: str, *, fields=("gender",), purpose=PURPOSE, request_id=None, own_query=False
):
    """What a compromised relay could send: the broker's own certificate and keys (so a fresh
    status ticket), any token, and a query the consumer sealed (withheld and sent on directly)
    or, with ``own_query``, one it made."""
    from tongdao.crypto.grant_status import issue_status_ticket

    claims = read_grant_token_unverified(token)
    ticket = issue_status_ticket(
        claims.grant_id,
        token,
        stack.home.signing_key("broker"),
        now=int(time.time()),
        lifetime=60,
    )
    request_id = request_id or str(uuid.uuid4())
    node_key = stack.home.encryption_keys("hlj.gat").public_key
    body = json.dumps({"keys": [stack.people[2]["id_number"]]}).encode()
    ad = query_associated_data(claims.grant_id, request_id, "fetch", "query")
    if own_query:
        sealed = seal(node_key, body, ad)
    else:
        sealed = seal_authenticated(
            stack.home.encryption_keys("hrb.rsj").private_key, node_key, body, ad
        )
    channel = secure_channel(stack.nodes["hlj.gat"].target, stack.home.tls("broker"))
    stub = node_pb2_grpc.NodeStub(channel)
    request = query_pb2.QueryRequest(
        grant_token=token,
        request_id=request_id,
        method=METHOD_VALUES["fetch"],
        purpose=purpose,
        fields=list(fields),
        sealed_query=sealed,
        status_ticket=ticket,
    )
    try:
        stub.Query(request, timeout=10)
        return "OK", ""
    except grpc.RpcError as exc:
        return exc.code().name, exc.details()
    finally:
        channel.close()


def test_node_itself_refuses_forged_expired_and_widened_tokens(stack, population_grant):
    claims = read_grant_token_unverified(population_grant.token)
    from tongdao.crypto.signing import SigningKey

    forged = issue_grant_token(claims, SigningKey.generate())
    widened = issue_grant_token(
        dataclasses.replace(claims, fields=(*claims.fields, "household_address")),
        SigningKey.generate(),
    )
    spliced = ".".join([*widened.split(".")[:2], population_grant.token.split(".")[2]])
    broker_key = stack.home.signing_key("broker")
    expired = issue_grant_token(
        dataclasses.replace(claims, issued_at=1_000, expires_at=2_000), broker_key
    )
    for token in (forged, spliced, expired):
        code, msg = _as_broker_to_node(stack, token)
        assert code == "PERMISSION_DENIED", msg
        assert "grant_token" in msg
    code, msg = _as_broker_to_node(stack, population_grant.token, fields=("household_address",))
    assert code == "PERMISSION_DENIED" and "outside the grant" in msg
    code, msg = _as_broker_to_node(stack, population_grant.token, purpose="商业营销")
    assert code == "PERMISSION_DENIED" and "purpose" in msg


def test_node_refuses_callers_other_than_the_broker(stack, population_grant):
    channel = secure_channel(stack.nodes["hlj.gat"].target, stack.home.tls("hrb.rsj"))
    request = query_pb2.QueryRequest(
        grant_token=population_grant.token,
        request_id=str(uuid.uuid4()),
        method=METHOD_VALUES["fetch"],
        purpose=PURPOSE,
        fields=["gender"],
        sealed_query=b"x" * 80,
    )
    code, msg = code_of(lambda: node_pb2_grpc.NodeStub(channel).Query(request, timeout=5))
    channel.close()
    assert code == "PERMISSION_DENIED" and "broker" in msg


def test_node_quota_is_enforced_by_the_node(stack):
    with stack.consumer() as client:
        req = client.file_share_request(
            "gat.population", ["gender"], ["fetch"], PURPOSE, SCENARIO, BASIS, quota=1
        )
        token = client.get_grant(req.grant_id).token
        # a query the relay makes itself is refused before it spends anything ...
        code, msg = _as_broker_to_node(stack, token, own_query=True)
        assert code == "INVALID_ARGUMENT" and "not sealed by the grant's consumer" in msg
        # ... a consumer's query it withheld and sent on directly spends the only use ...
        assert _as_broker_to_node(stack, token) == ("OK", "")
        # ... then the broker, which has counted nothing, relays again and the node refuses
        code, msg = code_of(
            lambda: client.fetch(token, [stack.people[0]["id_number"]], ["gender"], PURPOSE)
        )
    assert code == "PERMISSION_DENIED" and "quota" in msg


# ---------------------------------------------------------------- the broker holds only ciphertext


class Recorder(grpc.UnaryUnaryClientInterceptor):
    def __init__(self):
        self.wire: list[bytes] = []

    def intercept_unary_unary(self, continuation, client_call_details, request):
        self.wire.append(request.SerializeToString())
        response = continuation(client_call_details, request)
        self.wire.append(response.result().SerializeToString())
        return response


def test_broker_receives_stores_and_logs_no_plaintext(stack, caplog):
    caplog.set_level(logging.DEBUG)
    person = stack.people[5]
    recorder = Recorder()
    with stack.consumer() as client:
        client.broker = BrokerStubs.over(grpc.intercept_channel(client._channel, recorder))
        req = client.file_share_request(
            "gat.population", ["name", "birth_date"], ["fetch", "verify"], PURPOSE, SCENARIO, BASIS
        )
        token = client.get_grant(req.grant_id).token
        rows = client.fetch(token, [person["id_number"]], ["name", "birth_date"], PURPOSE)
        client.verify(token, person["id_number"], {"name": person["name"]}, PURPOSE)
    assert rows[0]["found"]
    secrets = [
        person["id_number"],
        person["name"],
        person["birth_date"],
        rows[0]["fields"]["name"],
        person["household_address"],
    ]
    wire = b"".join(recorder.wire)
    engine = create_engine(stack.database_url)
    with engine.connect() as conn:
        store = "\n".join(
            str(row)
            for table in (
                "ledger_entries",
                "grants",
                "share_requests",
                "deadlines",
                "catalogue_entries",
            )
            for row in conn.execute(text(f"select * from {table}"))
        )
    engine.dispose()
    logs = "\n".join(r.getMessage() for r in caplog.records)
    for secret in secrets:
        assert secret.encode() not in wire, "plaintext crossed the broker"
        assert secret not in store, "plaintext stored by the broker"
        assert secret not in logs, "plaintext logged"


# ---------------------------------------------------------------- node down


def test_node_down_is_unavailable_and_recorded_once(tmp_path):
    s = start_stack(tmp_path, records=20)
    try:
        with s.consumer() as client:
            req = client.file_share_request(
                "gat.population", ["gender"], ["fetch"], PURPOSE, SCENARIO, BASIS
            )
            token = client.get_grant(req.grant_id).token
            s.nodes["hlj.gat"].stop(0)
            verify = s.stub(AUTHORITY).ledger.VerifyLedger(
                ledger_pb2.VerifyLedgerRequest(), timeout=10
            )
            code, msg = code_of(
                lambda: client.fetch(token, [s.people[0]["id_number"]], ["gender"], PURPOSE)
            )
            assert code == "UNAVAILABLE" and "unavailable" in msg
            grant = client.get_grant(req.grant_id)
        assert grant.used == 0
        after = s.stub(AUTHORITY).ledger.VerifyLedger(ledger_pb2.VerifyLedgerRequest(), timeout=10)
        assert after.ok and after.length == verify.length + 1
        last = s.stub(AUTHORITY).ledger.GetLedger(
            ledger_pb2.GetLedgerRequest(from_sequence=after.length), timeout=10
        )
        assert last.entries[0].kind == "query.failed"
    finally:
        s.stop()


def test_health_and_reflection_on_broker_and_node(stack):
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    from tongdao.proto.stubs import BROKER_SERVICES

    for target, service in (
        *((stack.broker.target, name) for name in BROKER_SERVICES),
        (stack.nodes["hlj.gat"].target, "tongdao.v1.Node"),
    ):
        with secure_channel(target, stack.home.tls("broker")) as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=5
            )
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            replies = stub.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
            )
            names = {s.name for r in replies for s in r.list_services_response.service}
            assert service in names and "grpc.health.v1.Health" in names


def test_catalogue_review_clocks_from_the_cli(stack, tmp_path, capsys):
    import tomllib

    from tongdao.cli import main
    from tongdao.demo_world import ENTRY_DIR

    common = ["--home", str(stack.home.root), "--broker", stack.broker.target]
    data = tomllib.loads((ENTRY_DIR / "gat.population.toml").read_text(encoding="utf-8"))
    text_ = (ENTRY_DIR / "gat.population.toml").read_text(encoding="utf-8")
    path = tmp_path / "entry.toml"
    path.write_text(
        text_.replace(f'code = "{data["code"]}"', 'code = "gat.cli-entry"'), encoding="utf-8"
    )
    capsys.readouterr()
    assert main(["catalogue", "create", str(path), *common, "--as", "hlj.gat"]) == 0
    created = capsys.readouterr().out.splitlines()
    assert created[0].startswith("catalogue entry gat.cli-entry v0: draft — ")
    assert "(hlj.gat)" in created[0] and "data item(s); important data" in created[1]
    # the full view: each data item with its type and grade, the key marked, the purposes
    assert main(["catalogue", "get", "gat.cli-entry", *common, "--as", "hlj.gat"]) == 0
    shown = capsys.readouterr().out
    key = data["key_field"]
    assert f"{key} (key)" in shown and "data items:" in shown
    for item in data["data_items"]:
        assert any(
            line.split()[0] == item["name"] and item["sensitivity"] in line
            for line in shown.splitlines()
            if line.startswith("    ")
        ), item["name"]
    assert "open data: not_open" in shown  # an unconditional share names no purposes
    assert main(["catalogue", "submit", "gat.cli-entry", *common, "--as", "hlj.gat"]) == 0
    submitted = capsys.readouterr().out
    assert ": submitted — " in submitted and "waiting for the review of " in submitted
    assert main(["authority", "return", "gat.cli-entry", "--comments", "补充说明", *common]) == 0
    assert "returned with: 补充说明" in capsys.readouterr().out
    assert main(["supervise", "deadlines", *common, "--json"]) == 0
    deadlines = json.loads(capsys.readouterr().out)["deadlines"]
    revision = [d for d in deadlines if d["subject"] == "gat.cli-entry"]
    assert (
        revision
        and revision[0]["kind"] == "catalogue_revision"
        and revision[0]["article"] == "Art.12"
    )
    assert main(["catalogue", "revise", str(path), *common, "--as", "hlj.gat"]) == 0
    assert main(["catalogue", "submit", "gat.cli-entry", *common, "--as", "hlj.gat"]) == 0
    capsys.readouterr()
    assert main(["authority", "publish", "gat.cli-entry", *common]) == 0
    assert capsys.readouterr().out.startswith("catalogue entry gat.cli-entry v1: published — ")
    assert (
        main(["authority", "require-update", "gat.cli-entry", "--basis", "法规修订", *common]) == 0
    )
    capsys.readouterr()
    assert main(["supervise", "deadlines", *common, "--json"]) == 0
    update = next(
        d
        for d in json.loads(capsys.readouterr().out)["deadlines"]
        if d["kind"] == "catalogue_update" and d["subject"] == "gat.cli-entry"
    )
    assert main(["authority", "extend", update["id"], "--basis", "政策调整", *common]) == 0
    assert main(["authority", "extend", update["id"], "--legal-basis", "again", *common]) == 3
    assert "FAILED_PRECONDITION" in capsys.readouterr().err


def test_service_requests_from_the_cli(stack, capsys):
    from tongdao.cli import main

    common = ["--home", str(stack.home.root), "--broker", stack.broker.target, "--json"]
    assert (
        main(
            [
                "requests",
                "need",
                *common,
                "--as",
                "hrb.rsj",
                "--provider",
                "hlj.gat",
                "--title",
                "流动人口信息",
                "--items",
                "id_number,residence",
                "--scenario",
                "就业补贴",
                "--legal-basis",
                "《就业促进法》",
            ]
        )
        == 0
    )
    need = json.loads(capsys.readouterr().out)
    assert need["status"] == "pending" and need["due_date"]
    assert main(["requests", "inbox", *common, "--as", "hlj.gat"]) == 0
    assert need["id"] in capsys.readouterr().out
    assert main(["requests", "decide", need["id"], "--refuse", *common, "--as", "hlj.gat"]) == 2
    assert "reason" in capsys.readouterr().err
    assert (
        main(
            [
                "requests",
                "decide",
                need["id"],
                "--refuse",
                "--reason",
                "不在职责范围",
                *common,
                "--as",
                "hlj.gat",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["status"] == "refused"
    assert (
        main(
            [
                "requests",
                "correction",
                *common,
                "--provider",
                "hlj.gat",
                "--entry",
                "gat.population",
                "--record-key",
                "230102199001011234",
                "--requester",
                "张某",
                "--description",
                "姓名有误",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["kind"] == "correction"
