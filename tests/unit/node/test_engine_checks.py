"""The node's own checks, each refusal path in turn, without a server (the domain alone).

The node trusts the broker for transport only: every test here acts as a (possibly
misbehaving) broker and shows the node refuses with the right domain error, naming the problem,
and records nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import uuid

import pytest

from tests.unit.node.world import PEOPLE, World
from tongdao.crypto.envelope import EncryptionKeyPair
from tongdao.crypto.signing import SigningKey
from tongdao.node.state import ReplayError
from tongdao.proto.errors import (
    DomainError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    yield w
    w.engine.state.close()


def refusal(world: World, query, caller: str | None = "broker") -> DomainError:
    """The domain error the node raises for ``query``; asserts nothing was recorded."""
    with pytest.raises(DomainError) as err:
        world.engine.answer(caller, query)
    assert not world.engine.state.seen(query.request_id), "a refused request was recorded"
    return err.value


def assert_refused(world, query, kind, *needles, caller="broker"):
    exc = refusal(world, query, caller)
    assert type(exc) is kind, f"{type(exc).__name__}: {exc.status_message()}"
    text = exc.status_message()
    for needle in needles:
        assert needle in text, text
    return exc


# ---------------------------------------------------------------- who calls


def test_no_client_identity_is_unauthenticated(world):
    assert_refused(world, world.query(world.token()), Unauthenticated, caller=None)


def test_a_department_calling_the_node_directly_is_refused(world):
    assert_refused(world, world.query(world.token()), PermissionDenied, "broker", caller="hrb.rsj")


# ---------------------------------------------------------------- the token itself


def test_missing_token(world):
    assert_refused(world, world.query(""), PermissionDenied, "grant_token")


@pytest.mark.parametrize("token", ["garbage", "tdg1.e30.AAAA", "tdg1." + "A" * 20_000 + ".x"])
def test_malformed_token(world, token):
    assert_refused(world, world.query(token), PermissionDenied, "grant_token")


def test_forged_token_signed_by_another_key(world):
    forged = world.token(key=SigningKey.generate())
    assert_refused(world, world.query(forged), PermissionDenied, "grant_token", "signature")


def test_widened_token_claims_changed_signature_kept(world):
    claims = world.claims()
    genuine = world.token(claims)
    wider = world.token(
        dataclasses.replace(claims, fields=(*claims.fields, "id_number"), quota=10_000),
        key=SigningKey.generate(),
    )
    spliced = ".".join([*wider.split(".")[:2], genuine.split(".")[2]])
    assert_refused(
        world, world.query(spliced, fields=("id_number",)), PermissionDenied, "signature"
    )


def test_expired_token(world):
    now = int(world.now.timestamp())
    token = world.token(world.claims(issued_at=now - 7200, expires_at=now))
    assert_refused(world, world.query(token), PermissionDenied, "grant_token", "expired")


def test_token_from_the_future(world):
    now = int(world.now.timestamp())
    token = world.token(world.claims(issued_at=now + 3600, expires_at=now + 7200))
    assert_refused(world, world.query(token), PermissionDenied, "grant_token", "not valid yet")


def test_token_for_another_provider(world):
    token = world.token(world.claims(provider="hlj.mzt"))
    assert_refused(world, world.query(token), PermissionDenied, "another provider")


def test_entry_not_served_here_is_not_found(world):
    token = world.token(world.claims(entry_code="mzt.marriage"))
    assert_refused(world, world.query(token), NotFound, "mzt.marriage")


# ---------------------------------------------------------------- the query against the grant


def test_method_not_in_the_grant(world):
    token = world.token(world.claims(methods=("verify",)))
    assert_refused(world, world.query(token), PermissionDenied, "method", "'fetch'")


def test_unknown_method_is_invalid_argument(world):
    assert_refused(world, world.query(world.token(), method="download"), InvalidArgument, "method")


def test_no_fields_is_invalid_argument(world):
    assert_refused(world, world.query(world.token(), fields=()), InvalidArgument, "fields")


def test_field_outside_the_grant_is_named(world):
    token = world.token(world.claims(fields=("gender",)))
    exc = assert_refused(
        world, world.query(token, fields=("gender", "name")), PermissionDenied, "'name'", "grant"
    )
    assert exc.field == "fields"


def test_field_granted_but_not_served_by_this_node(world):
    token = world.token(world.claims(fields=("gender", "photo")))
    assert_refused(
        world, world.query(token, fields=("photo",)), InvalidArgument, "'photo'", "not served"
    )


def test_a_column_without_a_grade_is_not_served(world):
    entry = world.engine.entries["gat.population"]
    grades = {k: v for k, v in entry.grades.items() if k != "birth_date"}
    world.engine.entries = {entry.code: dataclasses.replace(entry, grades=grades)}
    token = world.token()
    assert_refused(world, world.query(token, fields=("birth_date",)), InvalidArgument, "not served")


def test_grade_forbids_fetching_sensitive_personal_data(world):
    token = world.token(world.claims(fields=("household_address",)))
    assert_refused(
        world,
        world.query(token, fields=("household_address",)),
        PermissionDenied,
        "household_address",
        "sensitive_personal",
    )


@pytest.mark.parametrize("purpose", ["", "   "])
def test_empty_purpose_is_invalid_argument(world, purpose):
    assert_refused(world, world.query(world.token(), purpose=purpose), InvalidArgument, "purpose")


def test_wrong_purpose(world):
    assert_refused(
        world, world.query(world.token(), purpose="商业营销"), PermissionDenied, "wrong purpose"
    )


@pytest.mark.parametrize(
    "request_id",
    [
        "",
        "1",
        "not-a-uuid",
        "g" * 32,
        uuid.uuid4().hex + "0",
        f"{{{uuid.uuid4()}}}",
        f"urn:uuid:{uuid.uuid4()}",
    ],
)
def test_malformed_request_id(world, request_id):
    assert_refused(
        world, world.query(world.token(), request_id=request_id), InvalidArgument, "request_id"
    )


def test_replayed_request_id(world):
    token = world.token()
    first = world.query(token)
    world.engine.answer("broker", first)
    again = world.query(token, request_id=first.request_id)
    with pytest.raises(PermissionDenied, match="replayed request"):
        world.engine.answer("broker", again)
    assert world.engine.state.used(_grant_id(token)) == 1


@pytest.mark.parametrize(
    "respell", [str.upper, lambda r: r.replace("-", ""), lambda r: r.replace("-", "").upper()]
)
def test_another_spelling_of_an_answered_request_id_is_a_replay(world, respell):
    token = world.token()
    first = world.query(token, request_id=str(uuid.uuid4()))
    world.engine.answer("broker", first)
    again = world.query(token, request_id=respell(first.request_id))
    with pytest.raises(PermissionDenied, match="replayed request"):
        world.engine.answer("broker", again)
    # also when the check before the answer is passed by a race: the record refuses it
    with pytest.raises(ReplayError):
        world.engine.state.record(
            respell(first.request_id), _grant_id(token), 10, dt.datetime.now(dt.UTC)
        )
    assert world.engine.state.used(_grant_id(token)) == 1


def test_quota_is_counted_per_grant_and_refused_when_used_up(world):
    claims = world.claims(quota=2)
    token = world.token(claims)
    world.engine.answer("broker", world.query(token))
    world.engine.answer("broker", world.query(token))
    # the node answers PERMISSION_DENIED (the grant does not allow it), not RESOURCE_EXHAUSTED
    assert_refused(world, world.query(token), PermissionDenied, "quota of 2")
    assert world.engine.state.used(claims.grant_id) == 2
    # another grant has its own count
    world.engine.answer("broker", world.query(world.token(world.claims(quota=1))))


def test_replay_and_quota_survive_a_restart(world):
    claims = world.claims(quota=1)
    token = world.token(claims)
    first = world.query(token)
    world.engine.answer("broker", first)
    world.engine.state.close()
    world.engine = world.open_engine()
    with pytest.raises(PermissionDenied, match="replayed request"):
        world.engine.answer("broker", world.query(token, request_id=first.request_id))
    assert_refused(world, world.query(token), PermissionDenied, "quota")


def test_concurrent_requests_cannot_overspend_the_quota(world):
    claims = world.claims(quota=3)
    token = world.token(claims)
    queries = [world.query(token) for _ in range(12)]
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(q):
        try:
            world.engine.answer("broker", q)
            result = "ok"
        except PermissionDenied:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(q,)) for q in queries]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert outcomes.count("ok") == 3 and outcomes.count("refused") == 9
    assert world.engine.state.used(claims.grant_id) == 3


def test_concurrent_replays_of_one_request_answer_once(world):
    token = world.token()
    query = world.query(token)
    outcomes: list[str] = []

    def run():
        try:
            world.engine.answer("broker", query)
            outcomes.append("ok")
        except PermissionDenied:
            outcomes.append("refused")

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["ok"] + ["refused"] * 7


# ---------------------------------------------------------------- order: no data before the grant


def test_caller_is_checked_before_the_token(world):
    forged = world.token(key=SigningKey.generate())
    assert_refused(world, world.query(forged), PermissionDenied, "broker", caller="hrb.rsj")


def test_token_is_checked_before_scope_purpose_and_replay(world):
    forged = world.token(key=SigningKey.generate())
    query = world.query(forged, fields=("photo",), purpose="x", request_id="bad")
    assert_refused(world, query, PermissionDenied, "signature")


def test_grant_is_checked_before_the_sealed_query_is_opened(world):
    token = world.token(world.claims(fields=("gender",)))
    query = dataclasses.replace(world.query(token, fields=("name",)), sealed_query=b"junk")
    assert_refused(world, query, PermissionDenied, "outside the grant")


# ---------------------------------------------------------------- the sealed query


def test_sealed_query_for_another_node_does_not_open(world):
    query = world.query(world.token(), seal_to=EncryptionKeyPair.generate().public_key)
    assert_refused(world, query, InvalidArgument, "sealed_query", "does not open")


def test_sealed_query_moved_to_another_request_does_not_open(world):
    query = world.query(world.token(), aad_request_id=uuid.uuid4().hex)
    assert_refused(world, query, InvalidArgument, "sealed_query")


@pytest.mark.parametrize("sealed", [b"", b"\x01", b"\x09" + bytes(100)])
def test_truncated_or_garbage_sealed_query(world, sealed):
    query = dataclasses.replace(world.query(world.token()), sealed_query=sealed)
    assert_refused(world, query, InvalidArgument, "sealed_query")


FETCH_BODIES = [
    pytest.param(None, b"not json", "JSON", id="not-json"),
    pytest.param(None, b"\xff\xfe\xfd", "JSON", id="not-utf8"),
    pytest.param(None, b"[" * 50_000 + b"]" * 50_000, "sealed_query", id="deeply-nested"),
    pytest.param([PEOPLE[0][0]], None, "keys", id="list-not-object"),
    pytest.param({"keys": PEOPLE[0][0]}, None, "keys", id="keys-not-a-list"),
    pytest.param({"keys": [PEOPLE[0][0]], "more": 1}, None, "keys", id="unknown-member"),
    pytest.param({"keys": []}, None, "1 to 1000", id="no-keys"),
    pytest.param({"keys": ["k"] * 1001}, None, "1 to 1000", id="too-many-keys"),
    pytest.param({"keys": [123]}, None, "strings", id="key-not-a-string"),
    pytest.param({"keys": [None]}, None, "strings", id="key-null"),
    pytest.param({"keys": ["  "]}, None, "non-empty", id="blank-key"),
    pytest.param({"keys": ["1" * 257]}, None, "256", id="key-too-long"),
]


@pytest.mark.parametrize(("body", "raw", "needle"), FETCH_BODIES)
def test_fetch_body_is_validated_strictly(world, body, raw, needle):
    query = world.query(world.token(), body, raw_body=raw)
    exc = assert_refused(world, query, InvalidArgument, needle)
    assert exc.field is not None and exc.field.startswith("sealed_query")


VERIFY_BODIES = [
    pytest.param({"key": PEOPLE[0][0]}, "claims", id="no-claims"),
    pytest.param({"key": PEOPLE[0][0], "claims": {}}, "at least one", id="empty-claims"),
    pytest.param({"key": PEOPLE[0][0], "claims": ["name"]}, "claims", id="claims-not-object"),
    pytest.param(
        {"key": PEOPLE[0][0], "claims": {"household_address": "x"}},
        "household_address",
        id="claim-outside-the-fields",
    ),
    pytest.param({"key": PEOPLE[0][0], "claims": {"name": 5}}, "string", id="claim-not-string"),
    pytest.param(
        {"key": PEOPLE[0][0], "claims": {"name": "张" * 1025}}, "1024", id="claim-too-long"
    ),
    pytest.param({"key": 7, "claims": {"name": "张三"}}, "key", id="key-not-string"),
    pytest.param({"key": "1" * 257, "claims": {"name": "张三"}}, "256", id="key-too-long"),
]


@pytest.mark.parametrize(("body", "needle"), VERIFY_BODIES)
def test_verify_body_is_validated_strictly(world, body, needle):
    token = world.token()
    query = world.query(token, body, method="verify", fields=("name", "gender"))
    exc = assert_refused(world, query, InvalidArgument, needle)
    assert exc.field is not None and exc.field.startswith("sealed_query")


def test_refusals_never_quote_keys_or_claimed_values(world):
    secret_key = "9" * 300
    query = world.query(world.token(), {"keys": [secret_key]})
    assert secret_key[:50] not in refusal(world, query).status_message()
    query = world.query(
        world.token(),
        {"key": PEOPLE[0][0], "claims": {"name": "李" * 2000}},
        method="verify",
        fields=("name",),
    )
    text = refusal(world, query).status_message()
    assert "李李" not in text and PEOPLE[0][0] not in text


def _grant_id(token: str) -> str:
    from tongdao.crypto.grant_token import read_grant_token_unverified

    return read_grant_token_unverified(token).grant_id
