"""A server process asks Linux not to let a woken thread preempt its waker (SCHED_BATCH), unless
the operator chose otherwise. The policy is the whole process's, so each case runs in a child
process: the child prints what it saw."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tongdao.proto.scheduling import SCHEDULING_ENV, batch_scheduling

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="Linux scheduling policies"
)

_CHILD = textwrap.dedent(
    """
    import json, os, sys, threading
    from tongdao.proto.scheduling import batch_scheduling
    if sys.argv[1] == "chosen":  # as `chrt -i 0` would have started it
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    stop = threading.Event()
    early = threading.Thread(target=stop.wait)  # a library's thread, started at import
    early.start()
    try:
        out = {"set": batch_scheduling()}
    except ValueError as exc:
        out = {"error": str(exc)}
    later = []
    thread = threading.Thread(target=lambda: later.append(os.sched_getscheduler(0)))
    thread.start()
    thread.join()
    out.update(main=os.sched_getscheduler(0), early=os.sched_getscheduler(early.native_id),
               later=later[0])
    stop.set()
    print(json.dumps(out))
    """
)


def _child(mode: str = "default", setting: str | None = None) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != SCHEDULING_ENV}
    if setting is not None:
        env[SCHEDULING_ENV] = setting
    # a child under the default policy whatever the test run's own (`chrt -o 0`, no privilege)
    done = subprocess.run(
        ["chrt", "-o", "0", sys.executable, "-c", _CHILD, mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_set_at_start_for_the_threads_running_and_those_started_after():
    batch = os.SCHED_BATCH
    assert _child() == {"set": True, "main": batch, "early": batch, "later": batch}


def test_normal_keeps_the_default_policy():
    other = os.SCHED_OTHER
    assert _child(setting="Normal") == {"set": False, "main": other, "early": other, "later": other}


def test_a_policy_the_operator_chose_is_kept():
    idle = os.SCHED_IDLE
    assert _child("chosen") == {"set": False, "main": idle, "early": idle, "later": idle}


def test_an_unknown_setting_is_refused_by_name():
    out = _child(setting="fast")
    assert SCHEDULING_ENV in str(out["error"]) and "'fast'" in str(out["error"])
    assert out["main"] == os.SCHED_OTHER


def test_a_refused_change_leaves_the_server_as_it_was(monkeypatch):
    def refuse(*_args: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_getscheduler", lambda _pid: os.SCHED_OTHER)
    monkeypatch.setattr(os, "sched_setscheduler", refuse)  # nothing here is really changed
    assert batch_scheduling({}) is False
