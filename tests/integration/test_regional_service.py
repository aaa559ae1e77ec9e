"""Regional splits (Art.23) and return flows (Art.26) in the sharing service, on SQLite and
PostgreSQL with a controllable clock: who records a split, which requests it routes to whom, a
later split replacing an earlier one, paging, and a rule file that keeps return-flow grants
until they expire."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from tests.integration.broker_fixtures import (
    CASES,
    COUNTY,
    GAT,
    MARRIAGE,
    MZT,
    POPULATION,
    RSJ,
    Party,
    World,
    request_for,
)
from tongdao.broker.sharing.regional import Territory
from tongdao.broker.supervision.models import Deadline
from tongdao.policies.lifecycle import PolicySchedule
from tongdao.policies.loader import load_policy
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

PROVINCE_AUTHORITY = Party("hlj.sjj", "230000", "province")
HRB_MZJ = Party("hrb.mzj", "230100", "city")
HRB_MZJ2 = Party("hrb.mzj2", "230100", "city")
QQHR = Party("qqhr.rsj", "230200", "city")


def make_world(database_url, policies=None):
    w = World(database_url, policies=policies).setup()
    for party in (HRB_MZJ, HRB_MZJ2, QQHR):
        w.register(party)
    w.register(PROVINCE_AUTHORITY, is_authority=True)
    return w


@pytest.fixture
def world(database_url):
    w = make_world(database_url)
    yield w
    w.engine.dispose()


def act(world, method, *args, **kwargs):
    with world.sessions.begin() as s:
        return getattr(world.services.sharing, method)(s, *args, **kwargs)


def split(world, delegate=HRB_MZJ, region="230100"):
    filed = act(
        world, "file_regional_split", MZT.code, MARRIAGE.code, [Territory(region, delegate.code)]
    )
    return act(world, "decide_regional_split", PROVINCE_AUTHORITY.code, filed.id, True, "")


def test_the_provinces_registered_authority_records_the_split(world):
    filed = act(
        world, "file_regional_split", MZT.code, MARRIAGE.code, [Territory("230100", HRB_MZJ.code)]
    )
    assert filed.reviewer == PROVINCE_AUTHORITY.code  # the authority at the provider's level
    with pytest.raises(PermissionDenied):
        act(world, "decide_regional_split", HRB_MZJ.code, filed.id, True, "")
    with pytest.raises(FailedPrecondition):  # one filing at a time per entry
        act(
            world,
            "file_regional_split",
            MZT.code,
            MARRIAGE.code,
            [Territory("230200", QQHR.code)],
        )
    recorded = act(world, "decide_regional_split", "authority", filed.id, True, "")
    assert recorded.status == "recorded"
    with pytest.raises(FailedPrecondition):
        act(world, "decide_regional_split", "authority", filed.id, True, "")
    with pytest.raises(NotFound):  # a department it does not concern does not see it
        act(world, "get_regional_split", GAT.code, filed.id)


def test_a_request_for_regions_outside_the_split_region_goes_to_the_provider(world):
    split(world)
    inside = world.file(RSJ, dataclasses.replace(request_for(MARRIAGE, ["marital_status"])))
    assert inside.delegate == HRB_MZJ.code and inside.regions == ["230100"]
    wider = world.file(
        RSJ, dataclasses.replace(request_for(MARRIAGE, ["marital_status"]), regions=("230200",))
    )
    assert wider.delegate is None
    with world.sessions() as s:
        who = {
            d.subject: d.responsible
            for d in s.query(Deadline).filter(Deadline.subject.in_([inside.id, wider.id]))
        }
    assert who == {inside.id: HRB_MZJ.code, wider.id: MZT.code}


def test_a_later_split_replaces_the_earlier_one(world):
    first = split(world)
    second = split(world, delegate=HRB_MZJ2)
    with world.sessions() as s:
        rows, _ = world.services.sharing.list_regional_splits(s, "authority")
    assert {r.id: r.status for r in rows} == {first.id: "superseded", second.id: "recorded"}
    req = world.file(RSJ, request_for(MARRIAGE, ["marital_status"]))
    assert req.delegate == HRB_MZJ2.code
    with pytest.raises(PermissionDenied):
        act(world, "decide_share_request", HRB_MZJ.code, req.id, True, "")
    decided = act(world, "decide_share_request", HRB_MZJ2.code, req.id, True, "")
    assert world.grant(decided.grant_id).delegate == HRB_MZJ2.code


def test_a_withdrawn_split_sends_new_requests_to_the_provider_again(world):
    recorded = split(world)
    before = world.file(RSJ, request_for(MARRIAGE, ["marital_status"]))
    with pytest.raises(PermissionDenied):  # only its provider withdraws it
        act(world, "withdraw_regional_split", PROVINCE_AUTHORITY.code, recorded.id, "不再需要")
    done = act(world, "withdraw_regional_split", MZT.code, recorded.id, "改由省厅受理")
    assert done.status == "withdrawn"
    after = world.file(RSJ, request_for(MARRIAGE, ["marital_status"]))
    assert (before.delegate, after.delegate) == (HRB_MZJ.code, None)
    # the request filed under the split stays with its delegate
    decided = act(world, "decide_share_request", HRB_MZJ.code, before.id, True, "")
    assert decided.status == "approved"
    with pytest.raises(FailedPrecondition):
        act(world, "withdraw_regional_split", MZT.code, recorded.id, "again")


def test_splits_and_return_flows_are_paged(world):
    ids = []
    for d in (HRB_MZJ, HRB_MZJ2, HRB_MZJ):
        ids.append(split(world, delegate=d).id)
        world.clock.now += dt.timedelta(minutes=1)
    seen, token = [], ""
    with world.sessions() as s:
        while True:
            rows, token = world.services.sharing.list_regional_splits(
                s, "authority", page_size=1, page_token=token
            )
            assert len(rows) <= 1
            seen += [r.id for r in rows]
            if not token:
                break
        with pytest.raises(InvalidArgument):
            world.services.sharing.list_return_flows(s, "authority", page_token=ids[0])
    assert seen == ids


def test_a_return_flow_needs_a_lower_level_department_of_the_territory(world):
    with pytest.raises(InvalidArgument) as err:
        act(
            world,
            "publish_return_flow",
            GAT.code,
            POPULATION.code,
            [Territory("230100", QQHR.code)],
        )
    assert err.value.field == "territories.department"
    with pytest.raises(PermissionDenied):  # not the provider's entry
        act(
            world, "publish_return_flow", MZT.code, POPULATION.code, [Territory("230100", RSJ.code)]
        )
    flow = act(
        world,
        "publish_return_flow",
        GAT.code,
        POPULATION.code,
        [Territory("230100", RSJ.code), Territory("230100", COUNTY.code)],
    )
    grants = [world.grant(g) for g in flow.grant_ids]
    assert [(g.consumer, g.regions) for g in grants] == [
        (RSJ.code, ["230100"]),
        (COUNTY.code, ["230100"]),
    ]
    assert all(g.status == "active" and g.return_flow_id == flow.id for g in grants)
    with pytest.raises(FailedPrecondition) as err:  # a not-shared entry is never returned
        act(world, "publish_return_flow", GAT.code, CASES.code, [Territory("230100", RSJ.code)])
    assert err.value.field == "entry_code"
    with pytest.raises(FailedPrecondition):  # one published arrangement per entry
        act(
            world, "publish_return_flow", GAT.code, POPULATION.code, [Territory("230100", RSJ.code)]
        )


def test_a_rule_file_may_keep_return_flow_grants_until_they_expire(database_url):
    policy = load_policy("heilongjiang-2025")
    assert policy.regional is not None
    kept = dataclasses.replace(
        policy, regional=dataclasses.replace(policy.regional, on_withdrawal="keep_until_expiry")
    )
    w = make_world(database_url, policies=PolicySchedule.single(kept))
    try:
        flow = act(
            w, "publish_return_flow", GAT.code, POPULATION.code, [Territory("230100", RSJ.code)]
        )
        done = act(w, "withdraw_return_flow", GAT.code, flow.id, "系统迁移")
        assert done.status == "withdrawn"
        assert w.grant(flow.grant_ids[0]).status == "active"
    finally:
        w.engine.dispose()
