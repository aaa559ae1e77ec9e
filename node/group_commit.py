"""Group commit: callers that write at the same time share one transaction and one fsync.

Each caller hands in one item and waits until the transaction holding it is durable. The first
caller to find no transaction in progress becomes the *leader*: it takes every item waiting, runs
them in one transaction (``flush``), and wakes the others with their own outcomes. Callers that
arrive meanwhile queue up for the next transaction. Nobody returns before the transaction that
holds their item has committed, so a caller that has returned may act on it (send the answer).

At concurrency 1 this is one transaction per item, as without it; under load the number of
fsyncs grows with the number of transactions, not with the number of items.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")

Flush = Callable[[Sequence[Item]], Sequence[Outcome | BaseException]]
"""``flush(items) -> outcomes``: run ``items`` in one durable transaction; the outcome of each,
in order, is its value or the exception to raise in its caller. An exception raised by ``flush``
itself (the transaction did not commit) is raised in every caller of the batch."""

MAX_BATCH = 256  # items per transaction: bounds how long one commit holds the write lock


class _Slot(Generic[Item, Outcome]):
    __slots__ = ("done", "item", "lead", "outcome", "woken")

    def __init__(self, item: Item, lock: threading.Lock) -> None:
        self.item = item
        self.done = False
        self.lead = False  # asked to run the next transaction
        self.outcome: Outcome | BaseException | None = None
        self.woken = threading.Condition(lock)


class GroupCommit(Generic[Item, Outcome]):
    """Runs items through ``flush`` in shared transactions, one transaction at a time.

    A caller sleeps until its own item is done or it is asked to lead the next transaction:
    a commit wakes its batch's callers and the next leader, not everyone waiting."""

    def __init__(self, flush: Flush[Item, Outcome]) -> None:
        self._flush = flush
        self._lock = threading.Lock()
        self._waiting: list[_Slot[Item, Outcome]] = []
        self._flushing = False

    def submit(self, item: Item) -> Outcome:
        """Run ``item`` in the next transaction; return its outcome once that has committed.

        Raises:
            The exception ``flush`` gave for this item, or the one that failed its transaction.
        """
        slot: _Slot[Item, Outcome] = _Slot(item, self._lock)
        with self._lock:
            self._waiting.append(slot)
            if self._flushing:
                while not (slot.done or slot.lead):
                    slot.woken.wait()
            else:
                self._flushing = slot.lead = True
            if slot.lead:
                self._lead()
        if isinstance(slot.outcome, BaseException):
            raise slot.outcome
        return slot.outcome  # type: ignore[return-value]

    def _lead(self) -> None:
        """Run the waiting items (the caller holds the lock; it is released meanwhile), answer
        them, and hand the next transaction to the first caller still waiting."""
        batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
        self._lock.release()
        try:
            outcomes = self._run(batch)
        finally:
            self._lock.acquire()
        for s, outcome in zip(batch, outcomes, strict=True):
            s.outcome, s.done, s.lead = outcome, True, False
            s.woken.notify()
        if self._waiting:
            self._waiting[0].lead = True
            self._waiting[0].woken.notify()
        else:
            self._flushing = False

    def _run(self, batch: list[_Slot[Item, Outcome]]) -> Sequence[Outcome | BaseException]:
        try:
            outcomes = self._flush([s.item for s in batch])
        except BaseException as exc:  # not committed: every caller of the batch hears of it
            return [exc] * len(batch)
        if len(outcomes) != len(batch):
            error = RuntimeError("group commit: flush returned the wrong number of outcomes")
            return [error] * len(batch)
        return outcomes
