"""A grant's status ticket is attached again for ``ticket_renew_seconds``, never longer, and a
suspension still reaches the node within ``ticket_seconds`` (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.integration.broker_fixtures import GAT, POPULATION, RSJ, World, request_for
from tongdao.crypto.grant_status import verify_status_ticket
from tongdao.proto.errors import PermissionDenied

KEY = "230102199001011234"  # a person the fake population node holds


@pytest.fixture
def world(database_url):
    w = World(database_url).setup()
    yield w
    w.engine.dispose()


def ticket_of(world, token):
    world.relay(RSJ, GAT, token, ["name"], {"keys": [KEY]})
    return world.gat_node.seen[-1].status_ticket


def test_the_same_ticket_rides_for_the_renewal_period_then_a_new_one_is_signed(world):
    rules = world.services.sharing.policy.grant_status
    assert 0 < rules.ticket_renew_seconds < rules.ticket_seconds
    req = world.file(RSJ, request_for(POPULATION, ["name"]))
    grant = world.grant(req.grant_id)
    signed_at = world.clock.now
    first = ticket_of(world, grant.token)
    world.clock.now = signed_at + dt.timedelta(seconds=rules.ticket_renew_seconds - 1)
    assert ticket_of(world, grant.token) == first  # no new signature inside the period
    # every ticket attached still has at least ticket_seconds - ticket_renew_seconds to run
    claims = verify_status_ticket(
        first,
        grant.token,
        grant.id,
        world.broker_key.verify_key,
        now=int(world.clock.now.timestamp()),
    )
    left = claims.expires_at - int(world.clock.now.timestamp())
    assert left >= rules.ticket_seconds - rules.ticket_renew_seconds
    world.clock.now = signed_at + dt.timedelta(seconds=rules.ticket_renew_seconds)
    renewed = ticket_of(world, grant.token)
    assert renewed != first
    assert (
        verify_status_ticket(
            renewed,
            grant.token,
            grant.id,
            world.broker_key.verify_key,
            now=int(world.clock.now.timestamp()),
        ).expires_at
        == int(world.clock.now.timestamp()) + rules.ticket_seconds
    )
    # a clock set back never makes an older ticket look young: a new one is signed
    world.clock.now = signed_at - dt.timedelta(seconds=5)
    assert ticket_of(world, grant.token) not in (first, renewed)


def test_a_suspended_grant_gets_no_ticket_held_for_it_and_a_reinstated_one_is_served(world):
    req = world.file(RSJ, request_for(POPULATION, ["name"]))
    grant = world.grant(req.grant_id)
    ticket_of(world, grant.token)
    asked = len(world.gat_node.seen)
    with world.sessions.begin() as s:
        world.services.sharing.change_grant_status(
            s, "authority", grant.id, "suspend", "security_risk", "bulk reads at night"
        )
    with pytest.raises(PermissionDenied) as err:
        world.relay(RSJ, GAT, grant.token, ["name"], {"keys": [KEY]})
    assert "suspended" in err.value.message
    assert len(world.gat_node.seen) == asked  # the held ticket never went out
    with world.sessions.begin() as s:
        world.services.sharing.change_grant_status(
            s, "authority", grant.id, "reinstate", "security_risk", "checked: a night shift"
        )
    again = ticket_of(world, grant.token)
    assert (
        verify_status_ticket(
            again,
            grant.token,
            grant.id,
            world.broker_key.verify_key,
            now=int(world.clock.now.timestamp()),
        ).status
        == "active"
    )
