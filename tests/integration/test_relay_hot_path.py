"""The relay's hot path: the grant found through an index, its state read for every query (a
suspension by another broker process is refused at once), and the ledger's group commit — one
transaction per batch, nobody answered before it commits, a failing unit failing alone."""

import json
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, func, select

from tests.integration.broker_fixtures import GAT, POPULATION, RSJ, World, request_for
from tongdao.broker.kernel.actor import Actor, acting_as
from tongdao.broker.kernel.db import make_engine, session_factory
from tongdao.broker.ledger.appending import new_entry
from tongdao.broker.ledger.chain import Ledger, verify_ledger
from tongdao.broker.ledger.models import LedgerEntry
from tongdao.broker.ledger.writer import LedgerWriter
from tongdao.broker.sharing.models import Grant
from tongdao.proto.errors import PermissionDenied, Unavailable
from tongdao.proto.turns import Turns

KEY = "230102199001011234"
FIELDS = ["name", "birth_date"]


@pytest.fixture
def world(database_url):
    w = World(database_url).setup()
    yield w
    w.engine.dispose()


def _grant(world):
    request = world.file(RSJ, request_for(POPULATION, FIELDS, ["fetch", "verify"]))
    return world.grant(request.grant_id)


def _grant_lookup_plans(world, token):
    """The SQLite query plans of the statements on ``grants`` that one relayed query runs."""
    statements = []

    def seen(_conn, _cursor, sql, params, _context, _many):
        if "FROM grants" in sql:
            statements.append((sql, params))

    event.listen(world.engine, "before_cursor_execute", seen)
    try:
        world.relay(RSJ, GAT, token, FIELDS, {"keys": [KEY]})
    finally:
        event.remove(world.engine, "before_cursor_execute", seen)
    database = world.engine.url.database
    with sqlite3.connect(database) as raw:
        return [
            " ".join(row[-1] for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params))
            for sql, params in statements
        ]


def test_the_grant_of_a_query_is_found_through_an_index_not_a_scan(tmp_path):
    world = World(f"sqlite:///{tmp_path / 'broker.db'}").setup()
    token = _grant(world).token
    plans = _grant_lookup_plans(world, token)
    assert plans, "the relay reads the grant"
    assert all("SCAN" not in plan for plan in plans), plans
    assert any("ix_grants_token" in plan for plan in plans), plans
    # the same check on the schema before the index (migration 0014 added only it) reads
    # every grant ever issued
    with world.engine.begin() as connection:
        connection.exec_driver_sql("DROP INDEX ix_grants_token")
    assert any("SCAN grants" in plan for plan in _grant_lookup_plans(world, token))
    world.engine.dispose()


def test_a_grant_suspended_by_another_broker_is_refused_on_the_very_next_query(world, database_url):
    grant = _grant(world)
    world.relay(RSJ, GAT, grant.token, FIELDS, {"keys": [KEY]})  # the grant read once
    other = World(database_url)  # a second broker: its own engine and services, one store
    try:
        with other.sessions.begin() as s:
            other.services.sharing.change_grant_status(
                s, GAT.code, grant.id, "suspend", "security_risk", "bulk reads at night"
            )
        with pytest.raises(PermissionDenied, match="suspended"):
            world.relay(RSJ, GAT, grant.token, FIELDS, {"keys": [KEY]})
        with other.sessions.begin() as s:
            other.services.sharing.change_grant_status(
                s, GAT.code, grant.id, "reinstate", "security_risk", "explained"
            )
        world.relay(RSJ, GAT, grant.token, FIELDS, {"keys": [KEY]})
        # its quota used up elsewhere: refused here at once too
        with other.sessions.begin() as s:
            row = s.get(Grant, grant.id)
            row.used = row.quota
        with pytest.raises(PermissionDenied, match="quota"):
            world.relay(RSJ, GAT, grant.token, FIELDS, {"keys": [KEY]})
    finally:
        other.engine.dispose()


def _commits(engine):
    counted = []
    event.listen(engine, "commit", lambda _conn: counted.append(1))
    return counted


def test_concurrent_queries_are_group_committed_and_every_acknowledged_one_is_stored(
    world, database_url
):
    grant = _grant(world)
    writer = LedgerWriter(world.sessions, world.services.relay.ledger)
    world.services.relay.writer = writer
    commits = _commits(world.engine)
    calls = 64

    def one(_):
        with acting_as(Actor(RSJ.code, "li.si", ("operator",))):
            query, (_answer, sequence) = world.relay(RSJ, GAT, grant.token, FIELDS, {"keys": [KEY]})
        return query.request_id, sequence

    try:
        with ThreadPoolExecutor(16) as pool:
            acknowledged = list(pool.map(one, range(calls)))
    finally:
        writer.close()
    assert len({sequence for _, sequence in acknowledged}) == calls
    assert len(commits) < calls  # batches, not one transaction per query
    # read back through another engine: every acknowledged entry is stored, counted once
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as s:
            for request_id, sequence in acknowledged:
                entry = s.get(LedgerEntry, sequence)
                payload = json.loads(entry.payload_json)
                assert entry.kind == "query.relayed" and payload["request_id"] == request_id
                assert payload["responsible"]["person"] == "li.si"  # the caller's, not the thread's
            assert s.get(Grant, grant.id).used == calls
            assert verify_ledger(s, world.broker_key.verify_key).ok
    finally:
        engine.dispose()


def test_a_failing_unit_fails_alone_and_the_others_in_its_batch_are_committed(world):
    ledger = world.services.relay.ledger
    writer = LedgerWriter(world.sessions, ledger)
    with world.sessions() as s:
        before = s.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()
    hold = threading.Event()

    def blocker(session):
        hold.wait(10)  # the units below queue meanwhile: they form the next batch
        return ledger.append(
            session, kind="test.entry", actor="a", subject="0", payload={}
        ).sequence

    def good(n):
        return lambda session: (
            ledger.append(
                session, kind="test.entry", actor="a", subject=str(n), payload={}
            ).sequence
        )

    def bad(session):
        ledger.append(session, kind="test.entry", actor="a", subject="bad", payload={})
        raise ValueError("this unit fails after appending")

    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(writer.run, blocker)
        time.sleep(0.2)
        units = [good(1), good(2), bad, good(3), good(4)]
        futures = [pool.submit(writer.run, unit) for unit in units]
        time.sleep(0.3)
        hold.set()
        first.result(30)
        with pytest.raises(ValueError, match="fails after appending"):
            futures[2].result(30)
        sequences = [f.result(30) for i, f in enumerate(futures) if i != 2]
    writer.close()
    assert sorted(sequences) == list(range(before + 2, before + 6))
    with world.sessions() as s:
        subjects = s.execute(
            select(LedgerEntry.subject).where(LedgerEntry.kind == "test.entry")
        ).scalars()
        assert sorted(subjects) == ["0", "1", "2", "3", "4"]
        assert verify_ledger(s, world.broker_key.verify_key).ok


def test_two_writers_on_one_store_write_one_chain(world, database_url):
    """Two broker processes' writers (two engines) append at once: one linear, verified chain."""
    other_engine = make_engine(database_url)
    other_sessions = session_factory(other_engine)
    key = world.broker_key
    writers = [
        LedgerWriter(world.sessions, Ledger(key)),
        LedgerWriter(other_sessions, Ledger(key)),
    ]
    with world.sessions() as s:
        before = s.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()

    def append(n):
        writer = writers[n % 2]
        return writer.run(
            lambda session: (
                writer.ledger.append(
                    session, kind="test.entry", actor="a", subject=str(n), payload={}
                ).sequence
            )
        )

    with ThreadPoolExecutor(12) as pool:
        sequences = list(pool.map(append, range(120)))
    for writer in writers:
        writer.close()
    assert sorted(sequences) == list(range(before + 1, before + 121))
    with world.sessions() as s:
        assert verify_ledger(s, key.verify_key).ok
    other_engine.dispose()


def test_batched_items_queued_together_run_in_one_call_and_a_failing_one_fails_alone(world):
    ledger = world.services.relay.ledger
    writer = LedgerWriter(world.sessions, ledger)
    hold = threading.Event()
    calls: list[list[str]] = []

    def blocker(session):
        hold.wait(10)  # what queues meanwhile is the next batch
        return "blocker"

    def append_all(session, subjects):
        calls.append(list(subjects))
        if "bad" in subjects:
            raise ValueError("a batch holding 'bad' fails")
        made = [new_entry(kind="test.entry", actor="a", subject=s, payload={}) for s in subjects]
        return [row["sequence"] for row in ledger.append_new(session, made)]

    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(writer.run, blocker)
        time.sleep(0.2)
        futures = []
        for subject in ("1", "2", "bad", "3"):
            futures.append(pool.submit(writer.run_batched, append_all, subject))
            time.sleep(0.05)  # queued in this order
        time.sleep(0.3)
        hold.set()
        assert first.result(30) == "blocker"
        with pytest.raises(ValueError, match="holding 'bad'"):
            futures[2].result(30)
        sequences = [f.result(30) for i, f in enumerate(futures) if i != 2]
    writer.close()
    # one call for the four queued together; it failed, so each ran again alone
    assert calls[0] == ["1", "2", "bad", "3"]
    assert sorted(map(tuple, calls[1:])) == [("1",), ("2",), ("3",), ("bad",)]
    assert sequences == sorted(sequences) and len(set(sequences)) == 3
    with world.sessions() as s:
        subjects = s.execute(
            select(LedgerEntry.subject).where(LedgerEntry.kind == "test.entry")
        ).scalars()
        assert sorted(subjects) == ["1", "2", "3"]
        assert verify_ledger(s, world.broker_key.verify_key).ok


def test_answers_appended_together_chain_and_index_as_one_by_one(world):
    """A run of answers appended in one call gives the chain, tree and request index that
    appending them one at a time gives: verified, each request id indexed once."""
    ledger = world.services.relay.ledger
    made = [
        new_entry(
            kind="query.relayed",
            actor=RSJ.code,
            subject="g",
            payload={"request_id": f"{n:032x}", "receipt_verified": True},
        )
        for n in (1, 2, 2, 3)  # a request id twice: indexed at its first answer
    ]
    with world.sessions.begin() as s:
        rows = ledger.append_new(s, made)
    with world.sessions() as s:
        assert verify_ledger(s, world.broker_key.verify_key).ok
        found = ledger.recorded_answers(s, [f"{n:032x}" for n in (1, 2, 3, 4)])
    sequences = [row["sequence"] for row in rows]
    first = {f"{1:032x}": sequences[0], f"{2:032x}": sequences[1], f"{3:032x}": sequences[3]}
    assert {r: seq for r, (seq, _, _) in found.items()} == first


class _ThreadDies(BaseException):
    """Not an error of a unit: what stops a thread (as SystemExit would)."""


def _until_waiting(writer, n):
    """Wait until ``n`` calls wait for the batch after the one being committed (the order the
    test submits in is then the order they queue in, however slow the machine)."""
    deadline = time.monotonic() + 10
    while len(writer._waiting) != n or not writer._leading:
        assert time.monotonic() < deadline, f"{len(writer._waiting)} calls waiting, not {n}"
        time.sleep(0.01)
    time.sleep(0.05)


def test_a_leader_stopped_mid_batch_answers_its_batch_and_hands_the_next_one_on(world):
    ledger = world.services.relay.ledger
    writer = LedgerWriter(world.sessions, ledger)
    hold, dying_holds = threading.Event(), threading.Event()

    def blocker(session):
        hold.wait(10)  # the two calls below queue meanwhile: they form the next batch
        return "blocker"

    def dying(session):
        dying_holds.wait(10)  # the last call queues meanwhile: the batch after
        raise _ThreadDies()

    def good(subject):
        return lambda session: (
            ledger.append(
                session, kind="test.entry", actor="a", subject=subject, payload={}
            ).sequence
        )

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(writer.run, blocker)
        _until_waiting(writer, 0)  # the blocker leads
        leading = pool.submit(writer.run, dying)
        _until_waiting(writer, 1)
        in_batch = pool.submit(writer.run, good("in the stopped batch"))
        _until_waiting(writer, 2)
        hold.set()
        assert first.result(30) == "blocker"
        _until_waiting(writer, 0)  # the dying call leads the two
        after = pool.submit(writer.run, good("after"))
        _until_waiting(writer, 1)
        dying_holds.set()
        with pytest.raises(_ThreadDies):  # raised in the thread it stops, no other
            leading.result(30)
        with pytest.raises(Unavailable, match="ledger writer stopped"):
            in_batch.result(30)  # answered, not left waiting for ever; nothing of it kept
        sequence = after.result(30)  # the next batch is led by its own caller and commits
    assert writer.run(good("later")) == sequence + 1  # and so on
    writer.close()
    with world.sessions() as s:
        subjects = s.execute(
            select(LedgerEntry.subject).where(LedgerEntry.kind == "test.entry")
        ).scalars()
        assert sorted(subjects) == ["after", "later"]
        assert verify_ledger(s, world.broker_key.verify_key).ok


def test_a_lone_call_commits_in_its_own_thread_and_close_waits_for_the_batch(world):
    ledger = world.services.relay.ledger
    writer = LedgerWriter(world.sessions, ledger)
    seen = []

    def unit(session):
        seen.append(threading.get_ident())
        return ledger.append(session, kind="test.entry", actor="a", subject="1", payload={})

    writer.run(unit)
    assert seen == [threading.get_ident()]  # no hand-off to a thread of the writer's
    before = threading.active_count()
    hold = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(writer.run, lambda session: hold.wait(10))
        _until_waiting(writer, 0)  # it leads its batch
        closing = threading.Thread(target=writer.close)
        closing.start()
        time.sleep(0.2)
        assert closing.is_alive()  # close waits for the batch being committed
        hold.set()
        closing.join(10)
        assert running.result(10) is True and not closing.is_alive()
    assert threading.active_count() <= before
    writer.run(unit)  # after close: commits on its own
    assert len(seen) == 2


def test_queries_in_turns_wait_for_the_node_and_the_writer_without_one(world):
    """Sixteen relays, each run in a turn as the Query call is: the node's answers overlap (each
    caller gives its turn up while its node works) and the writer, which takes turns for its
    statements, commits them all; nobody deadlocks."""
    grant = _grant(world)
    turns = Turns()
    writer = LedgerWriter(world.sessions, world.services.relay.ledger, turns=turns)
    world.services.relay.writer = writer
    world.services.relay.turns = turns
    node, busy, most = world.gat_node, [0], [0]
    lock = threading.Lock()

    class SlowNode:
        def query(self, endpoint, query):
            assert not turns.held()
            with lock:
                busy[0] += 1
                most[0] = max(most[0], busy[0])
            time.sleep(0.05)
            with lock:
                busy[0] -= 1
            return node.query(endpoint, query)

    def one(_):
        with acting_as(Actor(RSJ.code, "li.si", ("operator",))), turns.turn():
            _query, (_answer, sequence) = world.relay(
                RSJ, GAT, grant.token, FIELDS, {"keys": [KEY]}, node=SlowNode()
            )
        return sequence

    try:
        with ThreadPoolExecutor(16) as pool:
            sequences = list(pool.map(one, range(16), timeout=60))
    finally:
        writer.close()
    assert len(set(sequences)) == 16
    assert most[0] > 1  # the node calls overlapped: no turn was held across them
    assert world.grant(grant.id).used == 16
