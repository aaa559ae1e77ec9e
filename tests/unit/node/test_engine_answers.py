"""What the node answers: fetch and verify results, masking, sealing to the consumer, receipts."""

from __future__ import annotations

import logging

import pytest

from tests.unit.node.world import PEOPLE, PURPOSE, World, simple_masker
from tongdao.crypto.envelope import EncryptionKeyPair, open_sealed
from tongdao.crypto.errors import EnvelopeError, SignatureError
from tongdao.crypto.query_binding import (
    RESULT,
    query_associated_data,
    receipt_signing_bytes,
    result_digest,
)
from tongdao.node.server import NodeServicer
from tongdao.proto.errors import PermissionDenied, Unauthenticated
from tongdao.v1 import node_pb2


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    yield w
    w.engine.state.close()


def fetch(world, keys, fields=("name", "gender")):
    claims = world.claims()
    query = world.query(world.token(claims), {"keys": keys}, fields=fields)
    answer = world.engine.answer("broker", query)
    return claims, query, answer, world.open_result(answer, query, claims.grant_id)


def test_fetch_returns_granted_fields_masked_by_grade(world):
    zhang = PEOPLE[0]
    _, _, answer, result = fetch(world, [zhang[0], "230102000000000000"])
    assert result == {
        "records": [
            {
                "key": zhang[0],
                "found": True,
                # name is graded personal (masked), gender general (as stored)
                "fields": {"name": simple_masker("personal", zhang[1], "name"), "gender": "男"},
            },
            {"key": "230102000000000000", "found": False, "fields": {}},
        ]
    }
    assert answer.receipt.record_count == 2  # keys asked about, never keys found


def test_fetch_returns_only_the_fields_asked_for(world):
    _, _, _, result = fetch(world, [PEOPLE[1][0]], fields=("gender",))
    assert result["records"][0]["fields"] == {"gender": "女"}


@pytest.mark.parametrize(
    "spelling",
    [
        "23010219900101123x",  # lower-case check character (entry folds case)
        "  23010219900101123X\t",  # surrounding white space
        "２３０１０２１９９００１０１１２３Ｘ",  # full-width digits (NFKC)
    ],
)
def test_keys_are_normalised_before_lookup(world, spelling):
    _, _, _, result = fetch(world, [spelling], fields=("gender",))
    record = result["records"][0]
    assert record["found"] is True and record["key"] == spelling


def test_verify_answers_match_per_field_and_never_values(world):
    wang = PEOPLE[2]
    claims = world.claims()
    body = {"key": wang[0], "claims": {"name": wang[1], "birth_date": "1970-01-01"}}
    query = world.query(world.token(claims), body, method="verify", fields=("name", "birth_date"))
    answer = world.engine.answer("broker", query)
    result = world.open_result(answer, query, claims.grant_id)
    assert result == {"found": True, "matches": {"name": True, "birth_date": False}}
    assert answer.receipt.record_count == 1


def test_verify_of_sensitive_personal_data_is_allowed(world):
    li = PEOPLE[1]
    claims = world.claims(fields=("household_address",))
    body = {"key": li[0], "claims": {"household_address": li[4]}}
    query = world.query(world.token(claims), body, method="verify", fields=("household_address",))
    result = world.open_result(world.engine.answer("broker", query), query, claims.grant_id)
    assert result == {"found": True, "matches": {"household_address": True}}


def test_verify_of_an_unknown_key(world):
    claims = world.claims()
    body = {"key": "230102000000000000", "claims": {"name": "张三"}}
    query = world.query(world.token(claims), body, method="verify", fields=("name",))
    answer = world.engine.answer("broker", query)
    assert world.open_result(answer, query, claims.grant_id) == {
        "found": False,
        "matches": {"name": False},
    }
    assert answer.receipt.record_count == 1  # the same as for a key that exists


def test_result_is_sealed_to_the_consumer_key_in_the_token_and_bound_to_the_request(world):
    claims, query, answer, _ = fetch(world, [PEOPLE[0][0]])
    aad = query_associated_data(claims.grant_id, query.request_id, "fetch", RESULT)
    with pytest.raises(EnvelopeError):  # not the node's, not the broker's: only the consumer's
        open_sealed(EncryptionKeyPair.generate().private_key, answer.sealed_result, aad)
    other_request = query_associated_data(claims.grant_id, "0" * 32, "fetch", RESULT)
    with pytest.raises(EnvelopeError):
        open_sealed(world.consumer_keys.private_key, answer.sealed_result, other_request)


def test_receipt_is_signed_by_the_node_over_the_sealed_result(world):
    claims, query, answer, _ = fetch(world, [PEOPLE[0][0], PEOPLE[1][0]])
    r = answer.receipt
    assert (r.request_id, r.grant_id, r.provider) == (query.request_id, claims.grant_id, "hlj.gat")
    assert r.result_digest == result_digest(answer.sealed_result)
    assert r.record_count == 2
    assert r.answered_at == "2025-06-03T09:00:00+00:00"
    signed = receipt_signing_bytes(
        request_id=r.request_id,
        grant_id=r.grant_id,
        provider=r.provider,
        result_digest=r.result_digest,
        record_count=r.record_count,
        answered_at=r.answered_at,
    )
    world.node_signing.verify_key.verify(r.signature, signed)
    tampered = receipt_signing_bytes(
        request_id=r.request_id,
        grant_id=r.grant_id,
        provider=r.provider,
        result_digest=r.result_digest,
        record_count=r.record_count + 1,
        answered_at=r.answered_at,
    )
    with pytest.raises(SignatureError):
        world.node_signing.verify_key.verify(r.signature, tampered)


def test_a_granted_query_is_recorded_once(world):
    claims, query, _, _ = fetch(world, [PEOPLE[0][0]])
    assert world.engine.state.seen(query.request_id)
    assert world.engine.state.used(claims.grant_id) == 1


# ---------------------------------------------------------------- the servicer and its log


class FakeContext:
    """Just enough of grpc.ServicerContext for the servicer: the verified peer identity."""

    def __init__(self, common_name: str | None) -> None:
        self._cn = common_name

    def auth_context(self):
        return {"x509_common_name": [self._cn.encode()]} if self._cn else {}


def test_servicer_translates_and_logs_no_record_value(world, caplog):
    caplog.set_level(logging.DEBUG)
    servicer = NodeServicer(world.engine)
    claims = world.claims(methods=("fetch", "verify"))
    token = world.token(claims)
    fetch_q = world.query(token, {"keys": [p[0] for p in PEOPLE]}, fields=("name", "gender"))
    reply = servicer.Query(fetch_q.to_pb(), FakeContext("broker"))
    assert isinstance(reply, node_pb2.NodeQueryResponse)
    assert reply.receipt.record_count == 3
    assert reply.receipt.result_digest == result_digest(reply.sealed_result)
    verify_q = world.query(
        token,
        {"key": PEOPLE[1][0], "claims": {"name": PEOPLE[1][1]}},
        method="verify",
        fields=("name",),
    )
    servicer.Query(verify_q.to_pb(), FakeContext("broker"))
    with pytest.raises(Exception):  # noqa: B017 - a refusal, whatever its class, is logged too
        servicer.Query(world.query(token, purpose="商业营销").to_pb(), FakeContext("broker"))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "answered fetch" in logged  # the log is there ...
    for person in PEOPLE:  # ... and carries no key, value or claim
        for value in person:
            assert value not in logged
    assert token not in logged and PURPOSE not in logged


def test_served_entries_name_fields_and_counts(world):
    reply = NodeServicer(world.engine).ListServedEntries(
        node_pb2.ListServedEntriesRequest(), FakeContext("broker")
    )
    [entry] = reply.entries
    assert entry.entry_code == "gat.population" and entry.record_count == 3
    assert "name" in entry.fields


@pytest.mark.parametrize(
    ("caller", "kind"), [(None, Unauthenticated), ("hrb.rsj", PermissionDenied)]
)
def test_only_the_broker_lists_served_entries(world, caller, kind):
    with pytest.raises(kind):
        NodeServicer(world.engine).ListServedEntries(
            node_pb2.ListServedEntriesRequest(), FakeContext(caller)
        )


def test_a_stranger_is_refused_before_the_request_is_parsed(world):
    query = world.query(world.token()).to_pb()
    query.method = 0  # unspecified: INVALID_ARGUMENT for the broker, but not for a stranger
    with pytest.raises(PermissionDenied, match="broker"):
        NodeServicer(world.engine).Query(query, FakeContext("hrb.rsj"))
