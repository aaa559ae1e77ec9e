"""Group commit of ledger appends: many callers' entries, one transaction, one fsync and one head
signature per batch, and nobody answered before the batch holding their entry has committed.

A caller submits a unit of work — a function of a session that appends (and may count a grant's
use) — and waits for its result. One thread drains the queue: it opens one transaction, takes
the ledger head's lock once, runs every waiting unit, signs the head once and commits. Only
after the commit returns are the callers answered, so an acknowledged entry is on disk (SQLite
WAL with ``synchronous=FULL``; PostgreSQL's commit). When a unit raises, or the commit fails,
nothing of the batch is kept and no one is answered from it: each unit is run again in a
transaction of its own, so a failing unit's caller gets its error and the others their entries
(a unit is a function of the session alone, so running it again is safe). Several broker
processes on one PostgreSQL database still queue on the head row's lock, so their batches are
serialised into one chain.

A unit may also be one item of a batched work — a function of a session and a list of items,
answering each — submitted with :meth:`LedgerWriter.run_batched`: consecutive items of the same
batched work are run in one call, so a batch of relayed answers is one statement per table, not
one per answer. Such a function must not read the caller's context (who is acting): what depends
on it is in the item, made in the caller's thread.

Batching costs a caller no waiting of its own: the thread never sleeps for a batch to fill; what
queued while the previous batch committed is the next batch.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
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


@dataclass
class _Item:
    work: Work
    future: Future[Any]
    # the caller's context (who is acting, for the entry's ``responsible``), run in the thread
    context: contextvars.Context
    # an item of a batched work: run with its neighbours of the same work in one call
    batched: BatchedWork | None = None
    value: Any = None


class LedgerWriter:
    """The broker's one committing thread for relayed queries' ledger entries."""

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
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._closed = threading.Event()
        self._gate = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="ledger-writer", daemon=True)
        self._thread.start()

    def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in the next batch and return its result once that batch has committed.

        Raises:
            Whatever ``work`` raised (nothing of it was kept), or the commit's error.
        """
        return self._submit(_Item(work, Future(), contextvars.copy_context()))

    def run_batched(self, batched: Callable[[Session, list[V]], list[T]], value: V) -> T:
        """Run ``value`` as one item of ``batched`` in the next batch, together with the other
        callers' items of the same work queued next to it; return its result once committed.

        Raises:
            Whatever ``batched`` raised for a batch of this item alone (nothing of it was
            kept), or the commit's error.
        """

        def alone(session: Session) -> T:
            return batched(session, [value])[0]

        return self._submit(_Item(alone, Future(), contextvars.copy_context(), batched, value))

    def _submit(self, item: _Item) -> Any:
        with self._gate:  # nothing is queued behind the thread's stop
            queued = not self._closed.is_set()
            if queued:
                self._queue.put(item)
        if not queued:
            return self._run_alone(item.work)
        with self._turns.waiting():
            return item.future.result()

    def close(self) -> None:
        """Commit what is queued, then stop the thread (later calls commit on their own)."""
        with self._gate:
            if self._closed.is_set():
                return
            self._closed.set()
            self._queue.put(None)
        self._thread.join()

    # ------------------------------------------------------------------ the thread

    def _loop(self) -> None:
        stopping = False
        batch: list[_Item] = []
        try:
            while not stopping:
                first = self._queue.get()
                if first is None:
                    return
                batch = [first]
                while len(batch) < self.max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        stopping = True
                        break
                    batch.append(item)
                self._commit(batch)
        except BaseException as exc:  # the thread itself is dying (a unit's error is answered)
            self._stop_dead(batch, exc)
            raise

    def _stop_dead(self, batch: list[_Item], exc: BaseException) -> None:
        """No caller waits on a writer that has died: later calls commit on their own, and every
        call queued or in the batch that died is answered with the error (nothing of it was
        kept: its transaction did not commit)."""
        log.critical("the ledger writer stopped (%r); appends now commit one by one", exc)
        with self._gate:
            self._closed.set()
        pending = list(batch)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                pending.append(item)
        stopped = Unavailable(
            msg("the broker's ledger writer stopped before recording this call; try again")
        )
        for item in pending:
            if not item.future.done():
                item.future.set_exception(stopped)

    def _commit(self, batch: list[_Item]) -> None:
        results: list[Any] = []
        try:
            # the batch's statements run in a turn of their own; the commit (its fsync) waits
            # without one, and nothing after the turn waits for one while the write lock is held
            with self.sessions.begin() as session, self._turns.turn():
                with self.ledger.one_signature(session):
                    Ledger.lock(session)  # every unit below appends under this one lock
                    for run in _runs(batch):
                        results.extend(self._run(run, session))
                session.flush()
        except Exception as exc:
            if len(batch) == 1:
                batch[0].future.set_exception(exc)
                return
            # a unit failed, or the commit did: nothing of the batch is kept; each unit is run
            # again in a transaction of its own, so one unit's failure is its caller's alone
            log.warning("a ledger batch of %d did not commit; each commits alone", len(batch))
            for item in batch:
                self._answer_alone(item)
            return
        for item, result in zip(batch, results, strict=True):
            item.future.set_result(result)

    @staticmethod
    def _run(run: list[_Item], session: Session) -> list[Any]:
        batched = run[0].batched
        if batched is None:
            return [run[0].context.run(run[0].work, session)]
        answers = batched(session, [item.value for item in run])
        if len(answers) != len(run):
            raise RuntimeError("a batched work answered the wrong number of items")
        return answers

    def _answer_alone(self, item: _Item) -> None:
        try:
            item.future.set_result(item.context.run(self._run_alone, item.work))
        except Exception as exc:
            item.future.set_exception(exc)

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
