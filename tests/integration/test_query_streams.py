"""Streamed queries (Broker.QueryStream → Node.QueryStream) over real gRPC with mutual TLS:
the broker's ledger entry per stream, refusals on the stream, replay, a consumer that leaves."""

from __future__ import annotations

import json
import time
import uuid

import grpc
import pytest
from sqlalchemy import create_engine, text

from tests.integration.stack import BASIS, PURPOSE, SCENARIO, start_stack
from tongdao.node.client import ClientError
from tongdao.proto.methods import METHOD_VALUES
from tongdao.proto.query import new_request_id
from tongdao.v1 import query_pb2


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("streams"), records=150, cities=False)
    yield s
    s.stop()


def grant(stack, entry, fields, methods, provider=None):
    with stack.consumer() as client:
        req = client.file_share_request(entry, fields, methods, PURPOSE, SCENARIO, BASIS)
        if req.status == "pending_provider_review":
            with stack.consumer(provider) as p:
                req = p.decide_share_request(req.id, True, "ok")
        return client.get_grant(req.grant_id).token


def ledger(stack, kind=None):
    engine = create_engine(stack.database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("select kind, payload_json from ledger_entries order by sequence")
        ).all()
    engine.dispose()
    return [(k, json.loads(p)) for k, p in rows if kind is None or k == kind]


def test_a_stream_is_one_ledger_entry_without_its_sizes(stack):
    token = grant(stack, "gat.population", ["id_number"], ["intersection_size"])
    ids = [p["id_number"] for p in stack.people]
    before = len(ledger(stack))
    with stack.consumer() as client:
        result = client.intersection(token, [*ids[:40], "x"], "id_number", PURPOSE)
    assert result["size"] == 40 and result["provider_rows"] == len(stack.people)
    new = ledger(stack)[before:]
    assert [k for k, _ in new] == ["query.relayed"]
    payload = new[0][1]
    assert payload["stream"] is True and payload["receipt_verified"] is True
    assert payload["method"] == "intersection_size"
    # chunk counts and bytes would give both set sizes: the ledger holds none
    assert not {"chunks_to_provider", "chunks_to_consumer", "sealed_query_bytes"} & set(payload)
    assert "sealed_result_bytes" not in payload and payload["record_count"] == 0


def test_unary_query_for_a_streamed_method_is_refused_naming_the_field(stack):
    token = grant(stack, "gat.population", ["id_number"], ["intersection_size"])
    request = query_pb2.QueryRequest(
        grant_token=token,
        request_id=str(uuid.uuid4()),
        method=METHOD_VALUES["intersection_size"],
        purpose=PURPOSE,
        fields=["id_number"],
        sealed_query=b"x",
    )
    with pytest.raises(grpc.RpcError) as err:
        stack.stub("hrb.rsj").query.Query(request, timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "method" in err.value.details() and "QueryStream" in err.value.details()


def test_a_stream_must_open_first(stack):
    def requests():
        yield query_pb2.QueryStreamRequest(chunk=b"not an opening")

    with pytest.raises(grpc.RpcError) as err:
        list(stack.stub("hrb.rsj").query.QueryStream(requests(), timeout=10))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "open" in err.value.details()


def test_a_replayed_stream_is_refused_by_the_node(stack, monkeypatch):
    token = grant(stack, "gat.population", ["id_number"], ["intersection_size"])
    fixed = new_request_id()
    monkeypatch.setattr("tongdao.node.client_stream.new_request_id", lambda: fixed)
    with stack.consumer() as client:
        with pytest.raises(ClientError, match="minimum group size"):  # the first use is spent
            client.intersection(token, ["1", "2"], "id_number", PURPOSE)
        with pytest.raises(ClientError) as err:
            client.intersection(token, ["1", "2"], "id_number", PURPOSE)
    assert err.value.code == "PERMISSION_DENIED" and "replayed" in err.value.message


def test_a_refusal_on_the_stream_is_recorded_once_with_its_status(stack):
    token = grant(stack, "sw.income", ["annual_income"], ["intersection_sum"], "hlj.sw")
    ids = [r["id_number"] for r in stack.incomes[:2]]
    before = len(ledger(stack))
    with stack.consumer() as client, pytest.raises(ClientError) as err:
        client.intersection_sum(token, ids, "annual_income", PURPOSE)
    assert err.value.code == "PERMISSION_DENIED" and "Art.38" in err.value.message
    new = ledger(stack)[before:]
    assert [k for k, _ in new] == ["query.failed"]
    assert new[0][1]["status"] == "PERMISSION_DENIED" and new[0][1]["stream"] is True


def test_a_grant_without_the_method_is_refused_before_the_node(stack):
    token = grant(stack, "gat.population", ["id_number"], ["intersection_size"])
    with stack.consumer() as client, pytest.raises(ClientError) as err:
        client.intersection_sum(token, ["1"], "id_number", PURPOSE)
    assert err.value.code == "PERMISSION_DENIED" and "method" in err.value.message


def test_a_stream_refused_in_chinese_keeps_the_english_for_programs(stack, monkeypatch):
    monkeypatch.setenv("TONGDAO_LOCALE", "zh-CN")
    token = grant(stack, "gat.population", ["id_number"], ["intersection_size"])
    with stack.consumer() as client, pytest.raises(ClientError) as err:
        client.intersection_sum(token, ["1"], "id_number", PURPOSE)
    assert err.value.code == "PERMISSION_DENIED"
    assert "不在授权范围内" in err.value.message  # the reader's language
    english = err.value.english
    assert "intersection_sum" in english and english.isascii() and "grant" in english


def test_a_consumer_that_leaves_mid_stream_is_recorded_as_cancelled(stack):
    token = grant(stack, "gat.population", ["id_number"], ["intersection_size"])
    with stack.consumer() as client:
        stream = client._stream(token, "intersection_size", ["id_number"], PURPOSE, {"points": 5})

        def upstream():
            yield b"P" + b"\x09" * 32, False  # one point, then silence
            time.sleep(30)

        stream.run(upstream())
        assert stream.next_frame()[0] == b"H"  # the node answered the opening
        stream._call.cancel()
    for _ in range(50):  # the broker notices the cancellation asynchronously
        failed = [p for k, p in ledger(stack, "query.failed") if p.get("stream")]
        if any(p["status"] == "CANCELLED" for p in failed):
            break
        time.sleep(0.1)
    assert any(p["status"] == "CANCELLED" for p in failed)


def test_a_hundred_thousand_consumer_keys_stream_in_bounded_frames(stack):
    """10⁵ keys (the issue's largest test size): many frames each way, exact answer."""
    token = grant(stack, "gat.population", ["id_number"], ["intersection"])
    ids = [p["id_number"] for p in stack.people]
    mine = [f"9{i:017d}" for i in range(100_000 - 30)] + ids[:30]
    stages = set()
    before = len(ledger(stack))
    with stack.consumer() as client:
        result = client.intersection(
            token, mine, "id_number", PURPOSE, progress=lambda s, d, t: stages.add(s)
        )
    assert result["size"] == 30 and sorted(result["members"]) == sorted(ids[:30])
    assert stages == {"blinding", "matching"}
    # a ledger round may record misuse findings meanwhile (an earlier test asked for a method
    # outside its grant); the stream itself is one entry
    ((kind, payload),) = [e for e in ledger(stack)[before:] if e[0].startswith("query.")]
    assert kind == "query.relayed" and payload["receipt_verified"] is True


def test_a_node_that_is_down_is_one_failed_entry_and_no_use(tmp_path):
    s = start_stack(tmp_path, records=20)
    try:
        token = grant(s, "gat.population", ["id_number"], ["intersection_size"])
        s.nodes["hlj.gat"].stop(0)
        before = len(ledger(s))
        with s.consumer() as client, pytest.raises(ClientError) as err:
            client.intersection(token, ["1", "2"], "id_number", PURPOSE)
        assert err.value.code == "UNAVAILABLE" and "nothing was served" in err.value.message
        ((kind, payload),) = ledger(s)[before:]
        assert kind == "query.failed" and payload["status"] == "UNAVAILABLE"
        assert payload["stream"] is True
        engine = create_engine(s.database_url)
        with engine.connect() as conn:
            used = conn.execute(text("select max(used) from grants")).scalar_one()
        engine.dispose()
        assert used == 0
    finally:
        s.stop()
