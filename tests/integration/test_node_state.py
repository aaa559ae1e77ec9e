"""The node's replay and quota bookkeeping stays exact when many queries arrive at once."""

import datetime as dt
import threading
import uuid

import pytest

from tongdao.node.state import NodeState, QuotaError, ReplayError

NOW = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def test_concurrent_queries_never_overrun_the_quota_and_never_replay(tmp_path):
    state = NodeState(tmp_path / "state")
    quota, attempts = 40, 8 * 12
    outcomes: list[str] = []
    request_ids = [str(uuid.uuid4()) for _ in range(attempts)]

    def caller(ids: list[str]) -> None:
        for rid in ids:
            try:
                state.record(rid, "g-1", quota, NOW)
                outcomes.append("counted")
            except QuotaError:
                outcomes.append("quota")

    threads = [threading.Thread(target=caller, args=(request_ids[n::8],)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("counted") == quota == state.used("g-1")
    assert outcomes.count("quota") == attempts - quota
    # a refused query leaves no trace: its request id can be answered under another grant
    refused = [rid for rid in request_ids if not state.seen(rid)]
    assert len(refused) == attempts - quota
    state.record(refused[0], "g-2", 1, NOW)
    with pytest.raises(QuotaError):
        state.check(str(uuid.uuid4()), "g-2", 1)
    state.close()


def test_a_request_id_is_answered_once_even_when_raced(tmp_path):
    state = NodeState(tmp_path / "state")
    rid = str(uuid.uuid4())
    results: list[str] = []
    barrier = threading.Barrier(6)

    def caller() -> None:
        barrier.wait()
        try:
            state.record(rid, "g-1", 100, NOW)
            results.append("answered")
        except ReplayError:
            results.append("replay")

    threads = [threading.Thread(target=caller) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["answered"] + ["replay"] * 5
    assert state.used("g-1") == 1
    with pytest.raises(ReplayError):
        state.check(rid, "g-1", 100)
    state.check(str(uuid.uuid4()), "g-1", 100)  # a fresh id under quota passes
    state.close()
