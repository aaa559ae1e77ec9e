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
    __slots__ = ("done", "item", "outcome")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.done = False
        self.outcome: Outcome | BaseException | None = None


class GroupCommit(Generic[Item, Outcome]):
    """Runs items through ``flush`` in shared transactions, one transaction at a time."""

    def __init__(self, flush: Flush[Item, Outcome]) -> None:
        self._flush = flush
        self._cond = threading.Condition(threading.Lock())
        self._waiting: list[_Slot[Item, Outcome]] = []
        self._flushing = False

    def submit(self, item: Item) -> Outcome:
        """Run ``item`` in the next transaction; return its outcome once that has committed.

        Raises:
            The exception ``flush`` gave for this item, or the one that failed its transaction.
        """
        slot: _Slot[Item, Outcome] = _Slot(item)
        with self._cond:
            self._waiting.append(slot)
            while not slot.done:
                if self._flushing:
                    self._cond.wait()
                    continue
                self._flushing = True
                batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
                self._cond.release()
                try:
                    outcomes = self._run(batch)
                finally:
                    self._cond.acquire()
                    self._flushing = False
                for s, outcome in zip(batch, outcomes, strict=True):
                    s.outcome, s.done = outcome, True
                self._cond.notify_all()
        if isinstance(slot.outcome, BaseException):
            raise slot.outcome
        return slot.outcome  # type: ignore[return-value]

    def _run(self, batch: list[_Slot[Item, Outcome]]) -> Sequence[Outcome | BaseException]:
        try:
            outcomes = self._flush([s.item for s in batch])
        except BaseException as exc:  # not committed: every caller of the batch hears of it
            return [exc] * len(batch)
        if len(outcomes) != len(batch):
            error = RuntimeError("group commit: flush returned the wrong number of outcomes")
            return [error] * len(batch)
        return outcomes
