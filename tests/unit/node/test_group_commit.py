"""Group commit: callers share transactions, each hears its own outcome, none returns early."""

import threading
import time

import pytest

from tongdao.node.group_commit import GroupCommit


def test_concurrent_callers_share_transactions_and_get_their_own_outcomes():
    committed: set[int] = set()
    batches: list[int] = []

    def flush(items):
        time.sleep(0.02)  # the fsync: callers arriving meanwhile queue for the next one
        batches.append(len(items))
        committed.update(items)
        return [ValueError(i) if i % 5 == 0 else i * 10 for i in items]

    commits = GroupCommit(flush)
    results: dict[int, object] = {}

    def caller(i: int) -> None:
        try:
            value = commits.submit(i)
        except ValueError as exc:
            value = exc
        assert i in committed  # never before the transaction holding it has committed
        results[i] = value

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(1, 41)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(batches) == 40 and len(batches) < 40  # some transactions held several callers
    for i in range(1, 41):
        if i % 5 == 0:
            assert isinstance(results[i], ValueError) and results[i].args == (i,)
        else:
            assert results[i] == i * 10


def test_a_transaction_that_fails_fails_every_caller_in_it_and_the_next_one_runs():
    calls = []

    def flush(items):
        calls.append(list(items))
        if len(calls) == 1:
            raise OSError("disk full")
        return list(items)

    commits = GroupCommit(flush)
    with pytest.raises(OSError, match="disk full"):
        commits.submit(1)
    assert commits.submit(2) == 2


def test_callers_in_a_loop_are_all_answered_one_transaction_at_a_time(monkeypatch):
    # a full queue is handed on: each commit wakes its own callers and the next leader only
    monkeypatch.setattr("tongdao.node.group_commit.MAX_BATCH", 3)
    running = threading.Lock()
    batches: list[int] = []

    def flush(items):
        assert running.acquire(blocking=False), "two transactions at once"
        try:
            time.sleep(0.001)
            batches.append(len(items))
            return [i + 1 for i in items]
        finally:
            running.release()

    commits = GroupCommit(flush)
    answered: list[int] = []

    def caller(base: int) -> None:
        for i in range(base, base + 30):
            assert commits.submit(i) == i + 1
            answered.append(i)

    threads = [threading.Thread(target=caller, args=(k * 100,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a caller was never woken"
    assert sorted(answered) == sorted(k * 100 + i for k in range(16) for i in range(30))
    assert max(batches) <= 3 and sum(batches) == 16 * 30
