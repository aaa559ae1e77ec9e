"""Differencing found over real gRPC (Art.27): two aggregates whose filters overlap so that their
difference isolates one filter value are a finding naming the grant and both ledger entries; the
broker sees only pseudonyms, and a node refuses a declared shape that is not the sealed filter."""

from __future__ import annotations

import json

import pytest

from tests.integration.stack import BASIS, PURPOSE, SCENARIO, start_stack
from tongdao.demo import CITY_MZJ, city_entry
from tongdao.home import AUTHORITY
from tongdao.node.client import ClientError
from tongdao.policies.loader import load_policy
from tongdao.proto.transport import LOCALE_METADATA
from tongdao.v1 import ledger_pb2, supervision_pb2

POLICY = load_policy()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("differencing"), records=10, cities=True)
    yield s
    s.stop()


def grant(stack, entry: str) -> str:
    with stack.consumer() as client:
        req = client.file_share_request(
            entry, ["monthly_allowance", "members"], ["aggregate"], PURPOSE, SCENARIO, BASIS
        )
        assert req.status == "approved"
        return client.get_grant(req.grant_id)


def aggregate(stack, token: str, op: str, value) -> None:
    with stack.consumer() as client:
        client.aggregate(
            [token],
            "monthly_allowance",
            PURPOSE,
            bounds=(0, 3000),
            filter_field="members",
            filter_op=op,
            filter_value=value,
        )


def findings(stack, kind: str, grant_id: str = "", locale: str = "en") -> list:
    reply = stack.stub(AUTHORITY).supervision.ListFindings(
        supervision_pb2.ListFindingsRequest(detect=True, kind=kind, grant_id=grant_id),
        timeout=30,
        metadata=((LOCALE_METADATA, locale),),
    )
    return list(reply.findings)


def relayed(stack) -> list[tuple[int, dict]]:
    page = stack.stub(AUTHORITY).ledger.GetLedger(
        ledger_pb2.GetLedgerRequest(from_sequence=1, limit=10_000), timeout=30
    )
    return [
        (e.sequence, json.loads(e.payload_json))
        for e in page.entries
        if e.kind == "query.relayed" and json.loads(e.payload_json).get("method") == "aggregate"
    ]


def test_overlapping_aggregates_differing_by_one_value_are_a_finding(stack):
    g = grant(stack, city_entry(CITY_MZJ[0])["code"])
    aggregate(stack, g.token, "in", ["1", "2", "3"])
    aggregate(stack, g.token, "in", ["1", "2"])  # the difference: households of 3 members
    (first, a), (second, b) = relayed(stack)[-2:]
    # the broker saw the shape, never the values
    assert a["filter_shape"]["field"] == b["filter_shape"]["field"] == "members"
    assert a["filter_shape"]["op"] == b["filter_shape"]["op"] == "in"
    assert not {"1", "2", "3"} & set(a["filter_shape"]["values"])
    [found] = findings(stack, "differencing", g.id)
    assert found.article == POLICY.thresholds["differencing_max_values"].article
    assert list(found.evidence) == [first, second]
    assert "1 value" in found.detail and found.consumer == "hrb.rsj"
    # the same finding in the reader's language (its English stays in the ledger entry)
    (chinese,) = [f for f in findings(stack, "differencing", locale="zh-CN") if f.id == found.id]
    assert "仅相差 1 个值" in chinese.detail and "'members'" in chinese.detail
    assert findings(stack, "differencing", g.id) == [found]  # recorded once


def test_aggregates_far_apart_in_values_or_disjoint_are_not(stack):
    limit = POLICY.thresholds["differencing_max_values"].value
    g = grant(stack, city_entry(CITY_MZJ[1])["code"])
    wide = [str(n) for n in range(1, limit + 3)]
    aggregate(stack, g.token, "in", wide)
    aggregate(stack, g.token, "eq", wide[0])  # differs by limit + 1 values
    aggregate(stack, g.token, "in", ["7", "8"])  # disjoint from the first
    aggregate(stack, g.token, "in", wide)  # the same set again: no difference
    assert findings(stack, "differencing", g.id) == []


def test_a_shape_that_is_not_the_sealed_filter_is_refused_by_the_node(stack, monkeypatch):
    g = grant(stack, city_entry(CITY_MZJ[2])["code"])
    from tongdao.node import client_privacy

    real = client_privacy.filter_shape
    # a consumer declaring another value's pseudonym to hide the narrow difference
    monkeypatch.setattr(client_privacy, "filter_shape", lambda k, f, op, v: real(k, f, op, ["9"]))
    with pytest.raises(ClientError) as err:
        aggregate(stack, g.token, "in", ["1", "2"])
    assert err.value.code == "INVALID_ARGUMENT" and "filter_shape" in err.value.message
