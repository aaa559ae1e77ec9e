"""The broker past the end of its data: provisional clocks, the official schedule loaded by the
authority (clocks recounted, never earlier than announced), rule files handing over."""

import datetime as dt
import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.integration.broker_fixtures import MARRIAGE, POPULATION, RSJ, World, request_for
from tongdao.broker.app import build_services
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.ledger.models import LedgerEntry
from tongdao.policies.calendar import WorkingDayCalendar
from tongdao.policies.lifecycle import PolicySchedule
from tongdao.policies.loader import load_policy
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, PermissionDenied

HLJ = Path(__file__).parents[2] / "policies" / "rules" / "heilongjiang-2025.toml"
# A made-up 2027 schedule (the State Council's is not out yet): New Year's Day with a make-up
# Saturday 01-02, an eight-day Spring Festival break.
SCHEDULE = """\
year = 2027
source = "test schedule (made up)"
[[holidays]]
name = "New Year's Day"
date = 2027-01-01
[[holidays]]
name = "Spring Festival"
from = 2027-02-05
to = 2027-02-12
[[holidays]]
name = "Tomb-sweeping Day"
date = 2027-04-05
[[holidays]]
name = "Labour Day"
from = 2027-05-01
to = 2027-05-05
[[holidays]]
name = "Dragon Boat Festival"
date = 2027-06-09
[[holidays]]
name = "Mid-autumn Festival"
date = 2027-09-15
[[holidays]]
name = "National Day"
from = 2027-10-01
to = 2027-10-07
[[workdays]]
name = "New Year's Day"
date = 2027-01-02
[[workdays]]
name = "Spring Festival"
date = 2027-02-20
"""


def at(world, day: str) -> None:
    world.clock.now = dt.datetime.fromisoformat(f"{day}T02:00:00+00:00")


@pytest.fixture
def world(database_url):
    w = World(database_url, start=dt.datetime(2026, 12, 28, 2, 0, tzinfo=dt.UTC)).setup()
    yield w
    w.engine.dispose()


def ledger(world, kind):
    with world.sessions.begin() as s:
        rows = s.execute(select(LedgerEntry).where(LedgerEntry.kind == kind)).scalars().all()
        return [json.loads(r.payload_json) for r in rows]


def test_clocks_into_2027_are_provisional_and_say_so(world):
    at(world, "2026-12-30")
    with world.sessions.begin() as s:
        world.services.catalogue.require_update(s, "authority", POPULATION.code, "法律修改")
        [(deadline, remaining)] = world.services.supervision.list_deadlines(s, "authority")
        status = world.services.supervision.due_status(deadline.started_on, deadline.due_on)
    # 3 working days after Wed 12-30: 12-31, (New Year's Day), 01-04, 01-05
    assert deadline.due_on == dt.date(2027, 1, 5) and remaining == 3
    assert status.provisional_years == (2027,)
    assert "2027" in status.note("en") and "全国年节及纪念日放假办法" in status.note("en")
    [entry] = ledger(world, "catalogue_entry.update_required")
    assert entry["due_on"] == "2027-01-05" and entry["provisional"] is True
    assert "2027" in entry["provisional_note"]
    with world.sessions.begin() as s:
        warnings, years = world.services.supervision.warnings([deadline])
    assert years == {2027} and any("tongdao calendar load" in w for w in warnings)


def test_an_item_due_across_the_year_is_reported_overdue_not_internal(world):
    at(world, "2026-12-30")
    world.file(RSJ, request_for(MARRIAGE, ["marital_status"]))
    at(world, "2027-01-06")
    with world.sessions.begin() as s:
        [(deadline, remaining)] = world.services.supervision.list_deadlines(
            s, "authority", overdue_only=True
        )
    assert deadline.due_on == dt.date(2026, 12, 31) and remaining == -3  # 01-04, 01-05, 01-06
    at(world, "2100-01-04")
    with world.sessions.begin() as s, pytest.raises(FailedPrecondition) as err:
        world.services.supervision.list_deadlines(s, "authority")
    assert "2100" in err.value.message and "tongdao calendar load" in err.value.message


def test_loading_the_official_year_recounts_open_clocks_never_earlier(database_url, tmp_path):
    # the 2025 measures end on 2027-01-05: a (made-up) successor keeps requests going in 2027
    schedule = PolicySchedule.single(load_policy(HLJ)).with_successor(
        load_policy(successor(tmp_path, review_days=1))
    )
    world = World(
        database_url, start=dt.datetime(2026, 12, 28, 2, 0, tzinfo=dt.UTC), policies=schedule
    ).setup()
    try:
        _recount(world)
    finally:
        world.engine.dispose()


def _recount(world):
    at(world, "2026-12-30")
    with world.sessions.begin() as s:
        world.services.catalogue.require_update(s, "authority", POPULATION.code, "法律修改")
    at(world, "2027-02-04")
    review = world.file(RSJ, request_for(MARRIAGE, ["marital_status"]))
    assert review.due_date == dt.date(2027, 2, 11)  # provisional: 02-05..08 off, 补假 02-09, 10
    with world.sessions.begin() as s, pytest.raises(PermissionDenied):
        world.services.supervision.load_schedule(s, "hlj.gat", SCHEDULE, "2027.toml")
    with world.sessions.begin() as s, pytest.raises(InvalidArgument) as err:
        world.services.supervision.load_schedule(
            s, "authority", SCHEDULE.replace("2027-02-20", "2027-02-22"), "2027.toml"
        )
    assert "line " in err.value.message and "2027-02-22" in err.value.message
    assert world.services.supervision.calendar.is_provisional(2027)
    with world.sessions.begin() as s:
        year, moved = world.services.supervision.load_schedule(
            s, "authority", SCHEDULE, "2027.toml"
        )
        # not yet committed: the calendar still counts provisionally
        assert world.services.supervision.calendar.is_provisional(2027)
    assert year.year == 2027 and not world.services.supervision.calendar.is_provisional(2027)
    by_kind = {m.deadline.kind: m.result for m in moved}
    update = by_kind["catalogue_update"]
    # official: 12-31, Sat 01-02 (make-up day), 01-04 → earlier than announced: kept 01-05
    assert (update.announced, update.computed, update.due) == (
        dt.date(2027, 1, 5),
        dt.date(2027, 1, 4),
        dt.date(2027, 1, 5),
    )
    assert update.kept_announced
    share = by_kind["conditional_share_review"]
    # official: 02-05..12 off → Mon 02-15, later than announced: moved
    assert (share.announced, share.due) == (dt.date(2027, 2, 11), dt.date(2027, 2, 15))
    with world.sessions.begin() as s:
        shown = world.services.sharing.get_share_request(s, review.id)
        assert shown.due_date == dt.date(2027, 2, 15)
        assert not world.services.sharing.due_provisional(shown.created_at, shown.due_date)
        assert world.services.ledger.verify(s).ok
    recomputed = ledger(world, "deadline.recomputed")
    assert {(e["announced_due_on"], e["computed_due_on"], e["due_on"]) for e in recomputed} == {
        ("2027-01-05", "2027-01-04", "2027-01-05"),
        ("2027-02-11", "2027-02-15", "2027-02-15"),
    }
    assert all(e["provisional"] is False for e in recomputed)
    [loaded] = ledger(world, "calendar.schedule_loaded")
    assert (loaded["year"], loaded["holidays"], loaded["workdays"]) == (2027, 24, 2)
    # loading again recounts nothing: no clock is provisional for 2027 any more
    with world.sessions.begin() as s:
        _, again = world.services.supervision.load_schedule(s, "authority", SCHEDULE, "x.toml")
    assert again == []


def test_a_restarted_broker_counts_on_the_stored_schedule(database_url):
    first = World(database_url, start=dt.datetime(2026, 12, 28, 2, 0, tzinfo=dt.UTC)).setup()
    try:
        with first.sessions.begin() as s:
            first.services.supervision.load_schedule(s, "authority", SCHEDULE, "2027.toml")
        restarted = build_services(
            policy=load_policy(HLJ),
            calendar=WorkingDayCalendar.default(),
            signing_key=first.broker_key,
            ledger=Ledger(first.broker_key),
        )
        assert restarted.supervision.calendar.is_provisional(2027)
        with first.sessions.begin() as s:
            assert restarted.supervision.load_official_years(s) == (2027,)
        assert restarted.supervision.calendar.is_working_day(dt.date(2027, 1, 2))
    finally:
        first.engine.dispose()


def successor(tmp_path, review_days: int = 2) -> Path:
    """A made-up successor (not real measures): the 2025 file from 2027-01-06, another clock."""
    text = HLJ.read_text(encoding="utf-8")
    text = text.replace("valid_from = 2025-01-06", "valid_from = 2027-01-06")
    text = text.replace("issued = 2025-01-06", "issued = 2027-01-06")
    text = text.replace(
        "[deadlines.conditional_share_review]\nworking_days = 1",
        f"[deadlines.conditional_share_review]\nworking_days = {review_days}",
    )
    path = tmp_path / "next.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_switch_over_between_two_rule_files(database_url, tmp_path):
    first = load_policy(HLJ)
    schedule = PolicySchedule.single(first).with_successor(load_policy(successor(tmp_path)))
    world = World(
        database_url, start=dt.datetime(2027, 1, 4, 2, 0, tzinfo=dt.UTC), policies=schedule
    ).setup()
    try:
        at(world, "2027-01-05")
        old = world.file(RSJ, request_for(MARRIAGE, ["marital_status"]))
        at(world, "2027-01-06")
        new = world.file(RSJ, request_for(MARRIAGE, ["marital_status"]))
        with world.sessions.begin() as s:
            clocks = {
                d.subject: d for d, _ in world.services.supervision.list_deadlines(s, "authority")
            }
        # started under the 2025 file: 1 working day, kept after the switch
        assert (clocks[old.id].working_days, old.due_date) == (1, dt.date(2027, 1, 6))
        # started under the successor: 2 working days
        assert (clocks[new.id].working_days, new.due_date) == (2, dt.date(2027, 1, 8))
        assert world.services.supervision.policy.valid_from == dt.date(2027, 1, 6)
    finally:
        world.engine.dispose()


def test_without_a_successor_the_expired_file_refuses_and_status_warns(world):
    at(world, "2026-12-01")
    with world.sessions.begin() as s:
        status = world.services.supervision.status(s, "authority")
    assert status.policy_valid_until == dt.date(2027, 1, 5)
    assert any(
        "expires on 2027-01-05" in w and "tongdao policy install" in w for w in status.warnings
    )
    at(world, "2027-01-06")
    refused = world.file(RSJ, request_for(MARRIAGE, ["marital_status"]))
    assert refused.status == "refused" and "Art.47" in refused.decision["articles"]


def test_the_broker_warns_at_start(world, caplog):
    from tongdao.broker.server import log_policies_and_calendar

    at(world, "2026-12-01")
    with caplog.at_level(logging.INFO, logger="tongdao.broker"):
        log_policies_and_calendar(world.services, ())
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("expires on 2027-01-05" in w and "tongdao policy install" in w for w in warnings)
    assert any(w.startswith("2027 has no official holiday schedule") for w in warnings)
    caplog.clear()
    at(world, "2026-10-01")
    with caplog.at_level(logging.INFO, logger="tongdao.broker"):
        log_policies_and_calendar(world.services, ())
    assert not [r for r in caplog.records if "expires" in r.getMessage()]
