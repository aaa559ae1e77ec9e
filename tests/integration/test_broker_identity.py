"""The broker's side of identity: it checks each node's name, the SDK checks the broker's, and a
revoked certificate is refused at the broker and at the nodes within the refresh interval."""

import dataclasses
import json
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import select

from tests.integration.stack import PURPOSE, SCENARIO, start_stack
from tongdao.broker.kernel.db import make_engine, session_factory
from tongdao.broker.ledger.models import LedgerEntry
from tongdao.broker.relay.gateway import GrpcNodeGateway
from tongdao.ca_home import CaHome
from tongdao.crypto.enrolment import party_keys_of
from tongdao.crypto.grant_token import issue_grant_token, read_grant_token_unverified
from tongdao.home import AUTHORITY, DepartmentProfile, Home
from tongdao.node.client import ClientError, ConsumerClient
from tongdao.policies.trust import load_trust_rules
from tongdao.proto.errors import Unavailable
from tongdao.proto.query import RelayedQuery
from tongdao.v1 import directory_pb2

BASIS = "《社会救助暂行办法》第十一条"
GAT, MZT = "hlj.gat", "hlj.mzt"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("identity"))
    yield s
    s.stop()


def _grant(stack):
    with stack.consumer() as client:
        req = client.file_share_request(
            "gat.population", ["gender"], ["fetch"], PURPOSE, SCENARIO, BASIS, quota=50
        )
        return client.get_grant(req.grant_id).token


def test_the_broker_refuses_a_node_that_is_not_the_registered_department(stack):
    token = _grant(stack)
    claims = read_grant_token_unverified(token)
    as_mzt = issue_grant_token(
        dataclasses.replace(claims, provider="hlj.mzt"), stack.home.signing_key("broker")
    )
    gateway = GrpcNodeGateway(stack.home.tls("broker"), timeout_seconds=5)
    query = RelayedQuery(as_mzt, "r-1", "fetch", PURPOSE, ("gender",), b"\x00" * 64)
    try:
        # hlj.gat's node at the address the directory gives for hlj.mzt: refused at the handshake
        with pytest.raises(Unavailable):
            gateway.query(stack.nodes["hlj.gat"].target, query)
        # the same address for the department it really is: the node answers (and refuses the
        # junk query itself, which proves the handshake passed)
        real = dataclasses.replace(query, grant_token=token)
        with pytest.raises(Exception) as err:
            gateway.query(stack.nodes["hlj.gat"].target, real)
        assert not isinstance(err.value, Unavailable)
    finally:
        gateway.close()


def test_the_sdk_refuses_a_server_that_is_not_the_broker(stack):
    node = stack.nodes["hlj.gat"].target  # a department's node, certified by the same CA
    keys = stack.home.encryption_keys("hrb.rsj")
    client = ConsumerClient(node, stack.home.tls("hrb.rsj"), keys, "hrb.rsj", timeout=5)
    with client, pytest.raises(ClientError) as err:
        client.get_grant("anything")
    assert err.value.code == "UNAVAILABLE"


def _health(stack, party):
    with stack.channel(party) as channel:
        return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)


def _seconds_until_refused(call, bound):
    published = time.monotonic()
    while time.monotonic() - published < bound + 2:
        try:
            call()
        except grpc.RpcError as exc:
            return time.monotonic() - published, exc.code(), exc.details()
        except ClientError as exc:
            return time.monotonic() - published, exc.code, exc.message
        time.sleep(0.1)
    raise AssertionError("never refused")


def _register(stack, code, certificate_pem, **fields):
    return stack.stub(AUTHORITY).directory.RegisterDepartment(
        directory_pb2.RegisterDepartmentRequest(
            department=directory_pb2.Department(code=code, **fields),
            certificate_pem=certificate_pem,
        ),
        timeout=10,
    )


def _entries(stack, kind):
    engine = make_engine(stack.database_url)
    try:
        with session_factory(engine).begin() as session:
            rows = session.execute(
                select(LedgerEntry).where(LedgerEntry.kind == kind).order_by(LedgerEntry.sequence)
            ).scalars()
            return [(r.actor, r.subject, json.loads(r.payload_json)) for r in rows]
    finally:
        engine.dispose()


def _refusals(stack):
    return _entries(stack, "department.registration_refused")


def test_the_directory_holds_the_keys_the_certificate_carries(stack):
    dept = stack.stub("hrb.rsj").directory.GetDepartment(
        directory_pb2.GetDepartmentRequest(code=GAT), timeout=10
    )
    keys = party_keys_of(stack.home.tls(GAT).certificate_pem)
    assert dept.encryption_public_key == keys.encryption_public_key
    assert dept.signing_public_key == keys.signing_public_key
    assert (dept.name, dept.region, dept.level) == (
        keys.profile["name"],
        keys.profile["region"],
        keys.profile["level"],
    )


@pytest.mark.parametrize(
    ("what", "field", "needle"),
    [
        ("another department's certificate", "department.code", "hlj.mzt"),
        ("garbage", "certificate_pem", "not a PEM certificate"),
        ("a certificate from another CA", "certificate_pem", "not issued by the authority CA"),
        ("the broker's certificate", "certificate_pem", "not a department"),
        ("a node (server) certificate", "certificate_pem", "client certificate"),
        ("an already registered department", "department.code", "already registered"),
        ("raw keys without a certificate", "certificate_pem", "required"),
    ],
)
def test_bad_registrations_are_refused_and_recorded(stack, tmp_path, what, field, needle):
    code = "hlj.new"
    if what == "another department's certificate":
        pem, code = stack.home.tls(MZT).certificate_pem, GAT
    elif what == "garbage":
        pem = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    elif what == "a certificate from another CA":
        rogue, other = CaHome(tmp_path / "rogue", passphrase=None), Home(tmp_path / "o")
        rogue.init()
        profile = DepartmentProfile(code, "伪造厅", "230000", "province")
        rogue.enrol_locally(other, code, role="department", profile=profile)
        pem = other.tls(code).certificate_pem
    elif what == "the broker's certificate":
        pem = stack.home.tls("broker").certificate_pem
    elif what == "a node (server) certificate":
        pem, code = stack.home.server_tls(GAT).certificate_pem, GAT
    else:
        pem, code = stack.home.tls(GAT).certificate_pem, GAT
    fields = {}
    if what == "raw keys without a certificate":  # keys the department never proved it holds
        pem, fields = (
            b"",
            {
                "name": "新厅",
                "region": "230000",
                "level": "province",
                "encryption_public_key": stack.home.encryption_keys(GAT).public_key,
                "signing_public_key": stack.home.signing_key(GAT).verify_key.public_key,
            },
        )
    before = len(_refusals(stack))
    with pytest.raises(grpc.RpcError) as err:
        _register(stack, code, pem, **fields)
    status = err.value.code()
    assert status in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.ALREADY_EXISTS)
    assert field in err.value.details() and needle in err.value.details(), err.value.details()
    refusals = _refusals(stack)
    assert len(refusals) == before + 1
    actor, subject, payload = refusals[-1]
    assert (actor, subject, payload["status"]) == (AUTHORITY, code, status.name)
    assert payload["field"] == field


def test_a_revoked_department_is_refused_at_the_broker_within_the_bound(stack):
    bound = load_trust_rules().refresh_seconds
    assert _health(stack, "hlj.sw").status == health_pb2.HealthCheckResponse.SERVING
    stack.revoke("hlj.sw")
    took, code, message = _seconds_until_refused(lambda: _health(stack, "hlj.sw"), bound)
    assert code == grpc.StatusCode.UNAUTHENTICATED and "revoked" in message
    assert took <= bound + 1
    assert _health(stack, "hrb.rsj").status == health_pb2.HealthCheckResponse.SERVING
    # the refusal is on the ledger, naming who tried and why
    recorded = [p for a, _, p in _entries(stack, "refusal") if a == "hlj.sw"]
    assert recorded and "revoked" in recorded[-1]["message"]


def test_a_revoked_broker_certificate_is_refused_by_the_nodes(stack):
    """Last: revoking the broker's certificates stops every relayed query at the node."""
    token = _grant(stack)
    bound = load_trust_rules().refresh_seconds
    with stack.consumer() as client:
        client.fetch(token, [stack.people[0]["id_number"]], ["gender"], PURPOSE)
        stack.revoke("broker")

        def fetch():
            client.fetch(token, [stack.people[1]["id_number"]], ["gender"], PURPOSE)

        took, code, message = _seconds_until_refused(fetch, bound)
    assert code == "UNAUTHENTICATED" and "revoked" in message
    assert took <= bound + 1
