"""Urgent or special data needs (SHR-3, Art.23): the requester's data authority (same level, else
the next level up, else the provincial authority) organises a special docking on its own clock,
beside the provider's review; urgent needs come first in every inbox."""

from __future__ import annotations

import json

import pytest

from tests.integration.broker_fixtures import COUNTY, GAT, MZT, RSJ, Party, World
from tongdao.broker.sharing.requests import ServiceRequestData
from tongdao.cli import main
from tongdao.policies.loader import load_policy
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, PermissionDenied

from .stack import start_stack

CITY_AUTHORITY = Party("hrb.sjj", "230100", "city")
NEED = {
    "kind": "data_need",
    "provider": GAT.code,
    "subject": "寒潮受灾人员名单",
    "data_items": ("id_number", "residence_address"),
    "scenario": "寒潮应急救助",
    "legal_basis": "《自然灾害救助条例》第十四条",
}


@pytest.fixture
def world(database_url):
    w = World(database_url).setup()
    yield w
    w.engine.dispose()


def file(world, caller, **kwargs):
    with world.sessions.begin() as s:
        return world.services.requests.file(s, caller, ServiceRequestData(**kwargs))


def clocks(world, subject):
    with world.sessions.begin() as s:
        return {
            d.kind: d
            for d, _ in world.services.supervision.list_deadlines(
                s, "authority", include_closed=True
            )
            if d.subject == subject
        }


def handle(world, caller, request_id, outcome):
    with world.sessions.begin() as s:
        return world.services.requests.record_urgent_handling(s, caller, request_id, outcome)


def inbox(world, caller, role):
    with world.sessions.begin() as s:
        return [r.id for r in world.services.requests.list(s, caller, role)]


def test_an_urgent_need_goes_to_the_authority_with_its_own_clock(world):
    plain = file(world, RSJ.code, **NEED)
    urgent = file(world, RSJ.code, **NEED, urgent=True)
    rule = load_policy().deadline("urgent_handling")
    kinds = clocks(world, urgent.id)
    # no city authority is registered: the provincial authority handles it
    assert urgent.details["urgent"]["handler"] == "authority"
    assert kinds["urgent_handling"].responsible == "authority"
    assert kinds["urgent_handling"].article == rule.article == "Art.23"
    assert kinds["demand_review"].responsible == GAT.code  # the provider still reviews it
    assert inbox(world, GAT.code, "provider") == [urgent.id, plain.id]  # urgent first
    assert inbox(world, "authority", "handler") == [urgent.id]
    with pytest.raises(PermissionDenied):  # the provider does not record the special handling
        handle(world, GAT.code, urgent.id, "x")
    with pytest.raises(FailedPrecondition):
        handle(world, "authority", plain.id, "not urgent")
    done = handle(world, "authority", urgent.id, "组织公安厅当日提供名单接口")
    assert done.details["urgent"]["outcome"] == "组织公安厅当日提供名单接口"
    assert clocks(world, urgent.id)["urgent_handling"].closed_on is not None
    with pytest.raises(FailedPrecondition):
        handle(world, "authority", urgent.id, "again")


def test_the_same_level_authority_handles_where_there_is_one(world):
    world.register(CITY_AUTHORITY, is_authority=True)
    urgent = file(world, COUNTY.code, **NEED, urgent=True)  # a county of Harbin: next level up
    assert urgent.details["urgent"]["handler"] == CITY_AUTHORITY.code
    assert inbox(world, CITY_AUTHORITY.code, "handler") == [urgent.id]
    assert inbox(world, MZT.code, "handler") == []
    handle(world, CITY_AUTHORITY.code, urgent.id, "市数据局协调对接")


def test_only_a_data_need_is_urgent(world):
    with pytest.raises(InvalidArgument) as bad:
        file(
            world, "authority", kind="correction", provider=GAT.code, subject="gat.population",
            description="x", record_key="1", urgent=True,
        )  # fmt: skip
    assert bad.value.field == "urgent"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = start_stack(tmp_path_factory.mktemp("urgent"))
    yield s
    s.stop()


def run(stack, capsys, *argv: str, party: str) -> tuple[int, str, str]:
    capsys.readouterr()
    common = ["--home", str(stack.home.root), "--broker", stack.broker.target, "--as", party]
    code = main([*argv, *common])
    out, err = capsys.readouterr()
    return code, out, err


def test_urgent_needs_from_the_shell(stack, capsys):
    need = [
        "requests", "need", "--provider", "hlj.gat", "--title", "寒潮受灾人员名单",
        "--item", "id_number", "--scenario", "寒潮应急救助",
        "--legal-basis", "《自然灾害救助条例》第十四条", "--urgent", "--json",
    ]  # fmt: skip
    code, out, _ = run(stack, capsys, *need, party="hrb.rsj")
    assert code == 0
    filed = json.loads(out)
    assert filed["urgent"] is True and filed["urgent_handler"] == "authority"
    code, out, _ = run(stack, capsys, "requests", "inbox", party="hlj.gat")
    assert code == 0 and "URGENT" in out
    code, out, _ = run(stack, capsys, "requests", "urgent", party="authority")
    assert code == 0 and filed["id"] in out and "due " in out
    code, out, _ = run(
        stack, capsys, "requests", "handle", filed["id"], "--outcome", "当日对接完成",
        party="authority",
    )  # fmt: skip
    assert code == 0 and "当日对接完成" in out
