"""The consumer SDK against a stand-in broker that relays straight to a node engine.

No network: the SDK's stub is replaced, so these tests pin down what the SDK does with what
comes back — open the result, check the receipt — including when the relay tampers with it.
"""

from __future__ import annotations

import dataclasses

import grpc
import pytest

from tests.unit.node.world import PEOPLE, PURPOSE, World, simple_masker
from tongdao.crypto.grant_token import read_grant_token_unverified
from tongdao.crypto.pki import (
    Authority,
    Usage,
    client_name,
    create_authority,
    generate_tls_key,
    issue_certificate,
    private_key_pem,
)
from tongdao.crypto.query_binding import receipt_signing_bytes
from tongdao.crypto.signing import SigningKey
from tongdao.node.client import ClientError, ConsumerClient
from tongdao.proto.errors import DomainError
from tongdao.proto.query import RelayedQuery
from tongdao.proto.transport import TlsMaterial
from tongdao.v1 import directory_pb2, query_pb2


class FakeRpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


class RelayingBroker:
    """Answers GetDepartment from the world's keys and relays Query to the node engine.

    ``tamper`` may rewrite the node's reply, as a compromised relay would.
    """

    def __init__(self, world: World) -> None:
        self.world = world
        self.tamper = lambda reply: reply
        self.seen: list[query_pb2.QueryRequest] = []
        self.directory = self.query = self  # the Directory and Query services, as BrokerStubs

    def GetDepartment(self, request, timeout=None):
        return directory_pb2.Department(
            code=request.code,
            encryption_public_key=self.world.node_keys.public_key,
            signing_public_key=self.world.node_signing.verify_key.public_key,
        )

    def Query(self, request, timeout=None):
        self.seen.append(request)
        try:
            query = RelayedQuery.from_pb(request)
            # the broker attaches its status ticket to what it relays
            query = dataclasses.replace(query, status_ticket=self.world.ticket(query.grant_token))
            answer = self.world.engine.answer("broker", query)
        except DomainError as exc:
            code = getattr(grpc.StatusCode, exc.code_name)
            raise FakeRpcError(code, exc.status_message()) from None
        reply = query_pb2.QueryResponse(
            sealed_result=answer.sealed_result, receipt=answer.receipt.to_pb()
        )
        return self.tamper(reply)


@pytest.fixture(scope="module")
def tls():
    ca = create_authority()
    authority = Authority.load(ca.certificate_pem, ca.private_key_pem)
    key = generate_tls_key()
    cert = issue_certificate(
        authority,
        key.public_key(),
        "hrb.rsj",
        role="department",
        usage=Usage.CLIENT,
        names=(client_name("hrb.rsj"),),
        valid_days=1,
    )
    return TlsMaterial(ca.certificate_pem, cert, private_key_pem(key))


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    yield w
    w.engine.state.close()


@pytest.fixture
def relay(world):
    return RelayingBroker(world)


@pytest.fixture
def client(world, relay, tls):
    # the channel is never used: nothing connects until a call, and the stub is replaced
    c = ConsumerClient("127.0.0.1:9", tls, world.consumer_keys, "hrb.rsj")
    c.broker = relay
    yield c
    c.close()


def test_fetch_hides_the_crypto_and_returns_records(client, world, relay):
    token = world.token()
    records = client.fetch(token, [PEOPLE[0][0], "230102000000000000"], ["name"], PURPOSE)
    assert records == [
        {
            "key": PEOPLE[0][0],
            "found": True,
            "fields": {"name": simple_masker("personal", PEOPLE[0][1], "name")},
        },
        {"key": "230102000000000000", "found": False, "fields": {}},
    ]
    # what the relay saw: names and ciphertext, never a key or a value
    wire = relay.seen[0].SerializeToString()
    assert PEOPLE[0][0].encode() not in wire and PEOPLE[0][1].encode() not in wire


def test_verify_returns_matches_only(client, world):
    result = client.verify(
        world.token(), PEOPLE[1][0], {"name": PEOPLE[1][1], "gender": "男"}, PURPOSE
    )
    assert result == {"found": True, "matches": {"name": True, "gender": False}}


def test_refusals_surface_as_client_errors_with_the_code(client, world):
    with pytest.raises(ClientError) as err:
        client.fetch(world.token(), [PEOPLE[0][0]], ["name"], "商业营销")
    assert err.value.code == "PERMISSION_DENIED" and "wrong purpose" in err.value.message


def test_malformed_token_is_refused_before_any_call(client, relay):
    with pytest.raises(ClientError) as err:
        client.fetch("not-a-token", ["x"], ["name"], PURPOSE)
    assert err.value.code == "INVALID_ARGUMENT" and not relay.seen


def _receipt_changed(**changes):
    def tamper(reply):
        receipt = reply.receipt
        for name, value in changes.items():
            setattr(receipt, name, value)
        return reply

    return tamper


@pytest.mark.parametrize(
    ("tamper", "needle"),
    [
        (_receipt_changed(request_id="0" * 32), "another request"),
        (_receipt_changed(grant_id="g-other"), "another grant"),
        (_receipt_changed(provider="hlj.mzt"), "another provider"),
        (_receipt_changed(record_count=99), "does not verify"),
        (_receipt_changed(signature=b"\0" * 64), "does not verify"),
    ],
)
def test_a_tampered_receipt_is_data_loss(client, world, relay, tamper, needle):
    relay.tamper = tamper
    with pytest.raises(ClientError) as err:
        client.fetch(world.token(), [PEOPLE[0][0]], ["name"], PURPOSE)
    assert err.value.code == "DATA_LOSS" and needle in err.value.message


def test_an_older_genuine_answer_replayed_by_the_relay_is_data_loss(client, world, relay):
    token = world.token()
    kept = []
    relay.tamper = lambda reply: kept.append(reply) or reply
    client.fetch(token, [PEOPLE[1][0]], ["name"], PURPOSE)
    relay.tamper = lambda reply: kept[0]
    with pytest.raises(ClientError) as err:
        client.fetch(token, [PEOPLE[2][0]], ["name"], PURPOSE)
    assert err.value.code == "DATA_LOSS" and "another request" in err.value.message


def test_a_result_sealed_by_the_relay_itself_is_data_loss(client, world, relay):
    from tongdao.crypto.envelope import seal

    def reseal(reply):
        claims = read_grant_token_unverified(world.token())
        reply.sealed_result = seal(world.consumer_keys.public_key, b"{}", claims.grant_id.encode())
        return reply

    relay.tamper = reseal
    with pytest.raises(ClientError) as err:
        client.fetch(world.token(), [PEOPLE[0][0]], ["name"], PURPOSE)
    assert err.value.code == "DATA_LOSS"


def test_a_receipt_re_signed_with_another_key_is_data_loss(client, world, relay):
    impostor = SigningKey.generate()

    def resign(reply):
        r = reply.receipt
        r.signature = impostor.sign(
            receipt_signing_bytes(
                request_id=r.request_id,
                grant_id=r.grant_id,
                provider=r.provider,
                result_digest=r.result_digest,
                record_count=r.record_count,
                answered_at=r.answered_at,
            )
        )
        return reply

    relay.tamper = resign
    with pytest.raises(ClientError) as err:
        client.fetch(world.token(), [PEOPLE[0][0]], ["name"], PURPOSE)
    assert err.value.code == "DATA_LOSS" and "does not verify" in err.value.message


def test_unknown_method_names_are_refused_locally(client):
    with pytest.raises(ClientError) as err:
        client.file_share_request("gat.population", ["name"], ["download"], PURPOSE, "s", "b")
    assert err.value.code == "INVALID_ARGUMENT" and "download" in err.value.message
