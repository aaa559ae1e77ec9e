"""Brokers on one store keep no state of their own that the others could contradict: a holiday
schedule loaded through one broker is in force at another from its next ledger round (on SQLite
in one process, and on PostgreSQL)."""

from __future__ import annotations

import datetime as dt

from tests.integration.test_calendar_broker import SCHEDULE
from tongdao.broker.server import BrokerConfig, start_broker
from tongdao.ca_home import enrol_all_locally
from tongdao.home import AUTHORITY, BROKER, Home


def _broker(home: Home, url: str):  # type: ignore[no-untyped-def]
    return start_broker(
        BrokerConfig(
            tls=home.tls(BROKER),
            signing_key=home.signing_key(BROKER),
            database_url=url,
        )
    )


def test_a_schedule_loaded_through_one_broker_is_in_force_at_the_other(tmp_path, database_url):
    home = Home(tmp_path / "home")
    enrol_all_locally(home, tmp_path / "ca")
    a, b = _broker(home, database_url), _broker(home, database_url)
    try:
        assert b.ledger_rounds is not None
        b.ledger_rounds.run_once()  # a round with nothing new: 2027 stays provisional
        calendar = b.services.supervision.calendar
        assert calendar.is_provisional(2027)
        assert not calendar.is_working_day(dt.date(2027, 1, 2))  # a Saturday, by the rules
        assert a.ledger_rounds is not None
        with a.ledger_rounds.sessions.begin() as session:  # broker A's own store sessions
            a.services.supervision.load_schedule(session, AUTHORITY, SCHEDULE, "2027.toml")
        b.ledger_rounds.run_once()
        # the make-up working day of the loaded schedule counts at broker B now
        assert not calendar.is_provisional(2027)
        assert calendar.is_working_day(dt.date(2027, 1, 2))
    finally:
        a.stop(0)
        b.stop(0)
