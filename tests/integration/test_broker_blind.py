"""What the broker records of a query depends on who asked what, never on the provider's data:
a fetch that finds a record and one that does not, an aggregate over a large and over a
suppressed group, and a stream, each leave ledger entries with no data-dependent number."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text

from tests.integration.stack import BASIS, PURPOSE, SCENARIO, start_stack
from tongdao.demo import CITY_MZJ, city_entry

PER_CALL = {
    "request_id",
    "result_sha256",
    "answered_at",
    "receipt_signature",
    "total_sha256",
    "sealed_query_sha256",
    "token_sha256",
    "filter_shape",  # the query's own filter, pseudonymised: chosen by the consumer, not the data
    "grant_id",
    "grants",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("blind"), records=40, cities=True)
    yield s
    s.stop()


def grant(stack, entry, fields, methods, provider=None):
    with stack.consumer() as client:
        req = client.file_share_request(entry, fields, methods, PURPOSE, SCENARIO, BASIS)
        if req.status == "pending_provider_review":
            with stack.consumer(provider) as p:
                req = p.decide_share_request(req.id, True, "ok")
        assert req.status == "approved", req.decision.reason
        return client.get_grant(req.grant_id).token


def ledger(stack):
    engine = create_engine(stack.database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("select kind, payload_json from ledger_entries order by sequence")
        ).all()
    engine.dispose()
    return [(k, json.loads(p)) for k, p in rows]


def _shape(payload: dict) -> dict:
    return {k: v for k, v in payload.items() if k not in PER_CALL}


def test_a_fetch_that_finds_nothing_leaves_the_same_ledger_entry_as_one_that_finds(stack):
    token = grant(stack, "gat.population", ["gender"], ["fetch"])
    known = stack.people[0]["id_number"]
    unknown = known[:-4] + ("0000" if not known.endswith("0000") else "1111")
    entries = []
    with stack.consumer() as client:
        for key in (known, unknown):
            before = len(ledger(stack))
            rows = client.fetch(token, [key], ["gender"], PURPOSE)
            entries.append(ledger(stack)[before:])
            assert rows[0]["found"] is (key == known)
    (hit,), (miss,) = entries
    assert hit[0] == miss[0] == "query.relayed"
    assert _shape(hit[1]) == _shape(miss[1])


def test_aggregate_entries_hold_no_count_and_no_suppression(stack):
    tokens = [
        grant(stack, city_entry(p)["code"], ["monthly_allowance", "members"], ["aggregate"])
        for p in CITY_MZJ[:3]
    ]
    shapes = []
    with stack.consumer() as client:
        for value in ("1", "4"):  # a common and a rare household size: some nodes suppressed
            before = len(ledger(stack))
            client.aggregate(
                tokens,
                "monthly_allowance",
                PURPOSE,
                bounds=(0, 3000),
                filter_field="members",
                filter_value=value,
            )
            new = ledger(stack)[before:]
            shapes.append(sorted(json.dumps(_shape(p), sort_keys=True) for _, p in new))
            for _, payload in new:
                assert not payload.get("suppressed")
                assert payload.get("record_count", 0) == 0
    assert shapes[0] == shapes[1]


def test_a_stream_entry_holds_no_set_size(stack):
    token = grant(stack, "gat.population", ["id_number"], ["intersection_size"])
    ids = [p["id_number"] for p in stack.people]
    payloads = []
    with stack.consumer() as client:
        for mine in (ids[:12], ids[:12] + [f"2301021990010{i:05d}" for i in range(3000)]):
            before = len(ledger(stack))
            client.intersection(token, mine, "id_number", PURPOSE)
            ((kind, payload),) = ledger(stack)[before:]
            assert kind == "query.relayed" and payload["stream"] is True
            payloads.append(payload)
    small, large = payloads
    assert set(small) == set(large)
    for name in set(small):
        if name not in PER_CALL:
            assert small[name] == large[name], name


def test_stream_chunks_the_broker_relays_have_bucketed_sizes(stack, monkeypatch):
    """Two consumer sets of different sizes (13 and 16 keys) and intersections (12 and 15) in
    one padding bucket: the broker relays chunks of the same sizes, and each answer is right."""
    from tongdao.crypto.stream import ChunkSealer
    from tongdao.node.stream_padding import policy_padding

    token = grant(stack, "gat.population", ["id_number"], ["intersection_size"])
    ids = [p["id_number"] for p in stack.people]
    original = ChunkSealer.seal
    sizes: list[list[int]] = []

    def spy(self, chunk, *, final=False):
        sealed = original(self, chunk, final=final)
        sizes[-1].append(len(sealed))
        return sealed

    monkeypatch.setattr(ChunkSealer, "seal", spy)
    bucket = policy_padding().bucket
    results = []
    with stack.consumer() as client:
        for real in (12, 15):
            sizes.append([])
            mine = [*ids[:real], "230102199001019999"]  # 13 and 16 keys
            results.append(client.intersection(token, mine, "id_number", PURPOSE)["size"])
    assert results == [12, 15]
    assert sorted(sizes[0]) == sorted(sizes[1])
    tag = 16  # AES-GCM
    points = {1 + bucket(13) * 32 + tag, 1 + bucket(len(ids)) * 32 + tag}
    assert points <= set(sizes[0])  # our points and the node's rows, each one padded frame
