"""Usage records (SHR-9, Art.28): recorded by the consumer, kept for the retention period and
refused purge before it; the provider sees every use of its own entries and only of its own."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.integration.broker_fixtures import (
    GAT,
    MARRIAGE,
    MZT,
    POPULATION,
    RSJ,
    World,
    request_for,
)
from tongdao.broker.sharing.usage import UsageData
from tongdao.policies.loader import load_policy
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, PermissionDenied

RETENTION = load_policy().period("usage_record_retention")
KEY = "230102199001011234"
USE = UsageData(
    scenario="低保资格复核",
    outcome="复核 12 户，取消 1 户",
    process="经办人比对户籍信息",
    storage="业务库加密存储，仅经办岗可读",
    destruction="复核结束后 30 日内删除",
)


@pytest.fixture
def world(database_url):
    w = World(database_url).setup()
    yield w
    w.engine.dispose()


def record(world, caller, grant_id, data=USE):
    with world.sessions.begin() as s:
        return world.services.sharing.record_usage(s, caller, grant_id, data).id


def test_records_are_kept_for_the_retention_period(world):
    g = world.grant(world.file(RSJ, request_for(POPULATION, ("name",))).grant_id)
    with pytest.raises(PermissionDenied):  # the provider cannot write the consumer's record
        record(world, GAT.code, g.id)
    with pytest.raises(InvalidArgument) as err:
        record(world, RSJ.code, g.id, UsageData(**{**USE.__dict__, "destruction": " "}))
    assert err.value.field == "usage.destruction"
    rid = record(world, RSJ.code, g.id)
    start = world.clock.now
    with world.sessions.begin() as s:
        kept = world.services.sharing.usage_records(s, RSJ.code, "consumer")[0]
    assert kept.retain_until == RETENTION.add_to(start.date())
    tomorrow = start.date() + dt.timedelta(days=1)
    with pytest.raises(PermissionDenied), world.sessions.begin() as s:
        world.services.sharing.purge_usage_records(s, RSJ.code, tomorrow)
    world.clock.now = dt.datetime.combine(kept.retain_until, dt.time(), tzinfo=dt.UTC)
    world.clock.now -= dt.timedelta(days=1)
    with pytest.raises(FailedPrecondition) as err, world.sessions.begin() as s:
        world.services.sharing.purge_usage_records(s, "authority", tomorrow)
    assert err.value.articles == (RETENTION.article,) and str(rid) in err.value.message
    world.clock.now += dt.timedelta(days=2)
    with world.sessions.begin() as s:
        assert world.services.sharing.purge_usage_records(s, "authority", tomorrow) == 1
    with world.sessions.begin() as s:
        assert world.services.sharing.usage_records(s, RSJ.code, "consumer") == []


def test_the_provider_sees_every_use_of_its_own_entries_only(world):
    pop = world.grant(world.file(RSJ, request_for(POPULATION, ("name",))).grant_id)
    req = world.file(RSJ, request_for(MARRIAGE, ("marital_status",)))
    if req.status == "pending_provider_review":  # a conditional entry: its provider approves
        with world.sessions.begin() as s:
            req = world.services.sharing.decide_share_request(s, MZT.code, req.id, True, "")
    mar = world.grant(req.grant_id)
    world.relay(RSJ, GAT, pop.token, ("name",), {"keys": [KEY]})
    world.relay(RSJ, MZT, mar.token, ("marital_status",), {"keys": [KEY]})
    record(world, RSJ.code, pop.id)
    record(world, RSJ.code, mar.id)
    with world.sessions.begin() as s:
        sharing = world.services.sharing
        gat_records = sharing.usage_records(s, GAT.code, "provider")
        gat_calls = sharing.relayed_calls(s, GAT.code)
        mzt_calls = sharing.relayed_calls(s, MZT.code)
        rsj_as_provider = sharing.usage_records(s, RSJ.code, "provider")
    assert [r.grant_id for r in gat_records] == [pop.id]
    assert [(c.grant_id, c.kind, c.method, c.fields) for c in gat_calls] == [
        (pop.id, "query.relayed", "fetch", ("name",))
    ]
    assert [c.grant_id for c in mzt_calls] == [mar.id]
    assert rsj_as_provider == []


def test_usage_in_pages_shows_every_record_and_call_once(world):
    pop = world.grant(world.file(RSJ, request_for(POPULATION, ("name",))).grant_id)
    for _ in range(3):
        world.relay(RSJ, GAT, pop.token, ("name",), {"keys": [KEY]})
    for _ in range(5):
        record(world, RSJ.code, pop.id)
    sharing = world.services.sharing
    records, calls, pages, token = [], [], 0, ""
    while True:
        with world.sessions.begin() as s:
            page = sharing.page("usage", 2, token)
            rows, relayed, token = sharing.usage_page(s, GAT.code, "provider", page)
        assert len(rows) <= 2 and len(relayed) <= 2
        records += [r.id for r in rows]
        calls += [c.sequence for c in relayed]
        pages += 1
        if not token:
            break
    with world.sessions.begin() as s:
        every_record = [r.id for r in sharing.usage_records(s, GAT.code, "provider")]
        every_call = [c.sequence for c in sharing.relayed_calls(s, GAT.code)]
    assert pages == 3 and len(every_record) == 5 and len(every_call) == 3
    assert records == every_record and calls == every_call
    with pytest.raises(InvalidArgument) as err:
        sharing.page("usage", 2, "not-a-token")
    assert err.value.field == "page_token"
