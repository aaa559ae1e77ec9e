"""The broker's side of identity: it checks each node's name, the SDK checks the broker's, and a
revoked certificate is refused at the broker and at the nodes within the refresh interval."""

import dataclasses
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.integration.stack import PURPOSE, SCENARIO, start_stack
from tongdao.broker.node_gateway import GrpcNodeGateway
from tongdao.crypto.grant_token import issue_grant_token, read_grant_token_unverified
from tongdao.node.client import ClientError, ConsumerClient
from tongdao.policies.trust import load_trust_rules
from tongdao.proto.errors import Unavailable
from tongdao.proto.query import RelayedQuery

BASIS = "《社会救助暂行办法》第十一条"


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


def test_a_revoked_department_is_refused_at_the_broker_within_the_bound(stack):
    bound = load_trust_rules().refresh_seconds
    assert _health(stack, "hlj.sw").status == health_pb2.HealthCheckResponse.SERVING
    stack.revoke("hlj.sw")
    took, code, message = _seconds_until_refused(lambda: _health(stack, "hlj.sw"), bound)
    assert code == grpc.StatusCode.UNAUTHENTICATED and "revoked" in message
    assert took <= bound + 1
    assert _health(stack, "hrb.rsj").status == health_pb2.HealthCheckResponse.SERVING


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
