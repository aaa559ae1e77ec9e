"""Disputes between a data user and a data provider (SHR-6, Art.25), with a controllable clock:
routing by region and level, the handler's and the coordination mechanism's clocks, every step
in the ledger; and the same over real gRPC with mutual TLS."""

from __future__ import annotations

import dataclasses
import json

import grpc
import pytest
from sqlalchemy import select

from tests.integration.broker_fixtures import (
    GAT,
    MARRIAGE,
    MZT,
    POPULATION,
    RSJ,
    Party,
    World,
    request_for,
)
from tongdao.broker.ledger.models import LedgerEntry
from tongdao.broker.sharing.requests import ServiceRequestData
from tongdao.broker.supervision.models import Deadline
from tongdao.cli import main
from tongdao.policies.loader import load_policy
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from tongdao.v1 import disputes_pb2

from .stack import BASIS, PURPOSE, SCENARIO, start_stack

POLICY = load_policy()
CITY_AUTHORITY = Party("hrb.sjj", "230100", "city")
CITY_MZJ = Party("hrb.mzj", "230100", "city")


@pytest.fixture
def world(database_url):
    w = World(database_url).setup()
    for party, is_authority in ((CITY_AUTHORITY, True), (CITY_MZJ, False)):
        w.register(party, is_authority=is_authority)
    city_entry = dataclasses.replace(MARRIAGE, code="hrb.mzj.marriage", provider=CITY_MZJ.code)
    with w.sessions.begin() as s:
        w.services.catalogue.create_entry(s, CITY_MZJ.code, city_entry)
        w.services.catalogue.submit_entry(s, CITY_MZJ.code, city_entry.code)
        w.services.catalogue.publish_entry(s, "authority", city_entry.code, "ok")
    yield w
    w.engine.dispose()


def act(world, method, *args, **kwargs):
    with world.sessions.begin() as s:
        return getattr(world.services.disputes, method)(s, *args, **kwargs)


def clock(world, kind, dispute_id):
    with world.sessions() as s:
        return s.execute(
            select(Deadline).where(Deadline.kind == kind, Deadline.subject == str(dispute_id))
        ).scalar_one()


def ledger_kinds(world, dispute_id):
    with world.sessions() as s:
        rows = s.execute(select(LedgerEntry).where(LedgerEntry.kind.like("dispute.%"))).scalars()
        entries = [(e.kind, json.loads(e.payload_json)) for e in rows]
    return [
        (kind, body["stage"], body["articles"])
        for kind, body in entries
        if body.get("dispute") == dispute_id
    ]


def test_two_city_departments_go_to_their_citys_authority_then_the_coordination_mechanism(world):
    with world.sessions.begin() as s:
        correction = world.services.requests.file(
            s,
            RSJ.code,
            ServiceRequestData(
                "correction", CITY_MZJ.code, "hrb.mzj.marriage",
                description="登记日期有误", record_key="230102199001011234",
            ),
        )  # fmt: skip
    with pytest.raises(PermissionDenied):  # only the parties may open it
        act(world, "open", MZT.code, "correction", correction.id, "x", "y")
    with pytest.raises(InvalidArgument) as bad:
        act(world, "open", RSJ.code, "correction", correction.id, "x", " ")
    assert bad.value.field == "negotiation"
    d = act(
        world, "open", RSJ.code, "correction", correction.id,
        "更正结果未反馈", "两次电话协商未果",
    )  # fmt: skip
    assert (d.stage, d.handler, d.respondent, d.status) == (
        "same_level", CITY_AUTHORITY.code, CITY_MZJ.code, "open",
    )  # fmt: skip
    handling = clock(world, "dispute_handling", d.id)
    assert handling.responsible == CITY_AUTHORITY.code and handling.article == "Art.25"
    assert handling.working_days == POLICY.deadline("dispute_handling").working_days
    assert d.due_on == handling.due_on
    with pytest.raises(FailedPrecondition):  # one open dispute per subject
        act(world, "open", CITY_MZJ.code, "correction", correction.id, "again", "again")
    with pytest.raises(PermissionDenied):  # a party does not decide its own dispute
        act(world, "resolve", RSJ.code, d.id, "I win")
    d = act(world, "refer", CITY_AUTHORITY.code, d.id, "双方仍不同意")
    assert d.stage == "coordination" and d.status == "open"
    assert clock(world, "dispute_handling", d.id).closed_on is not None
    coordination = clock(world, "dispute_coordination", d.id)
    assert coordination.closed_on is None and d.due_on == coordination.due_on
    with pytest.raises(FailedPrecondition):  # nothing after the coordination mechanism
        act(world, "refer", CITY_AUTHORITY.code, d.id, "again")
    d = act(world, "resolve", CITY_AUTHORITY.code, d.id, "协调机制决定：提供部门3日内更正并反馈")
    assert d.status == "resolved" and d.closed_on is not None
    assert clock(world, "dispute_coordination", d.id).closed_on is not None
    with pytest.raises(FailedPrecondition):
        act(world, "withdraw", RSJ.code, d.id, "too late")
    assert ledger_kinds(world, d.id) == [
        ("dispute.opened", "same_level", ["Art.25"]),
        ("dispute.referred", "coordination", ["Art.25"]),
        ("dispute.resolved", "coordination", ["Art.25"]),
    ]


def test_a_city_user_and_a_province_provider_go_to_the_provincial_authority(world):
    req = world.file(RSJ, request_for(POPULATION, ("name",)))
    d = act(world, "open", GAT.code, "share_request", req.id, "用途超出职责", "协商未果")
    assert (d.stage, d.handler, d.respondent) == ("provincial", "authority", RSJ.code)
    assert "regions" in d.routing
    with pytest.raises(PermissionDenied):  # the city authority is not this dispute's handler
        act(world, "resolve", CITY_AUTHORITY.code, d.id, "x")
    with pytest.raises(PermissionDenied):  # only the party that opened it withdraws it
        act(world, "withdraw", RSJ.code, d.id, "x")
    d = act(world, "withdraw", GAT.code, d.id, "双方已协商一致")
    assert d.status == "withdrawn" and d.outcome == "双方已协商一致"
    assert clock(world, "dispute_handling", d.id).closed_on is not None
    again = act(world, "open", RSJ.code, "grant", req.grant_id, "配额不足", "协商未果")
    assert again.subject_kind == "grant" and again.respondent == GAT.code


def test_who_sees_what_and_paging(world):
    req = world.file(RSJ, request_for(POPULATION, ("name",)))
    first = act(world, "open", RSJ.code, "share_request", req.id, "a", "b")
    with pytest.raises(NotFound):  # another department is not told it exists
        act(world, "get", MZT.code, first.id)
    assert act(world, "get", GAT.code, first.id).id == first.id
    with pytest.raises(NotFound):
        act(world, "open", RSJ.code, "finding", "999", "a", "b")
    with pytest.raises(InvalidArgument) as bad:
        act(world, "open", RSJ.code, "court_case", req.id, "a", "b")
    assert bad.value.field == "subject_kind"
    act(world, "withdraw", RSJ.code, first.id, "ok")
    for _ in range(2):
        d = act(world, "open", RSJ.code, "share_request", req.id, "a", "b")
        act(world, "withdraw", RSJ.code, d.id, "ok")
    seen, token = [], ""
    while True:
        page, token = act(world, "list_page", GAT.code, page_size=2, page_token=token)
        seen += [d.id for d in page]
        if not token:
            break
    assert len(seen) == 3 == len(set(seen))
    assert act(world, "list_page", MZT.code)[0] == []
    with pytest.raises(InvalidArgument) as bad:
        act(world, "list_page", GAT.code, page_token="zz")
    assert bad.value.field == "page_token"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("disputes"))
    yield s
    s.stop()


def test_a_dispute_over_grpc(stack):
    with stack.consumer() as client:
        req = client.file_share_request(
            "gat.population", ["gender"], ["fetch"], PURPOSE, SCENARIO, BASIS, quota=5
        )
    rsj, gat = stack.stub("hrb.rsj").disputes, stack.stub("hlj.gat").disputes
    opened = rsj.OpenDispute(
        disputes_pb2.OpenDisputeRequest(
            subject_kind="grant", subject_id=req.grant_id, claim="配额不足", negotiation="协商未果"
        ),
        timeout=10,
    )
    assert (opened.stage, opened.handler, opened.respondent) == (
        "provincial", "authority", "hlj.gat",
    )  # fmt: skip
    assert gat.GetDispute(disputes_pb2.GetDisputeRequest(id=opened.id), timeout=10).claim
    # the routing reason in the caller's language (zh-CN unless the call asks for another)
    assert opened.routing.startswith("双方行政区划不同（230100 市级，230000 省级）")
    english = gat.GetDispute(
        disputes_pb2.GetDisputeRequest(id=opened.id),
        metadata=(("tongdao-locale", "en"),),
        timeout=10,
    )
    assert english.routing == (
        "the parties are of different regions (230100 city-level, 230000 province-level)"
    )
    with pytest.raises(grpc.RpcError) as denied:
        gat.ResolveDispute(disputes_pb2.ResolveDisputeRequest(id=opened.id, outcome="x"))
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as hidden:
        stack.stub("hlj.mzt").disputes.GetDispute(disputes_pb2.GetDisputeRequest(id=opened.id))
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as bad:
        rsj.OpenDispute(
            disputes_pb2.OpenDisputeRequest(subject_kind="grant", subject_id=req.grant_id),
            timeout=10,
        )
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "claim" in bad.value.details()
    done = stack.stub("authority").disputes.ResolveDispute(
        disputes_pb2.ResolveDisputeRequest(id=opened.id, outcome="配额调整为20次"), timeout=10
    )
    assert done.status == "resolved"
    listed = rsj.ListDisputes(disputes_pb2.ListDisputesRequest(status="resolved"), timeout=10)
    assert [d.id for d in listed.disputes] == [opened.id]


def run(stack, capsys, *argv: str, party: str) -> tuple[int, str, str]:
    capsys.readouterr()
    common = ["--home", str(stack.home.root), "--broker", stack.broker.target, "--as", party]
    code = main([*argv, *common])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_dispute_from_the_shell(stack, capsys):
    with stack.consumer() as client:
        req = client.file_share_request(
            "gat.population", ["gender"], ["fetch"], PURPOSE, SCENARIO, BASIS, quota=5
        )
    code, out, _ = run(
        stack, capsys, "dispute", "open", "share_request", req.id,
        "--claim", "审核理由不充分", "--negotiation", "协商未果", "--json", party="hrb.rsj",
    )  # fmt: skip
    assert code == 0
    opened = json.loads(out)
    assert opened["stage"] == "provincial" and opened["handler"] == "authority"
    code, out, _ = run(
        stack, capsys, "dispute", "refer", str(opened["id"]), "--reason", "仍无法达成一致",
        party="authority",
    )  # fmt: skip
    assert code == 0 and "at coordination" in out
    code, out, _ = run(
        stack, capsys, "dispute", "resolve", str(opened["id"]), "--outcome", "维持原审核",
        party="authority",
    )  # fmt: skip
    assert code == 0 and "resolved" in out and "维持原审核" in out
    code, out, _ = run(stack, capsys, "dispute", "list", "--status", "open", party="hlj.mzt")
    assert code == 0 and out.strip() == "no disputes"
    code, out, _ = run(
        stack, capsys, "dispute", "show", str(opened["id"]), "--locale", "zh-CN", party="hrb.rsj"
    )
    assert code == 0 and f"争议 {opened['id']}（共享申请 {req.id}）：已解决" in out
    assert "当前阶段：数据协调机制处理（处理方 数据主管部门" in out
    code, _, err = run(stack, capsys, "dispute", "show", str(opened["id"]), party="hlj.mzt")
    assert code != 0 and "NOT_FOUND" in err
