"""Data needs, corrections and open-data requests on their working-day clocks (SHR-10, SHR-5,
OPN-2, SUP-1), on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from tests.integration.broker_fixtures import POPULATION, World
from tongdao.broker.catalogue.base import EntryData
from tongdao.broker.sharing.requests import ServiceRequestData
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied


@pytest.fixture
def world(database_url):
    w = World(database_url).setup()
    yield w
    w.engine.dispose()


def deadlines_for(world, subject, include_closed=True):
    with world.sessions.begin() as s:
        return {
            d.kind: d
            for d, _ in world.services.supervision.list_deadlines(
                s, "authority", include_closed=include_closed
            )
            if d.subject == subject
        }


def file(world, caller, **kwargs):
    with world.sessions.begin() as s:
        return world.services.requests.file(s, caller, ServiceRequestData(**kwargs))


def decide(world, caller, request_id, approve, reason=""):
    with world.sessions.begin() as s:
        return world.services.requests.decide(s, caller, request_id, approve, reason)


NEED = {
    "kind": "data_need",
    "provider": "hlj.gat",
    "subject": "流动人口居住登记信息",
    "data_items": ("id_number", "residence_address"),
    "scenario": "就业补贴发放",
    "legal_basis": "《就业促进法》第十五条",
}


def test_data_need_review_then_cataloguing_clock_then_fulfilled(world):
    need = file(world, "hrb.rsj", **NEED)
    clocks = deadlines_for(world, need.id)
    # filed Mon 2026-09-28: 3 working days → 09-29, 09-30, 10-08
    assert clocks["demand_review"].due_on == dt.date(2026, 10, 8)
    assert clocks["demand_review"].article == "Art.29"
    with pytest.raises(PermissionDenied):
        decide(world, "hlj.mzt", need.id, True)
    accepted = decide(world, "hlj.gat", need.id, True)
    assert accepted.status == "accepted"
    clocks = deadlines_for(world, need.id)
    assert clocks["demand_review"].closed_on is not None
    assert clocks["demand_cataloguing"].working_days == 10
    with world.sessions.begin() as s, pytest.raises(FailedPrecondition):
        world.services.requests.fulfil(s, "hlj.gat", need.id, "mzt.marriage")
    new_entry = EntryData(**{**POPULATION.__dict__, "code": "gat.floating"})
    with world.sessions.begin() as s:
        world.services.catalogue.create_entry(s, "hlj.gat", new_entry)
        world.services.catalogue.submit_entry(s, "hlj.gat", new_entry.code)
        world.services.catalogue.publish_entry(s, "authority", new_entry.code, "ok")
        done = world.services.requests.fulfil(s, "hlj.gat", need.id, new_entry.code)
        assert done.status == "fulfilled" and done.fulfilled_by == new_entry.code
    assert deadlines_for(world, need.id)["demand_cataloguing"].closed_on is not None


def test_data_need_refusal_needs_a_reason_and_late_answers_are_recorded(world):
    need = file(world, "hrb.rsj", **NEED)
    with pytest.raises(InvalidArgument):
        decide(world, "hlj.gat", need.id, False, " ")
    world.clock.now = dt.datetime(2026, 10, 12, 2, 0, tzinfo=dt.UTC)  # after the 10-08 due date
    with world.sessions.begin() as s:
        overdue = [
            d.subject
            for d, _ in world.services.supervision.list_deadlines(s, "authority", overdue_only=True)
        ]
    assert need.id in overdue
    refused = decide(world, "hlj.gat", need.id, False, "数据不在本部门职责范围")
    assert refused.status == "refused" and "职责范围" in refused.decision["reason"]
    assert deadlines_for(world, need.id)["demand_review"].closed_late is True


def test_correction_on_a_five_day_clock(world):
    with pytest.raises(NotFound):
        file(
            world,
            "authority",
            kind="correction",
            provider="hlj.gat",
            subject="no.entry",
            requester="张某",
            description="出生日期有误",
            record_key="2301",
        )
    req = file(
        world,
        "authority",
        kind="correction",
        provider="hlj.gat",
        subject=POPULATION.code,
        requester="张某（本人）",
        description="出生日期登记有误",
        record_key="230102199001011234",
    )
    assert req.requester == "张某（本人）"
    assert deadlines_for(world, req.id)["correction"].article == "Art.24"
    with pytest.raises(InvalidArgument):
        decide(world, "hlj.gat", req.id, True, "")  # must say what was corrected
    done = decide(world, "hlj.gat", req.id, True, "已核实并更正出生日期")
    assert done.status == "corrected"


def test_open_data_requests_follow_the_open_type(world):
    # not-open entry: refused at once with its reason (no clock)
    req = file(
        world,
        "authority",
        kind="open_data",
        provider="hlj.gat",
        subject=POPULATION.code,
        requester="某研究机构",
        description="人口统计研究",
    )
    assert req.status == "refused" and req.decision["articles"]
    assert deadlines_for(world, req.id) == {}
    cond = EntryData(
        **{
            **POPULATION.__dict__,
            "code": "gat.stats",
            "open_type": "conditional_open",
            "open_conditions": "仅限科研用途",
            "data_items": tuple(
                dataclasses.replace(i, sensitivity="general") for i in POPULATION.data_items
            ),
        }
    )
    with world.sessions.begin() as s:
        world.services.catalogue.create_entry(s, "hlj.gat", cond)
        world.services.catalogue.submit_entry(s, "hlj.gat", cond.code)
        world.services.catalogue.publish_entry(s, "authority", cond.code, "ok")
    req = file(
        world,
        "authority",
        kind="open_data",
        provider="hlj.gat",
        subject=cond.code,
        requester="某研究机构",
        description="人口统计研究",
    )
    assert req.status == "pending"
    assert deadlines_for(world, req.id)["open_data_review"].working_days == 5
    assert decide(world, "hlj.gat", req.id, True).status == "approved"
