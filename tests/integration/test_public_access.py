"""Public requesters (OPN-4, Art.43) over real gRPC: one found misusing open data is suspended
until corrected — its open-data requests are refused and recorded — then reinstated."""

from __future__ import annotations

import json

import grpc
import pytest
from sqlalchemy import create_engine, text

from tests.integration.stack import start_stack
from tongdao.home import AUTHORITY
from tongdao.v1 import sharing_pb2


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("public"), records=5)
    yield s
    s.stop()


def open_data(stack, requester: str):
    request = sharing_pb2.ServiceRequest(
        kind="open_data",
        provider="hlj.gat",
        subject="gat.population",
        requester=requester,
        description="用于人口统计研究",
    )
    return stack.stub("hrb.rsj").sharing.FileServiceRequest(
        sharing_pb2.FileServiceRequestRequest(request=request), timeout=10
    )


def change(stack, who, requester, what, reason):
    return stack.stub(who).sharing.ChangePublicAccess(
        sharing_pb2.ChangePublicAccessRequest(requester=requester, change=what, reason=reason),
        timeout=10,
    )


def ledger(stack, like: str) -> list[dict]:
    engine = create_engine(stack.database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("select payload_json from ledger_entries where kind like :k order by sequence"),
            {"k": like},
        ).all()
    engine.dispose()
    return [json.loads(p) for (p,) in rows]


def test_a_suspended_requester_is_refused_until_reinstated(stack):
    assert open_data(stack, "某数据公司").id  # filed (and routed by the entry's open type)
    with pytest.raises(grpc.RpcError) as err:
        change(stack, "hrb.rsj", "某数据公司", "suspend", "转售开放数据")
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED  # only the authority
    row = change(stack, AUTHORITY, "某数据公司", "suspend", "转售开放数据")
    assert row.status == "suspended" and row.article == "Art.43" and row.ground == "public_misuse"
    # a respelling (spaces, an ideographic space) names the same requester
    for spelling in ("某数据公司", " 某数据公司 ", "某数据公司\u3000"):
        with pytest.raises(grpc.RpcError) as err:
            open_data(stack, spelling)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "requester" in err.value.details() and "Art.43" in err.value.details()
    assert open_data(stack, "另一研究机构").id  # others are unaffected
    assert any(p.get("field") == "requester" for p in ledger(stack, "refusal%"))
    back = change(stack, AUTHORITY, "某数据公司", "reinstate", "已删除转售数据并书面承诺")
    assert back.status == "reinstated" and back.correction == "已删除转售数据并书面承诺"
    assert open_data(stack, "某数据公司").id
    [suspended] = ledger(stack, "public_access.suspended")
    [reinstated] = ledger(stack, "public_access.reinstated")
    assert suspended["articles"] == ["Art.43"] and reinstated["correction"]
    listed = stack.stub(AUTHORITY).sharing.ListPublicAccess(
        sharing_pb2.ListPublicAccessRequest(), timeout=10
    )
    assert [(r.requester, r.status) for r in listed.requesters] == [("某数据公司", "reinstated")]
