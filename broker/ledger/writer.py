"""Group commit of ledger appends: many callers' entries, one transaction, one fsync and one head
signature per batch, and nobody answered before the batch holding their entry has committed.

A caller submits a unit of work — a function of a session that appends (and may count a grant's
use) — and waits for its result. The first caller to find no batch in progress *leads*: in its
own thread it opens one transaction, takes the ledger head's lock once, runs every unit waiting,
signs the head once and commits; then it answers the batch's other callers and hands the next
batch to the first caller still waiting. Callers that arrive meanwhile wait for that next batch.
Only after the commit returns are the callers answered, so an acknowledged entry is on disk
(SQLite WAL with ``synchronous=FULL``; PostgreSQL's commit). When a unit raises, or the commit
fails, nothing of the batch is kept and no one is answered from it: each unit is run again in a
transaction of its own, so a failing unit's caller gets its error and the others their entries
(a unit is a function of the session alone, so running it again is safe). Several broker
processes on one PostgreSQL database still queue on the head row's lock, so their batches are
serialised into one chain.

A unit may also be one item of a batched work — a function of a session and a list of items,
answering each — submitted with :meth:`LedgerWriter.run_batched`: consecutive items of the same
batched work are run in one call, so a batch of relayed answers is one statement per table, not
one per answer. Such a function must not read the caller's context (who is acting): what depends
on it is in the item, made in the caller's thread. A unit submitted with :meth:`LedgerWriter.run`
runs in its own caller's context, whichever thread leads.

Batching costs a caller no waiting of its own: a leader never waits for a batch to fill; what
queued while the previous batch committed is the next batch. No thread of its own is involved:
the leader is a caller, so a batch costs no hand-off to another thread and back.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.ledger.chain import Ledger
from tongdao.policies.i18n import msg
from tongdao.proto.errors import Unavailable
from tongdao.proto.turns import NO_TURNS, Turns

T = TypeVar("T")
V = TypeVar("V")
log = logging.getLogger("tongdao.broker.ledger")
Work = Callable[[Session], Any]
BatchedWork = Callable[[Session, list[Any]], list[Any]]
"""Runs many callers' items in one call; returns one result per item, in order."""


@dataclass(eq=False)
class _Item:
    work: Work
    # the caller's context (who is acting, for the entry's ``responsible``)
    context: contextvars.Context
    woken: threading.Condition
    # an item of a batched work: run with its neighbours of the same work in one call
    batched: BatchedWork | None = None
    value: Any = None
    done: bool = False
    lead: bool = False  # asked to lead the next batch
    failed: bool = False
    outcome: Any = None


class LedgerWriter:
    """The group commit of a broker's relayed queries' ledger entries, led by its callers."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        ledger: Ledger,
        *,
        max_batch: int = 256,
        turns: Turns = NO_TURNS,
    ) -> None:
        self.sessions = sessions
        self.ledger = ledger
        self.max_batch = max_batch
        # a caller waiting for its batch gives its turn up (tongdao.proto.turns)
        self._turns = turns
        self._lock = threading.Lock()
        self._waiting: list[_Item] = []
        self._leading = False
        self._idle = threading.Condition(self._lock)  # no batch led and none waiting
        self._closed = False

    def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in the next batch and return its result once that batch has committed.

        Raises:
            Whatever ``work`` raised (nothing of it was kept), or the commit's error.
        """
        return self._submit(self._item(work))

    def run_batched(self, batched: Callable[[Session, list[V]], list[T]], value: V) -> T:
        """Run ``value`` as one item of ``batched`` in the next batch, together with the other
        callers' items of the same work queued next to it; return its result once committed.

        Raises:
            Whatever ``batched`` raised for a batch of this item alone (nothing of it was
            kept), or the commit's error.
        """

        def alone(session: Session) -> T:
            return batched(session, [value])[0]

        item = self._item(alone)
        item.batched, item.value = batched, value
        return self._submit(item)

    def close(self) -> None:
        """Wait for the batch being committed and those queued; later calls commit alone."""
        with self._lock:
            self._closed = True
            while self._leading or self._waiting:
                self._idle.wait()

    # ------------------------------------------------------------------ leading and waiting

    def _item(self, work: Work) -> _Item:
        return _Item(work, contextvars.copy_context(), threading.Condition(self._lock))

    def _submit(self, item: _Item) -> Any:
        with self._lock:
            alone = self._closed
            if not alone:
                self._waiting.append(item)
                if not self._leading:
                    self._leading = item.lead = True
        if alone:
            return self._run_alone(item.work)
        if not item.lead:
            with self._turns.waiting(), self._lock:
                while not (item.done or item.lead):
                    item.woken.wait()
        if not item.done:  # asked to lead: in this caller's turn, if it holds one
            self._lead()
        if item.failed:
            raise item.outcome
        return item.outcome

    def _lead(self) -> None:
        """Commit the waiting items as one batch, answer them, and hand the next batch on.

        The batch's statements run in a turn (the leader's own, when it holds one); the commit
        (its fsync), any rerun of the units alone and the answers run without one, and nothing
        waits for a turn while the store's write lock is held."""
        with self._lock:
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
        answers: list[tuple[bool, Any]] | None = None
        try:
            with self.sessions() as session:
                with self._turns.turn():
                    failure, results = self._statements(batch, session)
                with self._turns.waiting():
                    answers = self._commit(batch, session, failure, results)
                    self._finish(batch, answers)
        except BaseException:  # the leading thread itself is stopped (not a unit's error)
            if answers is None:
                log.critical("a ledger batch was stopped before it committed; its calls retry")
                stopped = Unavailable(
                    msg("the broker's ledger writer stopped before recording this call; try again")
                )
                self._finish(batch, [(True, stopped)] * len(batch))
            raise

    def _statements(
        self, batch: list[_Item], session: Session
    ) -> tuple[Exception | None, list[Any]]:
        """Run the batch's units under one head lock and one signature: (None, their results),
        or (what a unit raised, [])."""
        results: list[Any] = []
        try:
            with self.ledger.one_signature(session):
                Ledger.lock(session)  # every unit below appends under this one lock
                for run in _runs(batch):
                    results.extend(self._run(run, session))
            session.flush()
        except Exception as exc:
            return exc, []
        return None, results

    def _commit(
        self, batch: list[_Item], session: Session, failure: Exception | None, results: list[Any]
    ) -> list[tuple[bool, Any]]:
        """Commit the batch; when a unit or the commit failed, roll back and run each alone."""
        if failure is None:
            try:
                session.commit()
                return [(False, r) for r in results]
            except Exception as exc:
                failure = exc
        session.rollback()
        return self._each_alone(batch, failure)

    def _each_alone(self, batch: list[_Item], exc: Exception) -> list[tuple[bool, Any]]:
        if len(batch) == 1:
            return [(True, exc)]
        # a unit failed, or the commit did: nothing of the batch is kept; each unit is run
        # again in a transaction of its own, so one unit's failure is its caller's alone
        log.warning("a ledger batch of %d did not commit; each commits alone", len(batch))
        answers: list[tuple[bool, Any]] = []
        for item in batch:
            try:
                answers.append((False, item.context.run(self._run_alone, item.work)))
            except Exception as error:
                answers.append((True, error))
        return answers

    def _finish(self, batch: list[_Item], answers: list[tuple[bool, Any]]) -> None:
        """Answer the batch's callers and hand the next batch to the first caller waiting."""
        with self._lock:
            for item, (failed, outcome) in zip(batch, answers, strict=True):
                item.failed, item.outcome, item.done = failed, outcome, True
                item.woken.notify()
            if self._waiting:
                self._waiting[0].lead = True
                self._waiting[0].woken.notify()
            else:
                self._leading = False
                self._idle.notify_all()

    @staticmethod
    def _run(run: list[_Item], session: Session) -> list[Any]:
        batched = run[0].batched
        if batched is None:
            return [run[0].context.run(run[0].work, session)]
        answers = batched(session, [item.value for item in run])
        if len(answers) != len(run):
            raise RuntimeError("a batched work answered the wrong number of items")
        return answers

    def _run_alone(self, work: Callable[[Session], T]) -> T:
        with self.sessions.begin() as session:
            return work(session)


def _runs(batch: list[_Item]) -> list[list[_Item]]:
    """The batch in order, consecutive items of one batched work together; others alone."""
    runs: list[list[_Item]] = []
    for item in batch:
        if item.batched is not None and runs and runs[-1][0].batched == item.batched:
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs
