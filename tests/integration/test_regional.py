"""Regional delegation (SHR-4, Art.23) and return flow (SHR-7, Art.26) end to end over real gRPC
and the shell: a recorded regional split sends a region's requests to its lower-level delegate,
which alone decides them and is named in the signed grant; a return flow gives each territory's
lower-level department a grant at once, on which the provider's node serves only that
territory's records; withdrawing it ends the grants."""

from __future__ import annotations

import json

import grpc
import pytest
from sqlalchemy import create_engine, text

from tests.integration.stack import BASIS, PURPOSE, SCENARIO, start_stack
from tongdao.cli import main
from tongdao.crypto.grant_token import read_grant_token_unverified
from tongdao.home import AUTHORITY
from tongdao.node.client import ClientError
from tongdao.policies.engine import in_regions
from tongdao.v1 import sharing_pb2

HARBIN = "230100"
QIQIHAR = "230200"
DELEGATE = "hrb.mzj"  # 哈尔滨市民政局, delegated Harbin's requests for the provincial entry
MARRIAGE = "mzt.marriage"  # conditional, provided by the provincial civil-affairs department


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(
        tmp_path_factory.mktemp("regional"),
        records=40,
        cities=True,
        node_overrides={"gat.population": {"region_field": "region"}},
    )
    yield s
    s.stop()


def ledger(stack, kind: str) -> list[dict]:
    engine = create_engine(stack.database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("select payload_json from ledger_entries where kind = :k order by sequence"),
            {"k": kind},
        ).all()
    engine.dispose()
    return [json.loads(p) for (p,) in rows]


def territories(*pairs: tuple[str, str]) -> list[sharing_pb2.Territory]:
    return [sharing_pb2.Territory(region=r, department=d) for r, d in pairs]


def ask_marriage(stack, consumer: str):
    with stack.consumer(consumer) as client:
        return client.file_share_request(
            MARRIAGE, ["marital_status"], ["verify"], PURPOSE, SCENARIO, BASIS
        )


@pytest.fixture(scope="module")
def recorded_split(stack):
    provider = stack.stub("hlj.mzt").sharing
    filed = provider.FileRegionalSplit(
        sharing_pb2.FileRegionalSplitRequest(
            entry_code=MARRIAGE,
            territories=territories((HARBIN, DELEGATE)),
            reason="哈尔滨市范围内的申请由市民政局直接受理",
        ),
        timeout=10,
    )
    assert filed.status == "filed" and filed.reviewer == AUTHORITY and filed.article == "Art.23"
    # before the authority records it, the provider still decides Harbin's requests
    before = ask_marriage(stack, "hrb.rsj")
    assert before.status == "pending_provider_review" and before.delegate == ""
    recorded = stack.stub(AUTHORITY).sharing.DecideRegionalSplit(
        sharing_pb2.DecideRegionalSplitRequest(id=filed.id, approve=True), timeout=10
    )
    assert recorded.status == "recorded"
    return recorded


def inbox(stack, party: str) -> list[str]:
    with stack.consumer(party) as client:
        return [r.id for r in client.list_share_requests("provider", "pending_provider_review")]


def test_a_delegated_request_goes_to_the_delegate_which_decides_it(stack, recorded_split):
    req = ask_marriage(stack, "hrb.rsj")  # a Harbin department asks the provincial entry
    assert req.status == "pending_provider_review"
    assert req.delegate == DELEGATE and list(req.regions) == [HARBIN]
    assert req.id in inbox(stack, DELEGATE) and req.id not in inbox(stack, "hlj.mzt")
    # the provider cannot decide it: it delegated Harbin's requests
    with stack.consumer("hlj.mzt") as provider, pytest.raises(ClientError) as err:
        provider.decide_share_request(req.id, approve=True, reason="")
    assert err.value.code == "PERMISSION_DENIED" and DELEGATE in err.value.message
    with stack.consumer(DELEGATE) as delegate:
        decided = delegate.decide_share_request(req.id, approve=True, reason="核验所需")
        assert decided.status == "approved"
        grant = delegate.get_grant(decided.grant_id)  # the delegate sees what it granted
    assert grant.delegate == DELEGATE and list(grant.regions) == [HARBIN]
    with stack.consumer("hrb.rsj") as client:
        token = client.get_grant(decided.grant_id).token
    claims = read_grant_token_unverified(token)
    assert claims.delegate == DELEGATE and claims.regions == (HARBIN,)
    assert claims.provider == "hlj.mzt"  # the data still comes from the provider's node
    filed = [p for p in ledger(stack, "share_request.filed") if p.get("delegate")]
    assert filed and filed[-1]["delegated_region"] == HARBIN and filed[-1]["articles"] == ["Art.23"]
    decided_entry = [p for p in ledger(stack, "share_request.decided") if p.get("delegate")]
    assert decided_entry and decided_entry[-1]["articles"] == ["Art.23"]
    issued = ledger(stack, "grant.issued")
    assert any(p.get("delegate") == DELEGATE for p in issued)


def test_the_conditional_review_clock_runs_for_the_delegate(stack, recorded_split):
    req = ask_marriage(stack, "hrb.rsj")
    engine = create_engine(stack.database_url)
    with engine.connect() as conn:
        responsible = conn.execute(
            text("select responsible from deadlines where subject = :s"), {"s": req.id}
        ).scalar_one()
    engine.dispose()
    assert responsible == DELEGATE and req.due_date


def test_a_request_from_outside_the_regions_still_goes_to_the_provider(stack, recorded_split):
    req = ask_marriage(stack, "qqhr.mzj")  # Qiqihar is not in the split
    assert req.status == "pending_provider_review" and req.delegate == ""
    assert req.id in inbox(stack, "hlj.mzt") and req.id not in inbox(stack, DELEGATE)
    with stack.consumer(DELEGATE) as delegate, pytest.raises(ClientError) as err:
        delegate.decide_share_request(req.id, approve=True, reason="")
    assert err.value.code == "PERMISSION_DENIED"
    with stack.consumer("hlj.mzt") as provider:
        decided = provider.decide_share_request(req.id, approve=True, reason="核验所需")
        assert provider.get_grant(decided.grant_id).delegate == ""


def test_a_split_is_checked_and_only_its_authority_records_it(stack):
    provider = stack.stub("hlj.mzt").sharing
    with pytest.raises(grpc.RpcError) as err:  # a province department is not lower-level
        provider.FileRegionalSplit(
            sharing_pb2.FileRegionalSplitRequest(
                entry_code=MARRIAGE, territories=territories((HARBIN, "hlj.gat"))
            ),
            timeout=10,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "territories.department" in err.value.details()
    with pytest.raises(grpc.RpcError) as err:  # not its entry
        stack.stub("hlj.gat").sharing.FileRegionalSplit(
            sharing_pb2.FileRegionalSplitRequest(
                entry_code=MARRIAGE, territories=territories((HARBIN, DELEGATE))
            ),
            timeout=10,
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    filed = provider.FileRegionalSplit(
        sharing_pb2.FileRegionalSplitRequest(
            entry_code=MARRIAGE, territories=territories((QIQIHAR, "qqhr.mzj"))
        ),
        timeout=10,
    )
    with pytest.raises(grpc.RpcError) as err:
        stack.stub("hlj.mzt").sharing.DecideRegionalSplit(
            sharing_pb2.DecideRegionalSplitRequest(id=filed.id, approve=True), timeout=10
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as err:  # a refusal states its reason
        stack.stub(AUTHORITY).sharing.DecideRegionalSplit(
            sharing_pb2.DecideRegionalSplitRequest(id=filed.id, approve=False), timeout=10
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    refused = stack.stub(AUTHORITY).sharing.DecideRegionalSplit(
        sharing_pb2.DecideRegionalSplitRequest(id=filed.id, approve=False, reason="未说明依据"),
        timeout=10,
    )
    assert refused.status == "refused" and refused.decision_reason == "未说明依据"
    assert [p["status"] for p in ledger(stack, "regional_split.refused")] == ["refused"]
    seen = stack.stub("qqhr.mzj").sharing.ListRegionalSplits(
        sharing_pb2.ListRegionalSplitsRequest(entry_code=MARRIAGE), timeout=10
    )
    assert [s.id for s in seen.splits] == [filed.id]  # only the splits naming it


def people(stack):
    inside = [p for p in stack.people if in_regions(p["region"], (HARBIN,))]
    outside = [p for p in stack.people if not in_regions(p["region"], (HARBIN,))]
    assert inside and outside
    return inside, outside


def test_a_return_flow_grants_the_territory_and_the_node_serves_only_its_records(stack):
    flow = stack.stub("hlj.gat").sharing.PublishReturnFlow(
        sharing_pb2.PublishReturnFlowRequest(
            entry_code="gat.population", territories=territories((HARBIN, DELEGATE))
        ),
        timeout=30,
    )
    assert flow.status == "published" and flow.article == "Art.26" and len(flow.grant_ids) == 1
    with stack.consumer(DELEGATE) as client:
        grant = client.get_grant(flow.grant_ids[0])
        assert grant.status == "active" and grant.return_flow_id == flow.id
        assert list(grant.regions) == [HARBIN]
        claims = read_grant_token_unverified(grant.token)
        assert claims.return_flow == flow.id and claims.regions == (HARBIN,)
        # no extra conditions: every data item of the entry, for the lower level's duties
        assert set(claims.fields) == set(claims.grades)
        inside, outside = people(stack)
        keys = [inside[0]["id_number"], outside[0]["id_number"]]
        a, b = client.fetch(grant.token, keys, ["gender"], grant.purpose)
        assert a["found"] and a["fields"]["gender"] == inside[0]["gender"]
        assert not b["found"]  # outside the territory: not served
    assert ledger(stack, "return_flow.published")[-1]["articles"] == ["Art.26"]
    listed = stack.stub(DELEGATE).sharing.ListReturnFlows(
        sharing_pb2.ListReturnFlowsRequest(status="published"), timeout=10
    )
    assert flow.id in [f.id for f in listed.flows]
    with pytest.raises(grpc.RpcError) as err:  # only the provider withdraws it
        stack.stub(DELEGATE).sharing.WithdrawReturnFlow(
            sharing_pb2.WithdrawReturnFlowRequest(id=flow.id, reason="不再需要"), timeout=10
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    done = stack.stub("hlj.gat").sharing.WithdrawReturnFlow(
        sharing_pb2.WithdrawReturnFlowRequest(id=flow.id, reason="系统迁移"), timeout=10
    )
    assert done.status == "withdrawn" and done.on_withdrawal == "terminate"
    with stack.consumer(DELEGATE) as client:
        ended = client.get_grant(flow.grant_ids[0])
        assert ended.status == "terminated" and ended.status_article == "Art.26"
        with pytest.raises(ClientError) as err:
            client.fetch(ended.token, keys[:1], ["gender"], ended.purpose)
    assert err.value.code == "PERMISSION_DENIED"
    withdrawn = ledger(stack, "return_flow.withdrawn")[-1]
    assert withdrawn["grants_ended"] == list(flow.grant_ids)


def test_a_return_flow_goes_only_to_lower_levels_of_the_territory(stack):
    gat = stack.stub("hlj.gat").sharing
    for pair, field in (
        ((HARBIN, "qqhr.mzj"), "territories.department"),  # not a Harbin department
        (("230000", DELEGATE), "territories.region"),  # not below the provider's region
    ):
        with pytest.raises(grpc.RpcError) as err:
            gat.PublishReturnFlow(
                sharing_pb2.PublishReturnFlowRequest(
                    entry_code="gat.population", territories=territories(pair)
                ),
                timeout=10,
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field in err.value.details()


def run(stack, capsys, *argv: str, party: str) -> tuple[int, str, str]:
    capsys.readouterr()
    common = ["--home", str(stack.home.root), "--broker", stack.broker.target, "--as", party]
    code = main([*argv, *common])
    out, err = capsys.readouterr()
    return code, out, err


def test_regional_splits_and_return_flows_from_the_shell(stack, recorded_split, capsys):
    code, out, _ = run(
        stack, capsys, "consumer", "request", MARRIAGE, "--field", "marital_status",
        "--method", "verify", "--purpose", PURPOSE, "--scenario", SCENARIO,
        "--legal-basis", BASIS, party="hrb.rsj",
    )  # fmt: skip
    assert code == 0 and f"{DELEGATE} (the provider delegated" in out
    code, out, _ = run(stack, capsys, "provider", "inbox", party=DELEGATE)
    assert code == 0 and "delegated to you for region 230100 (Art.23)" in out
    code, out, _ = run(
        stack, capsys, "regional", "split", "sw.income", "--territory", f"{QIQIHAR}=qqhr.mzj",
        "--json", party="hlj.sw",
    )  # fmt: skip
    assert code == 0
    split = json.loads(out)
    assert split["status"] == "filed"
    code, out, _ = run(
        stack, capsys, "regional", "decide", split["id"], "--approve", party=AUTHORITY
    )
    assert code == 0 and "recorded" in out and f"{QIQIHAR}→qqhr.mzj" in out
    code, out, _ = run(stack, capsys, "regional", "splits", "--entry", "sw.income", party="hlj.sw")
    assert code == 0 and split["id"] in out
    code, out, _ = run(
        stack, capsys, "regional", "withdraw-split", split["id"], "--reason", "改由省厅受理",
        party="hlj.sw",
    )  # fmt: skip
    assert code == 0 and "withdrawn" in out and "改由省厅受理" in out
    code, out, _ = run(
        stack, capsys, "regional", "return-flow", "gat.population", "--territory",
        f"{QIQIHAR}=qqhr.mzj", "--json", party="hlj.gat",
    )  # fmt: skip
    assert code == 0
    flow = json.loads(out)
    assert flow["status"] == "published" and len(flow["grant_ids"]) == 1
    code, out, _ = run(
        stack, capsys, "regional", "return-flows", "--status", "published", "--json",
        party="qqhr.mzj",
    )  # fmt: skip
    assert code == 0 and [f["id"] for f in json.loads(out)["flows"]] == [flow["id"]]
    code, out, _ = run(
        stack,
        capsys,
        "regional",
        "withdraw-flow",
        flow["id"],
        "--reason",
        "系统迁移",
        party="hlj.gat",
    )
    assert code == 0 and "withdrawn" in out
    code, _, err = run(
        stack, capsys, "regional", "split", "sw.income", "--territory", "230200", party="hlj.sw"
    )
    assert code == 2 and "REGION=DEPARTMENT" in err
