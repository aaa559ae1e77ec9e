"""The daily reconciliation (对账, Art.19) over real gRPC with a controllable clock: a clean day
reconciles; a tampered node journal and an answer missing from the ledger each yield a finding
naming the grant, the node and the evidence. And a relay slower than the journal
reconciliation's margin is recorded once."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid

import pytest
from sqlalchemy import select, update

from tongdao.broker.ledger.models import LedgerEntry, LedgerJournalCursor
from tongdao.cli import main
from tongdao.crypto.query_binding import receipt_signing_bytes
from tongdao.node.state import STATE_FILE
from tongdao.policies.loader import load_policy
from tongdao.proto.query import Receipt
from tongdao.v1 import supervision_pb2

from .stack import BASIS, PURPOSE, SCENARIO, start_stack

GAT = "hlj.gat"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
RULES = load_policy().reconciliation
assert RULES is not None
ARTICLE = RULES.article


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


# days ahead of today: certificates are checked against the broker's (controlled) clock
TODAY = dt.datetime.now(SHANGHAI).date()


def day_ahead(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    clock = Clock(dt.datetime.combine(day_ahead(1), dt.time(9), SHANGHAI))
    tmp = tmp_path_factory.mktemp("reconcile")
    stack = start_stack(tmp, records=20, clock=clock)
    yield stack, clock, tmp
    stack.stop()


def day_of(clock: Clock, day: dt.date, hour: int = 10) -> None:
    clock.now = dt.datetime.combine(day, dt.time(hour), SHANGHAI)


def after(clock: Clock, day: dt.date) -> None:
    """Just past the period of ``day`` and its settling time."""
    clock.now = dt.datetime.combine(
        day + dt.timedelta(days=1), dt.time(0), SHANGHAI
    ) + dt.timedelta(minutes=RULES.settle_minutes + 1)


def new_grant(stack):
    with stack.consumer() as client:
        req = client.file_share_request(
            "gat.population", ["gender"], ["fetch"], PURPOSE, SCENARIO, BASIS, quota=50
        )
        assert req.status == "approved"
        return client.get_grant(req.grant_id).token, req.grant_id


def fetch(stack, token, n):
    with stack.consumer() as client:
        for i in range(n):
            client.fetch(token, [stack.people[i]["id_number"]], ["gender"], PURPOSE)


def reconcile(stack, day: dt.date, run=True):
    return stack.stub("authority").supervision.Reconcile(
        supervision_pb2.ReconcileRequest(day=day.isoformat(), run=run), timeout=60
    )


def node_of(reply, code=GAT):
    (node,) = [n for n in reply.nodes if n.node == code]
    return node


def grant_of(node, grant_id):
    (g,) = [g for g in node.grants if g.grant_id == grant_id]
    return g


def journal(tmp):
    return sqlite3.connect(tmp / f"state-{GAT}" / STATE_FILE, isolation_level=None)


def journal_ids(tmp, grant_id):
    with journal(tmp) as db:
        return [
            r[0]
            for r in db.execute("SELECT request_id FROM receipts WHERE grant_id = ?", (grant_id,))
        ]


def entries(stack, kind):
    with stack_sessions(stack)() as s:
        return list(s.execute(select(LedgerEntry).where(LedgerEntry.kind == kind)).scalars())


def stack_sessions(stack):
    return stack.broker.ledger_rounds.sessions


def findings(stack, grant_id):
    return (
        stack.stub("authority")
        .supervision.ListFindings(
            supervision_pb2.ListFindingsRequest(grant_id=grant_id), timeout=30
        )
        .findings
    )


def test_a_clean_day_reconciles_and_is_recorded_once(world, capsys):
    stack, clock, _ = world
    day = day_ahead(1)
    day_of(clock, day)
    token, grant_id = new_grant(stack)
    fetch(stack, token, 3)
    early = stack.stub("authority").supervision
    with pytest.raises(Exception) as err:  # the period is not over yet
        early.Reconcile(supervision_pb2.ReconcileRequest(day=day.isoformat(), run=True))
    assert "not over yet" in str(err.value)
    after(clock, day)
    reply = reconcile(stack, day)
    assert reply.article == ARTICLE and reply.period_start == (
        dt.datetime.combine(day, dt.time(), SHANGHAI).astimezone(dt.UTC).isoformat()
    )
    node = node_of(reply)
    assert node.status == "clean" and node.sequence and not node.findings, node
    g = grant_of(node, grant_id)
    assert (g.node_answered, g.ledger_relayed, g.ledger_late) == (3, 3, 0)
    assert not g.answered_not_relayed and not g.relayed_not_answered
    (population,) = [e for e in node.entries if e.entry_code == "gat.population"]
    assert population.record_count == 20 and len(population.content_digest) == 64
    # the same data as at any earlier reconciliation (the rounds may have reconciled the day
    # before at start-up): not changed
    assert population.previous_record_count in (-1, 20) and not population.changed
    assert all(n.status == "clean" for n in reply.nodes), reply.nodes
    # the record is a ledger entry holding the node's signed report, and it is made once
    again = reconcile(stack, day)
    assert again.reconciled == 0 and node_of(again).sequence == node.sequence
    recorded = [
        e for e in entries(stack, "reconciliation.recorded") if e.subject.startswith(f"{GAT}/")
    ]
    payload = json.loads(recorded[-1].payload_json)
    assert payload["status"] == "clean" and payload["report_signature"]
    assert payload["articles"] == [ARTICLE]
    capsys.readouterr()
    home = ["--home", str(stack.home.root), "--broker", stack.broker.target]
    assert main(["supervise", "reconcile", "--day", day.isoformat(), *home]) == 0
    out = capsys.readouterr().out
    assert f"node {GAT}: clean" in out and grant_id in out and "20 records" in out
    assert (
        main(["supervise", "reconcile", "--day", day.isoformat(), "--locale", "zh-CN", *home]) == 0
    )
    out = capsys.readouterr().out
    assert f"节点 {GAT}：一致" in out and " UTC .. " in out  # the day's bounds to the minute


def test_a_tampered_node_journal_yields_findings_naming_grant_node_and_evidence(world):
    stack, clock, tmp = world
    day = day_ahead(2)
    day_of(clock, day)
    token, grant_id = new_grant(stack)
    fetch(stack, token, 2)
    original = sorted(journal_ids(tmp, grant_id))[0]
    forged = str(uuid.uuid4())
    with journal(tmp) as db:  # somebody rewrites a line of the node's journal
        db.execute("UPDATE receipts SET request_id = ? WHERE request_id = ?", (forged, original))
    after(clock, day)
    node = node_of(reconcile(stack, day))
    assert node.status == "mismatch" and len(node.findings) == 2, node
    g = grant_of(node, grant_id)
    assert list(g.answered_not_relayed) == [forged]
    assert list(g.relayed_not_answered) == [original]
    relayed = [
        e.sequence
        for e in entries(stack, "query.relayed")
        if json.loads(e.payload_json)["request_id"] == original
    ]
    found = {f.kind: f for f in findings(stack, grant_id)}
    assert set(found) == {"answered_not_relayed", "relayed_not_answered"}
    for f in found.values():
        assert f.provider == GAT and f.consumer == "hrb.rsj" and f.article == ARTICLE
        assert f.evidence[0] == node.sequence  # the reconciliation entry with the signed report
    assert forged in found["answered_not_relayed"].detail
    assert original in found["relayed_not_answered"].detail
    assert list(found["relayed_not_answered"].evidence) == [node.sequence, *relayed]


def test_an_answer_missing_from_the_ledger_yields_a_finding(world, capsys):
    stack, clock, _ = world
    day = day_ahead(3)
    day_of(clock, day)
    token, grant_id = new_grant(stack)
    fetch(stack, token, 1)
    # the broker's ledger misses an answer: its journal cursor is past the node's line
    with stack_sessions(stack).begin() as s:
        s.execute(update(LedgerJournalCursor).values(position=10**6))
        if not s.get(LedgerJournalCursor, GAT):
            s.add(LedgerJournalCursor(node=GAT, position=10**6))
    missing = str(uuid.uuid4())
    key = stack.home.signing_key(GAT)
    at = clock.now.astimezone(dt.UTC).isoformat(timespec="seconds")
    fields = dict(
        request_id=missing,
        grant_id=grant_id,
        provider=GAT,
        result_digest=b"\0" * 32,
        record_count=1,
        answered_at=at,
    )
    signature = key.sign(receipt_signing_bytes(**fields))
    stack.nodes[GAT].engine.journal.record("fetch", Receipt(**fields, signature=signature))
    after(clock, day)
    node = node_of(reconcile(stack, day))
    g = grant_of(node, grant_id)
    assert node.status == "mismatch" and list(g.answered_not_relayed) == [missing]
    assert (g.node_answered, g.ledger_relayed) == (2, 1)
    (f,) = [f for f in findings(stack, grant_id) if f.kind == "answered_not_relayed"]
    assert missing in f.detail and GAT in f.detail and list(f.evidence) == [node.sequence]
    capsys.readouterr()
    home = ["--home", str(stack.home.root), "--broker", stack.broker.target]
    code = main(["supervise", "reconcile", "--day", day.isoformat(), "--json", *home])
    shown = json.loads(capsys.readouterr().out)
    assert code == 1 and any(n.get("status") == "mismatch" for n in shown["nodes"])


def test_a_relay_slower_than_the_margin_is_recorded_once(world):
    stack, clock, _ = world
    day_of(clock, day_ahead(4))
    token, grant_id = new_grant(stack)
    gateway = stack.broker.gateway
    rounds = stack.broker.ledger_rounds
    relay = gateway.query

    def slow(endpoint, query):
        answer = relay(endpoint, query)
        # the node has answered; before the relay records it, a reconciliation round reads the
        # node's journal and records the answer late
        with rounds.sessions() as s:
            nodes = list(rounds.nodes(s))
        rounds.keeper.reconcile(
            rounds.sessions, nodes, answered_before=dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
        )
        return answer

    with rounds.sessions.begin() as s:  # read the journal from its start
        s.execute(update(LedgerJournalCursor).values(position=0))
    gateway.query = slow  # type: ignore[method-assign]
    try:
        fetch(stack, token, 1)
    finally:
        del gateway.query
    answered = [
        e
        for kind in ("query.relayed", "query.relayed_late")
        for e in entries(stack, kind)
        if json.loads(e.payload_json)["grant_id"] == grant_id
    ]
    assert [e.kind for e in answered] == ["query.relayed_late"], answered
    with stack_sessions(stack)() as s:
        assert stack.broker.services.sharing.grant(s, grant_id).used == 1
