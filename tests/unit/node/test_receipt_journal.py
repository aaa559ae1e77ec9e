"""The node's receipt journal: durable, ordered, one line per request id, readable in pages."""

import datetime as dt
import sqlite3

import pytest

from tongdao.node.receipt_journal import MERGED_SUFFIX, SCHEMA, SEPARATE_FILE, ReceiptJournal
from tongdao.node.state import NodeState, QuotaError, ReplayError
from tongdao.proto.query import Receipt

NOW = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


def receipt(n: int) -> Receipt:
    return Receipt(
        f"req-{n}", "grant-1", "hlj.gat", bytes([n]) * 32, n, "2026-12-01T09:00:00+00:00", bytes(64)
    )


def test_journal_keeps_receipts_in_order_across_reopen(tmp_path):
    state = NodeState(tmp_path)
    journal = ReceiptJournal(state)
    positions = [journal.record("fetch", receipt(n)) for n in range(5)]
    assert positions == sorted(positions) and len(set(positions)) == 5
    assert journal.record("fetch", receipt(2)) == positions[2]  # a request id is journaled once
    journal.close()
    state.close()
    state = NodeState(tmp_path)
    again = ReceiptJournal(state)
    rows = again.after(0)
    assert [r.receipt for r in rows] == [receipt(n) for n in range(5)]
    assert [r.receipt.request_id for r in again.after(positions[2], limit=1)] == ["req-3"]
    again.close()


def test_a_receipt_is_journaled_with_its_use_or_not_at_all(tmp_path):
    state = NodeState(tmp_path)
    journal = ReceiptJournal(state)
    state.record("req-1", "grant-1", 1, NOW, receipt=("fetch", receipt(1)))
    with pytest.raises(QuotaError):  # the quota of one is used up: no use, no receipt
        state.record("req-2", "grant-1", 1, NOW, receipt=("fetch", receipt(2)))
    with pytest.raises(ReplayError):  # answered before: the first receipt stays the only one
        state.record("req-1", "grant-1", 5, NOW, receipt=("fetch", receipt(3)))
    assert [r.receipt for r in journal.after(0)] == [receipt(1)]
    assert state.used("grant-1") == 1 and not state.seen("req-2")
    journal.close()
    state.close()


def test_a_journal_kept_in_its_own_file_is_merged_into_the_state_positions_kept(tmp_path):
    old = sqlite3.connect(tmp_path / SEPARATE_FILE, isolation_level=None)
    old.execute("PRAGMA journal_mode=WAL")
    for statement in SCHEMA:
        old.execute(statement)
    for n in (1, 2, 4):  # positions with a gap, as AUTOINCREMENT may leave them
        r = receipt(n)
        old.execute(
            "INSERT INTO receipts (position, request_id, grant_id, method, provider,"
            " result_digest, record_count, answered_at, signature)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                n * 10,
                r.request_id,
                r.grant_id,
                "verify",
                r.provider,
                r.result_digest,
                r.record_count,
                r.answered_at,
                r.signature,
            ),
        )
    old.close()
    state = NodeState(tmp_path)
    journal = ReceiptJournal(state)
    assert [(r.position, r.method, r.receipt) for r in journal.after(0)] == [
        (10, "verify", receipt(1)),
        (20, "verify", receipt(2)),
        (40, "verify", receipt(4)),
    ]
    assert not (tmp_path / SEPARATE_FILE).exists()
    assert (tmp_path / (SEPARATE_FILE + MERGED_SUFFIX)).exists()
    assert journal.record("fetch", receipt(5)) > 40  # new receipts come after the merged ones
    journal.close()
    state.close()
    again = NodeState(tmp_path)  # merged once: opening again copies nothing twice
    assert [r.position for r in ReceiptJournal(again).after(0)][:3] == [10, 20, 40]
    again.close()
