"""Misuse findings (Art.27) over a real store with a controllable clock: calls beyond the
granted scope, idle grants and usage far above a grant's own history."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.integration.broker_fixtures import GAT, MZT, POPULATION, RSJ, World, request_for
from tongdao.broker.ledger.models import LedgerEntry
from tongdao.broker.ledger.refusals import RefusalRecorder
from tongdao.policies.loader import load_policy
from tongdao.proto.errors import PermissionDenied

POLICY = load_policy()
KEY = "230102199001011234"


@pytest.fixture
def world(database_url):
    w = World(database_url).setup()
    yield w
    w.engine.dispose()


def grant(world, fields=("name",), quota=500):
    req = world.file(RSJ, dataclasses.replace(request_for(POPULATION, fields), quota=quota))
    assert req.status == "approved"
    return world.grant(req.grant_id)


def detect(world):
    with world.sessions.begin() as s:
        return [
            (f.kind, f.grant_id, f.article, list(f.evidence))
            for f in world.services.findings.detect(s)
        ]


def visible(world, caller):
    with world.sessions.begin() as s:
        return [f.grant_id for f in world.services.findings.list_findings(s, caller)]


def kinds_of(entries, kind):
    return [e for e in entries if e[0] == kind]


def test_calls_beyond_the_grant_are_found_with_their_refusal_entries(world):
    g = grant(world)
    recorder = RefusalRecorder(
        world.sessions, world.services.ledger.chain, dt.timedelta(hours=1), clock=world.clock
    )
    sequences = []
    for fields, purpose in ((("birth_date",), "最低生活保障资格审核"), (("name",), "另一个目的")):
        with pytest.raises(PermissionDenied) as err:
            world.relay(RSJ, GAT, g.token, fields, {"keys": [KEY]}, purpose=purpose)
        recorder("/tongdao.v1.Query/Query", RSJ.code, err.value)  # as the interceptor does
        with world.sessions() as s:
            sequences.append(s.execute(select(func.max(LedgerEntry.sequence))).scalar_one())
    world.relay(RSJ, GAT, g.token, ("name",), {"keys": [KEY]})  # in scope: no finding
    found = detect(world)
    # a data item outside the grant, then another purpose than the grant's
    assert kinds_of(found, "out_of_scope") == [("out_of_scope", g.id, "Art.27", sequences[:1])]
    assert kinds_of(found, "beyond_purpose") == [("beyond_purpose", g.id, "Art.27", sequences[1:])]
    assert detect(world) == []  # recorded once
    assert visible(world, RSJ.code) == [g.id] * 2 and visible(world, GAT.code) == [g.id] * 2
    assert visible(world, MZT.code) == []


def test_a_grant_unused_for_the_idle_period_is_found_once(world):
    g = grant(world)
    idle = POLICY.period("grant_idle")
    world.relay(RSJ, GAT, g.token, ("name",), {"keys": [KEY]})
    used_on = world.clock.now.date()
    assert kinds_of(detect(world), "idle") == []
    due = idle.add_to(used_on)
    world.clock.now = dt.datetime.combine(due, dt.time(1), tzinfo=dt.UTC) - dt.timedelta(days=1)
    assert kinds_of(detect(world), "idle") == []
    world.clock.now += dt.timedelta(days=2)
    found = kinds_of(detect(world), "idle")
    assert [(k, gid, art) for k, gid, art, _ in found] == [("idle", g.id, idle.article)]
    with world.sessions() as s:
        entries = world.services.ledger.page(s, "authority", found[0][3][0], 1)[0]
    assert entries[0].kind == "query.relayed" and entries[0].subject == g.id
    assert kinds_of(detect(world), "idle") == []


def test_usage_far_above_the_grants_own_history_is_found(world):
    factor = POLICY.thresholds["usage_spike_factor"].value
    minimum = POLICY.thresholds["usage_spike_min_calls"].value
    steady, spiking = grant(world), grant(world)
    for _ in range(10):  # ten days of one call a day each, detection running every day
        for g in (steady, spiking):
            world.relay(RSJ, GAT, g.token, ("name",), {"keys": [KEY]})
        assert kinds_of(detect(world), "usage_spike") == []
        world.clock.now += dt.timedelta(days=1)
    burst = max(minimum, factor + 1)  # history averages one call a window
    for _ in range(burst):
        world.relay(RSJ, GAT, spiking.token, ("name",), {"keys": [KEY]})
        world.clock.now += dt.timedelta(minutes=1)
    for _ in range(2):
        world.relay(RSJ, GAT, steady.token, ("name",), {"keys": [KEY]})
    found = kinds_of(detect(world), "usage_spike")
    assert [(k, gid, art) for k, gid, art, _ in found] == [("usage_spike", spiking.id, "Art.27")]
    assert len(found[0][3]) == min(burst, 50)


def test_each_round_reads_only_the_entries_since_the_last(world):
    g = grant(world)
    recorder = RefusalRecorder(
        world.sessions, world.services.ledger.chain, dt.timedelta(seconds=0), clock=world.clock
    )

    def refuse() -> int:
        with pytest.raises(PermissionDenied) as err:
            world.relay(RSJ, GAT, g.token, ("birth_date",), {"keys": [KEY]})
        recorder("/tongdao.v1.Query/Query", RSJ.code, err.value)
        world.clock.now += dt.timedelta(seconds=1)
        with world.sessions() as s:
            return s.execute(select(func.max(LedgerEntry.sequence))).scalar_one()

    first = refuse()
    assert kinds_of(detect(world), "out_of_scope") == [("out_of_scope", g.id, "Art.27", [first])]
    second, third = refuse(), refuse()
    # the next round names only what came after the last one
    assert kinds_of(detect(world), "out_of_scope") == [
        ("out_of_scope", g.id, "Art.27", [second, third])
    ]
    assert detect(world) == []


def test_a_round_over_many_entries_is_read_in_short_batches_and_misses_none(world):
    g = grant(world)
    recorder = RefusalRecorder(
        world.sessions, world.services.ledger.chain, dt.timedelta(seconds=0), clock=world.clock
    )
    refused = []
    for _ in range(5):
        with pytest.raises(PermissionDenied) as err:
            world.relay(RSJ, GAT, g.token, ("birth_date",), {"keys": [KEY]})
        recorder("/tongdao.v1.Query/Query", RSJ.code, err.value)
        world.clock.now += dt.timedelta(seconds=1)
        with world.sessions() as s:
            refused.append(s.execute(select(func.max(LedgerEntry.sequence))).scalar_one())
    batches, evidence = [], []
    while True:  # as the broker's round does: each batch its own transaction
        with world.sessions.begin() as s:
            found, more = world.services.findings.detect_batch(s, batch=2)
        batches.append(more)
        evidence += [seq for f in found if f.kind == "out_of_scope" for seq in f.evidence]
        if not more:
            break
    assert len(batches) >= 3 and batches[-1] is False  # several batches, then caught up
    assert sorted(evidence) == refused  # every refusal is evidence of a finding, once
    assert detect(world) == []


def test_the_broker_s_scheduled_round_finds_refusals_and_idle_grants_once(world):
    from tongdao.broker.server import _detect_findings

    used, idle_one = grant(world), grant(world)
    world.relay(RSJ, GAT, used.token, ("name",), {"keys": [KEY]})
    recorder = RefusalRecorder(
        world.sessions, world.services.ledger.chain, dt.timedelta(seconds=0), clock=world.clock
    )
    with pytest.raises(PermissionDenied) as err:
        world.relay(RSJ, GAT, used.token, ("birth_date",), {"keys": [KEY]})
    recorder("/tongdao.v1.Query/Query", RSJ.code, err.value)
    assert _detect_findings(world.services, world.sessions) == 1  # the call beyond the grant
    due = POLICY.period("grant_idle").add_to(world.clock.now.date())
    world.clock.now = dt.datetime.combine(due, dt.time(1), tzinfo=dt.UTC) + dt.timedelta(days=1)
    assert _detect_findings(world.services, world.sessions) == 2  # both grants idle by now
    assert _detect_findings(world.services, world.sessions) == 0  # each found once
    with world.sessions() as s:
        found = world.services.findings.list_findings(s, "authority")
    assert sorted((f.kind, f.grant_id) for f in found) == sorted(
        [("out_of_scope", used.id), ("idle", used.id), ("idle", idle_one.id)]
    )


class _RecordingGrants:
    """The sharing context's port, recording what a round asks of it (and nothing else: asking
    for every grant fails)."""

    def __init__(self, sharing):
        self._sharing = sharing
        self.asked_by_id: list[set[str]] = []
        self.idle_asked = 0

    def grant_views_of(self, session, grant_ids):
        self.asked_by_id.append(set(grant_ids))
        return self._sharing.grant_views_of(session, grant_ids)

    def active_grant_views_unused_since(self, session, before):
        self.idle_asked += 1
        return self._sharing.active_grant_views_unused_since(session, before)


def test_a_round_reads_only_the_grants_its_entries_name_and_the_idle_candidates(world):
    from tongdao.broker.server import _detect_findings

    called, refused, *untouched = [grant(world) for _ in range(5)]
    recorder = RefusalRecorder(
        world.sessions, world.services.ledger.chain, dt.timedelta(seconds=0), clock=world.clock
    )
    _detect_findings(world.services, world.sessions)  # the issues are behind the cursor now
    port = _RecordingGrants(world.services.sharing)
    world.services.findings.grants = port
    world.relay(RSJ, GAT, called.token, ("name",), {"keys": [KEY]})
    with pytest.raises(PermissionDenied) as err:
        world.relay(RSJ, GAT, refused.token, ("birth_date",), {"keys": [KEY]})
    recorder("/tongdao.v1.Query/Query", RSJ.code, err.value)
    assert _detect_findings(world.services, world.sessions) == 1  # the call beyond the grant
    assert set().union(*port.asked_by_id) == {called.id, refused.id}  # not the three others
    assert port.idle_asked == 1

    # idle from the day the period ends, to the day, counted from the last use or the issue
    used_on = world.clock.now.date()
    due = POLICY.period("grant_idle").add_to(used_on)
    world.clock.now = dt.datetime.combine(due - dt.timedelta(days=1), dt.time(4), tzinfo=dt.UTC)
    assert _detect_findings(world.services, world.sessions) == 0
    world.clock.now = dt.datetime.combine(due, dt.time(4), tzinfo=dt.UTC)
    assert _detect_findings(world.services, world.sessions) == 5
    with world.sessions() as s:
        idle = {
            f.grant_id for f in world.services.findings.list_findings(s, "authority", kind="idle")
        }
    assert idle == {g.id for g in (called, refused, *untouched)}
    assert _detect_findings(world.services, world.sessions) == 0  # each found once
