"""Rectification orders (Art.27; SUP-2) with a controllable clock: issue, answer, accept or
reject; overdue suspends the grant, a further period terminates it."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.integration.broker_fixtures import GAT, MZT, POPULATION, RSJ, World, request_for
from tongdao.broker.supervision.models import Deadline
from tongdao.policies.loader import load_policy
from tongdao.proto.errors import FailedPrecondition, PermissionDenied

POLICY = load_policy()
KEY = "230102199001011234"


@pytest.fixture
def world(database_url):
    w = World(database_url).setup()
    yield w
    w.engine.dispose()


def grant(world):
    req = world.file(RSJ, request_for(POPULATION, ("name",)))
    return world.grant(req.grant_id)


def call(world, method, *args, **kwargs):
    with world.sessions.begin() as s:
        out = getattr(world.services.orders, method)(s, *args, **kwargs)
        if isinstance(out, list):
            return [(o.id, o.status) for o in out]
        return out.id, out.status, out.due_on, out.terminate_on


def status(world, grant_id):
    return world.grant(grant_id).status


def day_after(world, day: dt.date) -> None:
    world.clock.now = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(2), tzinfo=dt.UTC)


def test_an_order_answered_and_accepted_in_time_keeps_the_grant(world):
    g = grant(world)
    with pytest.raises(PermissionDenied):  # the consumer cannot order itself
        call(world, "issue", RSJ.code, g.id, "out_of_scope", "stop asking for birth dates")
    with pytest.raises(PermissionDenied):  # nor can another department
        call(world, "issue", MZT.code, g.id, "out_of_scope", "x")
    oid, state, due, _ = call(world, "issue", GAT.code, g.id, "out_of_scope", "stop it")
    rule = POLICY.deadline("rectification")
    assert state == "open" and due == world.services.kernel.calendar.due_date(
        world.clock.now.date(), rule.working_days
    )
    with world.sessions() as s:
        tracked = s.query(Deadline).filter_by(kind="rectification", subject=str(oid)).one()
    assert tracked.responsible == RSJ.code and tracked.article == "Art.27"
    with pytest.raises(PermissionDenied):
        call(world, "answer", GAT.code, oid, "not the consumer")
    assert call(world, "answer", RSJ.code, oid, "removed the field from our form")[1] == "answered"
    assert call(world, "decide", GAT.code, oid, False, "form still asks for it")[1] == "open"
    call(world, "answer", RSJ.code, oid, "removed it from the form and the API")
    assert call(world, "decide", GAT.code, oid, True, "checked")[1] == "accepted"
    day_after(world, due)
    assert call(world, "enforce") == []
    assert status(world, g.id) == "active"
    with world.sessions() as s:
        tracked = s.query(Deadline).filter_by(kind="rectification", subject=str(oid)).one()
    assert tracked.closed_on is not None and not tracked.closed_late


def test_overdue_suspends_and_a_further_period_terminates(world):
    g = grant(world)
    oid, _, due, _ = call(world, "issue", "authority", g.id, "idle", "use it or release it")
    world.clock.now = dt.datetime.combine(due, dt.time(10), tzinfo=dt.UTC)
    assert call(world, "enforce") == []  # on the due date itself: still in time
    day_after(world, due)
    assert call(world, "enforce") == [(oid, "suspended")]
    assert status(world, g.id) == "suspended"
    assert world.grant(g.id).status_ground == "not_rectified"
    with world.sessions() as s:
        order = world.services.orders.list_orders(s, RSJ.code)[0]
        terminate_on = order.terminate_on
    assert terminate_on == world.services.kernel.calendar.due_date(
        world.clock.now.date(), POLICY.deadline("rectification_termination").working_days
    )
    assert call(world, "enforce") == []  # once only
    day_after(world, terminate_on)
    assert call(world, "enforce") == [(oid, "terminated")]
    assert status(world, g.id) == "terminated"
    with pytest.raises(FailedPrecondition):
        call(world, "answer", RSJ.code, oid, "too late")


def test_rectified_after_suspension_reinstates_the_grant(world):
    g = grant(world)
    oid, _, due, _ = call(world, "issue", GAT.code, g.id, "security_risk", "rotate keys")
    day_after(world, due)
    call(world, "enforce")
    assert status(world, g.id) == "suspended"
    call(world, "answer", RSJ.code, oid, "keys rotated, access reviewed")
    assert call(world, "decide", GAT.code, oid, True, "verified")[1] == "accepted"
    assert status(world, g.id) == "active"
    with world.sessions() as s:
        assert world.services.orders.list_orders(s, MZT.code) == []
