"""The daily reconciliation's rules over a real store (SQLite, and PostgreSQL when reachable):
periods from the rule file, holdings compared with the previous reconciliation, a report that
does not verify, a node that cannot be reached."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from tests.integration.broker_fixtures import GAT, World
from tongdao.broker.supervision.reconciliation import (
    NodeReport,
    NodeTarget,
    Reconciler,
    ReportedEntry,
    ReportedGrant,
)
from tongdao.node.reconciliation import build_report
from tongdao.policies.loader import load_policy
from tongdao.policies.model import ReconciliationRules

RULES = load_policy().reconciliation
assert RULES is not None
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
KEY = bytes(range(32))


class Rows:
    def __init__(self, rows):
        self.data = rows

    def rows(self):
        return iter(self.data)


class FakeNodes:
    """Builds the node's real signed report from in-memory holdings."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.rows = [{"id": "1", "name": "甲"}, {"id": "2", "name": "乙"}]
        self.down = False
        self.tamper = False

    def report(self, endpoint, period_start, period_end) -> NodeReport:
        if self.down:
            raise ConnectionError(f"node {endpoint}: UNAVAILABLE")
        r = build_report(
            department=GAT.code,
            signing_key=GAT.sig,
            key=KEY,
            sources={"gat.population": Rows(self.rows)},
            journal=None,
            period_start=period_start,
            period_end=period_end,
            now=self.world.clock(),
        )
        entries = tuple(
            ReportedEntry(e.entry_code, e.record_count, e.content_digest) for e in r.entries
        )
        if self.tamper:  # altered after signing
            entries = tuple(
                dataclasses.replace(e, record_count=e.record_count + 1) for e in entries
            )
        return NodeReport(
            r.department,
            r.period_start,
            r.period_end,
            r.reported_at,
            r.key_id,
            entries,
            tuple(
                ReportedGrant(g.grant_id, g.answered, g.request_ids_digest, g.request_ids)
                for g in r.grants
            ),
            r.signature,
        )


@pytest.fixture
def world(database_url):
    w = World(database_url, start=dt.datetime(2026, 12, 2, 1, 0, tzinfo=SHANGHAI)).setup()
    yield w
    w.engine.dispose()


def reconciler(world: World, nodes: FakeNodes, rules: ReconciliationRules = RULES) -> Reconciler:
    s = world.services
    return Reconciler(
        kernel=s.kernel,
        ledger=s.ledger.chain,
        directory=s.directory,
        rules=rules,
        nodes=lambda _session: [NodeTarget(GAT.code, "node-gat:1", GAT.sig.verify_key)],
        gateway=nodes,
        grants=s.sharing.grant_views,
        usage=s.sharing.usage_counts,
        versions=s.catalogue.current_versions,
    )


def test_periods_come_from_the_rule_file(world):
    nodes = FakeNodes(world)
    daily = reconciler(world, nodes).period_of()
    assert (daily.start, daily.end) == (
        dt.datetime(2026, 12, 1, tzinfo=SHANGHAI),
        dt.datetime(2026, 12, 2, tzinfo=SHANGHAI),
    )
    six = reconciler(world, nodes, ReconciliationRules(6, 10, "Art.19"))
    world.clock.now = dt.datetime(2026, 12, 2, 13, 5, tzinfo=SHANGHAI)  # within the settling time
    p = six.period_of()
    assert (p.start.hour, p.end.hour) == (6, 12) and p.start.date() == dt.date(2026, 12, 2)
    assert (
        reconciler(world, nodes).period_of("2026-11-30").start_text == "2026-11-29T16:00:00+00:00"
    )


def test_holdings_are_compared_with_the_previous_reconciliation(world):
    nodes = FakeNodes(world)
    r = reconciler(world, nodes)
    (first,) = r.run_due(world.sessions).nodes
    assert first.status == "clean" and first.entries[0].previous_record_count == -1
    nodes.rows = [*nodes.rows, {"id": "3", "name": "丙"}]
    world.clock.now += dt.timedelta(days=1)
    (second,) = r.run_due(world.sessions).nodes
    (e,) = second.entries
    assert (e.record_count, e.previous_record_count, e.changed) == (3, 2, True)
    assert e.catalogue_version == 1 and not e.catalogue_updated
    assert second.status == "clean"  # contents change; that alone is no finding
    world.clock.now += dt.timedelta(days=1)
    (third,) = r.run_due(world.sessions).nodes
    assert not third.entries[0].changed


def test_a_report_that_does_not_verify_is_recorded_as_such(world):
    nodes = FakeNodes(world)
    nodes.tamper = True
    (node,) = reconciler(world, nodes).run_due(world.sessions).nodes
    assert node.status == "bad_report" and node.sequence and not node.findings
    assert not node.entries and not node.grants


def test_a_node_that_cannot_be_reached_is_asked_again(world):
    nodes = FakeNodes(world)
    nodes.down = True
    r = reconciler(world, nodes)
    (node,) = r.run_due(world.sessions).nodes
    assert node.status == "unavailable" and not node.sequence
    (shown,) = r.reconcile(world.sessions, r.period_of(), run=False).nodes
    assert shown.status == "not_reconciled"
    nodes.down = False
    done = r.run_due(world.sessions)
    assert done.reconciled == 1 and done.nodes[0].status == "clean"
