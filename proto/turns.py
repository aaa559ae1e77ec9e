"""Turns: on a server's hot path one request thread at a time runs Python; a thread gives its
turn up while it waits for something outside the process.

CPython runs one thread at a time (the GIL). A thread that calls into C that lets go of the
interpreter — every SQLite step, every gRPC call, most signatures — hands it to another runnable
thread and then queues to get it back. With sixteen calls in flight each query pays dozens of
such hand-offs, and on a small virtual machine every hand-off is a context switch that costs more
than the work around it: calls shaped like the relay's checks of a grant took 57–72 µs of CPU
on one thread and 149–195 µs per call with sixteen threads at once, 85–96 µs in turns
(``python -m tongdao.benchmarks.turns_evidence``; ``docs/benchmarks/relay.md``, "Taking
turns").

With turns, the threads that wait for their turn sleep, each on a gate of its own, instead of on
the GIL, so a thread that lets go of the interpreter for a few microseconds of C gets it straight
back. A thread
gives its turn up (:meth:`Turns.waiting`) around every wait that is not CPU work of this process:
the node's answer, the ledger writer's commit. Turns are not taken for streams, whose handlers
wait on their peers between messages.

Plain Python (threading only): the relay service and the ledger writer call :meth:`waiting`
without knowing whether the calling thread holds a turn.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Turns:
    """The turns the request threads of a hot path take, first come, first served.

    A thread that gives its turn up hands it to the thread that has waited longest (each waiting
    thread sleeps on a gate of its own), so a call coming back from the node is not overtaken
    again and again by newer ones: measured, first-come-first-served turns gave both a higher
    rate and a lower p99 than a bare lock (docs/benchmarks/relay.md, "Taking turns").

    :meth:`turn` is reentrant on one thread; :meth:`waiting` is a no-op on a thread that holds
    no turn (the ledger writer's own thread, a test calling a service directly).
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()  # guards the two fields below, held for a moment only
        self._taken = False
        self._queue: collections.deque[threading.Lock] = collections.deque()
        self._held = threading.local()

    def _take(self) -> None:
        """Take the turn, or queue for it: turns are given in the order they were asked for."""
        with self._guard:
            if not self._taken:
                self._taken = True
                return
            gate = getattr(self._held, "gate", None)
            if gate is None:  # this thread's own gate, kept closed while it is not waiting
                gate = self._held.gate = threading.Lock()
                gate.acquire()
            self._queue.append(gate)
        gate.acquire()  # opened by the thread handing the turn over; closed again for next time

    def _give(self) -> None:
        """Hand the turn to the thread that has waited longest, or leave it free."""
        with self._guard:
            if not self._queue:
                self._taken = False
                return
            gate = self._queue.popleft()
        gate.release()

    def held(self) -> bool:
        """Whether the calling thread holds the turn."""
        return bool(getattr(self._held, "on", False))

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Run the block as the only turn-taking thread running (waits for the turn first)."""
        if self.held():
            yield
            return
        self._take()
        self._held.on = True
        try:
            yield
        finally:
            self._held.on = False
            self._give()

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Give the turn up for the block (a wait outside this process), then take it back."""
        if not self.held():
            yield
            return
        self._held.on = False
        self._give()
        try:
            yield
        finally:
            self._take()
            self._held.on = True


class _NoTurns(Turns):
    """Turns that are never taken: every block runs at once."""

    def held(self) -> bool:
        return False

    @contextmanager
    def turn(self) -> Iterator[None]:
        yield

    @contextmanager
    def waiting(self) -> Iterator[None]:
        yield


NO_TURNS: Turns = _NoTurns()
"""Turns that are never taken (the default of services and writers used without a server):
:meth:`~Turns.turn` and :meth:`~Turns.waiting` do nothing, so no two users of it ever wait on
each other."""
