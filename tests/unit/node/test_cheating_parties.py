"""Each row of the threat model in docs/privacy.md, played by the cheating party against a node.

The broker (a relay holding a stored grant token and the node's public key), a consumer that steps
``max_rows`` or repeats a query to count a group, and a consumer that names a sensitive data item
as the summed value: each attack runs here and must learn nothing the docs do not state.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from fractions import Fraction
from pathlib import Path

import pytest

from tests.unit.node.world import NOW, PURPOSE, World
from tongdao.crypto import dp
from tongdao.crypto.envelope import (
    EncryptionKeyPair,
    open_authenticated,
    open_sealed,
    seal,
    seal_authenticated,
)
from tongdao.crypto.errors import EnvelopeError
from tongdao.crypto.paillier import generate_paillier_keypair
from tongdao.crypto.psi import PsiBlinder
from tongdao.crypto.query_binding import QUERY, RESULT, query_associated_data
from tongdao.crypto.stream import DOWNSTREAM, UPSTREAM, ChunkOpener, ChunkSealer
from tongdao.node import engines, streams
from tongdao.node.adapters import CsvSource
from tongdao.node.engine import PAD_BUCKET, NodeEngine, ServedEntry
from tongdao.node.state import NodeState
from tongdao.policies import load_policy
from tongdao.proto.errors import InvalidArgument, PermissionDenied
from tongdao.proto.query import Receipt, RelayedQuery

ENTRY = "mzj.allowance"
POLICY = load_policy()
# district A has 12 households, B has 3 (below the minimum group of 10), C has 9
ROWS = [
    (f"2301021990{i:08d}", "A" if i < 12 else "B" if i < 15 else "C", 100 + i) for i in range(24)
]
GRADES = {
    "id_number": "sensitive_personal",
    "district": "general",
    "allowance": "personal",
    "disability_level": "sensitive_personal",
}
PK, SK = generate_paillier_keypair(2048)


@pytest.fixture
def world(tmp_path: Path) -> World:
    w = World(tmp_path)
    csv = tmp_path / "allowance.csv"
    lines = ["id_number,district,allowance,disability_level"]
    lines += [f"{k},{d},{v},{i % 4}" for i, (k, d, v) in enumerate(ROWS)]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    w.engine = NodeEngine(
        department=w.engine.department,
        broker_key=w.broker_key.verify_key,
        signing_key=w.node_signing,
        encryption_keys=w.node_keys,
        entries={ENTRY: ServedEntry(ENTRY, CsvSource(csv, "id_number"), "id_number", GRADES)},
        state=NodeState(tmp_path / "node-state"),
        masker=lambda grade, value, name: value,
        grade_methods={g: r.allowed_methods for g, r in POLICY.grades.items()},
        grade_roles={g: r.roles for g, r in POLICY.grades.items()},
        grade_articles={g: r.article for g, r in POLICY.grades.items()},
        min_group_size=POLICY.min_group_size.value,
        clock=lambda: NOW,
    )
    return w


def grant(world: World, methods=("aggregate",), **changes):
    claims = world.claims(
        entry_code=ENTRY,
        fields=("id_number", "district", "allowance", "disability_level"),
        methods=methods,
        quota=changes.pop("quota", 20),
        grades=GRADES,
        **changes,
    )
    return claims, world.token(claims)


def aggregate_body(value_field="allowance", district=None, max_rows=10**6, public_key=PK):
    return {
        "paillier_public_key": __import__("base64").b64encode(public_key.to_bytes()).decode(),
        "value_field": value_field,
        "filter": {"field": "district", "op": "eq", "value": district} if district else None,
        "bounds": [0, 100_000],
        "buckets": [],
        "nodes": 1,
        "max_rows": max_rows,
    }


def aggregate(world, token, body, *, sender=None, authenticated=True):
    fields = (body["value_field"], "district")
    query = world.query(
        token,
        body,
        method="aggregate",
        fields=fields,
        sender=sender,
        authenticated=authenticated,
    )
    return world.engine.answer("broker", query)


def decrypt(answer, body) -> list[int]:
    q = engines.parse_aggregate_query(body, (body["value_field"], "district"))
    scheme = engines.aggregate_scheme(q)
    return scheme.decrypt(SK, [PK.ciphertext(c) for c in answer.ciphertexts], 4, summed=1)


def used(world, claims) -> int:
    return world.engine.state.used(claims.grant_id)


# ---------------------------------------------------------------- the broker as the attacker


def test_broker_with_a_stored_token_cannot_run_a_fetch(world):
    claims, token = grant(world, methods=("fetch",))
    for kwargs in ({"authenticated": False}, {"sender": EncryptionKeyPair.generate()}):
        query = world.query(token, {"keys": [ROWS[0][0]]}, fields=("district",), **kwargs)
        with pytest.raises(InvalidArgument) as err:
            world.engine.answer("broker", query)
        assert err.value.field == "sealed_query" and "grant's consumer" in str(err.value)
    assert used(world, claims) == 0  # nothing was spent either


def test_broker_with_a_stored_token_cannot_run_an_aggregate_under_its_own_paillier_key(world):
    claims, token = grant(world)
    broker_pk, _ = generate_paillier_keypair(2048)
    with pytest.raises(InvalidArgument):
        aggregate(world, token, aggregate_body(public_key=broker_pk), authenticated=False)
    assert used(world, claims) == 0


def open_stream(world, claims, token, keys, *, sender=None, authenticated=True):
    """Open a PSI stream as a consumer (or as a relay making its own opening)."""
    request_id = uuid.uuid4().hex
    context = query_associated_data(claims.grant_id, request_id, "intersection", QUERY)
    secret = bytes(range(32))
    body = json.dumps({"stream_secret": secret.hex(), "points": len(keys)}).encode()
    if authenticated:
        key = (sender or world.consumer_keys).private_key
        sealed = seal_authenticated(key, world.node_keys.public_key, body, context)
    else:
        sealed = seal(world.node_keys.public_key, body, context)
    query = RelayedQuery(
        token, request_id, "intersection", PURPOSE, ("id_number",), sealed, world.ticket(token)
    )
    upstream = ChunkSealer(secret, context, UPSTREAM)
    blinder = PsiBlinder()
    points = b"".join(blinder.blind_many([engines.psi_key(k) for k in keys]))
    frames = [streams.frame(streams.POINTS, points), streams.frame(streams.POINTS_END)]
    incoming = iter([upstream.seal(frames[0]), upstream.seal(frames[1], final=True)])
    return query, context, secret, world.engine.answer_stream("broker", query, incoming)


def test_broker_running_psi_on_ids_of_its_choosing_is_refused(world):
    claims, token = grant(world, methods=("intersection",))
    for kwargs in ({"authenticated": False}, {"sender": EncryptionKeyPair.generate()}):
        _, _, _, out = open_stream(world, claims, token, [ROWS[0][0], "x"], **kwargs)
        with pytest.raises(InvalidArgument) as err:
            next(out)
        assert err.value.field == "sealed_query"
    assert used(world, claims) == 0


def test_broker_relaying_a_genuine_stream_reads_nothing_of_the_answer(world):
    """Even holding the consumer's own upstream secret, the result direction does not open: its
    key is the node's secret, sealed to the grant's consumer key."""
    claims, token = grant(world, methods=("intersection",))
    query, context, secret, out = open_stream(world, claims, token, [ROWS[0][0], "nobody"])
    items = list(out)
    chunks = [c for c in items if isinstance(c, bytes)]
    assert isinstance(items[-1], Receipt)
    result_ad = query_associated_data(claims.grant_id, query.request_id, "intersection", RESULT)
    broker_keys = EncryptionKeyPair.generate()
    with pytest.raises(EnvelopeError):
        open_sealed(broker_keys.private_key, chunks[0], result_ad)
    with pytest.raises(EnvelopeError):
        ChunkOpener(secret, context, DOWNSTREAM).open(chunks[1])
    # the consumer opens it: the node's key authenticates the result secret
    result_secret = open_authenticated(
        world.consumer_keys.private_key, world.node_keys.public_key, chunks[0], result_ad
    )
    opener = ChunkOpener(result_secret, context, DOWNSTREAM)
    frames = [opener.open(c) for c in chunks[1:]]
    assert opener.finished and frames[0][:1] == streams.HEADER
    assert items[-1].record_count == 0  # no set size in the receipt, neither side's


# ---------------------------------------------------------------- what the broker sees


def test_fetch_receipt_and_sizes_do_not_say_whether_a_key_exists(world):
    _claims, token = grant(world, methods=("fetch", "verify"))
    answers = []
    for key in (ROWS[0][0], "230102000000000000"):
        query = world.query(token, {"keys": [key]}, fields=("district",))
        answers.append(world.engine.answer("broker", query))
    (hit, miss) = answers
    assert hit.receipt.record_count == miss.receipt.record_count == 1
    assert len(hit.sealed_result) == len(miss.sealed_result) >= PAD_BUCKET
    verdicts = []
    for key in (ROWS[0][0], "230102000000000000"):
        body = {"key": key, "claims": {"district": "A"}}
        query = world.query(token, body, method="verify", fields=("district",))
        verdicts.append(world.engine.answer("broker", query))
    assert len(verdicts[0].sealed_result) == len(verdicts[1].sealed_result)
    assert verdicts[0].receipt.record_count == verdicts[1].receipt.record_count == 1


def test_aggregate_answer_carries_no_count_or_suppressed_flag_outside_the_ciphertexts(world):
    _claims, token = grant(world)
    big = aggregate(world, token, aggregate_body(district="A"))
    small = aggregate(world, token, aggregate_body(district="B"))
    for answer in (big, small):
        assert answer.receipt.record_count == 0 and answer.suppressed is False
        assert len(answer.ciphertexts) == len(big.ciphertexts)
    assert decrypt(big, aggregate_body())[0] == 12
    assert decrypt(small, aggregate_body())[-1] == 1  # suppressed: only the consumer knows


# ---------------------------------------------------------------- the consumer counting a group


def test_stepping_max_rows_is_clamped_and_every_step_is_charged(world):
    """The old attack: raise max_rows until the refusal stops, for one quota unit and no budget.
    Now every step is an answer over at most max_rows rows and costs one use."""
    claims, token = grant(world, quota=6)
    seen = []
    for max_rows in (1, 2, 3, 4, 5, 13):
        answer = aggregate(world, token, aggregate_body(district="A", max_rows=max_rows))
        count, *_, suppressed = decrypt(answer, aggregate_body(max_rows=max_rows))
        seen.append((count, suppressed))
    assert seen == [(0, 1)] * 5 + [(12, 0)]  # below the minimum group: zeros, suppressed
    assert used(world, claims) == 6
    with pytest.raises(PermissionDenied, match="quota"):
        aggregate(world, token, aggregate_body(district="A", max_rows=20))


def test_small_group_is_suppressed_not_refused_and_no_message_carries_a_count(world):
    claims, token = grant(world)
    answer = aggregate(world, token, aggregate_body(district="B"))  # 3 households
    count, s1, s2, suppressed = decrypt(answer, aggregate_body())
    assert (count, s1, s2, suppressed) == (0, 0, 0, 1)
    assert used(world, claims) == 1


def drbg(seed: bytes):
    counter = 0

    def rng(n: int) -> bytes:
        nonlocal counter
        counter += 1
        return hashlib.shake_256(seed + counter.to_bytes(8, "big")).digest(n)

    return rng


def test_under_dp_suppression_follows_the_noisy_count_and_the_budget_is_charged_first(
    world, monkeypatch
):
    rng = drbg(b"suppression")
    monkeypatch.setattr(
        engines, "discrete_laplace", lambda scale: dp.discrete_laplace(scale, rng=rng)
    )
    claims, token = grant(world, dp_epsilon_milli=2000, dp_budget_milli=40_000)
    outcomes = set()
    for _ in range(20):  # district C: 9 households, one below the minimum group size
        count, *_, suppressed = decrypt(
            aggregate(world, token, aggregate_body(district="C")), aggregate_body()
        )
        outcomes.add(suppressed)
        assert suppressed == (count == 0)
    assert outcomes == {0, 1}  # decided on the noisy count, which crosses 10 either way
    assert used(world, claims) == 20


def test_spent_budget_is_a_typed_refusal_before_any_row_is_read(world, monkeypatch):
    _claims, token = grant(world, dp_epsilon_milli=1000, dp_budget_milli=1000)
    aggregate(world, token, aggregate_body(district="A"))

    def no_rows(*args, **kwargs):
        raise AssertionError("the rows were read")

    monkeypatch.setattr(engines, "aggregate_statistics", no_rows)
    with pytest.raises(PermissionDenied) as err:
        aggregate(world, token, aggregate_body(district="A"))
    assert "budget" in str(err.value) and not any(ch.isdigit() for ch in str(err.value))


def test_noise_scales_are_exact_fractions(world, monkeypatch):
    scales = []
    monkeypatch.setattr(engines, "discrete_laplace", lambda scale: scales.append(scale) or 0)
    _claims, token = grant(world, dp_epsilon_milli=1500, dp_budget_milli=1500)
    aggregate(world, token, aggregate_body(district="A"))
    span = 100_000
    assert scales == [
        Fraction(4 * 1000, 1500),
        Fraction(span * 4 * 1000, 1500),
        Fraction(span * span * 4 * 1000, 1500),
    ]


# ---------------------------------------------------------------- grade rules per role


def test_sensitive_item_is_never_the_summed_value_of_an_aggregate(world):
    claims, token = grant(world)
    with pytest.raises(PermissionDenied) as err:
        aggregate(world, token, aggregate_body(value_field="disability_level"))
    assert err.value.articles == ("Art.14",)
    assert used(world, claims) == 0


def test_policy_grades_state_their_roles():
    """The rule file says what each grade may do; sensitive personal data is never summed or
    returned, only matched on (a PSI or lookup key) or tested (a filter or verify claim)."""
    assert POLICY.grade("sensitive_personal").roles == {"key", "filter"}
    assert POLICY.grade("personal").roles == {"key", "filter", "summed", "returned"}


def test_paillier_key_below_2048_bits_is_refused(world):
    claims, token = grant(world)
    small, _ = generate_paillier_keypair(1024)
    with pytest.raises(InvalidArgument) as err:
        aggregate(world, token, aggregate_body(public_key=small))
    assert err.value.field == "sealed_query.paillier_public_key" and "2048" in str(err.value)
    assert used(world, claims) == 0


def test_sensitive_item_as_the_summed_value_of_an_intersection_sum_is_refused(world):
    claims, token = grant(world, methods=("intersection_sum",))
    request_id = uuid.uuid4().hex
    context = query_associated_data(claims.grant_id, request_id, "intersection_sum", QUERY)
    body = {"stream_secret": bytes(32).hex(), "points": 1, "value_field": "disability_level"}
    sealed = seal_authenticated(
        world.consumer_keys.private_key,
        world.node_keys.public_key,
        json.dumps(body).encode(),
        context,
    )
    query = RelayedQuery(
        token,
        request_id,
        "intersection_sum",
        PURPOSE,
        ("disability_level",),
        sealed,
        world.ticket(token),
    )
    with pytest.raises(PermissionDenied) as err:
        next(world.engine.answer_stream("broker", query, iter(())))
    assert err.value.field == "sealed_query.value_field" and err.value.articles == ("Art.14",)
    assert "summed" in str(err.value)
    assert used(world, claims) == 0
