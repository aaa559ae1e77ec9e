"""How a server process (a broker, a node) asks Linux to schedule its threads.

A server's request threads hand work to each other all the time: a thread wakes the next one
(the next turn, a batch's callers, gRPC's completion queue) just before it blocks itself. Under
Linux's default policy a woken thread may preempt the thread that woke it, which is then taken
off the processor while it still holds the interpreter lock: the woken thread cannot run
Python either, and the two switch back and forth before either does any work. Under
``SCHED_BATCH`` a woken thread never preempts a running one; it runs when the waker blocks a
few microseconds later. Measured on the relay (``tongdao bench relay``, whose bare echo hop
runs under the same policy): about 40% fewer thread switches per query in the broker and the
node, and less CPU per query in most runs (docs/benchmarks/relay.md, "Scheduling policy").

``SCHED_BATCH`` needs no privilege and changes no priority (the nice value stays). It is set
once, at start, before the server starts its threads, which inherit it; threads already running
(a library's, started at import) are set too. A policy the operator
chose (``chrt``, systemd's ``CPUSchedulingPolicy=``) other than the default is left as it is;
``TONGDAO_SCHEDULING=normal`` keeps the default policy. Elsewhere than Linux nothing changes.
"""

from __future__ import annotations

import contextlib
import os
import sys

SCHEDULING_ENV = "TONGDAO_SCHEDULING"
"""Environment variable: ``batch`` (the default) or ``normal``."""


def batch_scheduling(environ: dict[str, str] | None = None) -> bool:
    """Put this process under ``SCHED_BATCH``; call before starting threads.

    Returns:
        Whether the policy was set here (False: not Linux, the environment asks for
        ``normal``, the process already runs under a policy other than the default, or the
        system refused the change).

    Raises:
        ValueError: the environment variable holds neither ``batch`` nor ``normal``.
    """
    env = os.environ if environ is None else environ
    wanted = env.get(SCHEDULING_ENV, "batch").strip().lower()
    if wanted not in ("batch", "normal"):
        raise ValueError(f"{SCHEDULING_ENV} must be batch or normal, not {wanted!r}")
    if wanted == "normal" or not sys.platform.startswith("linux"):
        return False
    if os.sched_getscheduler(0) != os.SCHED_OTHER:
        return False  # the operator's choice
    batch = os.sched_param(0)
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, batch)
    except OSError:  # refused (a container's seccomp profile, say): serve as before
        return False
    # threads a library started at import (a numerical library's worker, say) as well
    for tid in _threads():
        with contextlib.suppress(OSError):  # ended meanwhile
            os.sched_setscheduler(tid, os.SCHED_BATCH, batch)
    return True


def _threads() -> list[int]:
    try:
        return [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:  # no /proc: the calling thread's policy is set, and inherited
        return []
