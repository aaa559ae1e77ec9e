"""The node's receipt journal: durable, ordered, one line per request id, readable in pages."""

from tongdao.node.receipt_journal import ReceiptJournal
from tongdao.proto.query import Receipt


def receipt(n: int) -> Receipt:
    return Receipt(
        f"req-{n}", "grant-1", "hlj.gat", bytes([n]) * 32, n, "2026-12-01T09:00:00+00:00", bytes(64)
    )


def test_journal_keeps_receipts_in_order_across_reopen(tmp_path):
    journal = ReceiptJournal(tmp_path)
    positions = [journal.record("fetch", receipt(n)) for n in range(5)]
    assert positions == sorted(positions) and len(set(positions)) == 5
    assert journal.record("fetch", receipt(2)) == positions[2]  # a request id is journaled once
    journal.close()
    again = ReceiptJournal(tmp_path)
    rows = again.after(0)
    assert [r.receipt for r in rows] == [receipt(n) for n in range(5)]
    assert [r.receipt.request_id for r in again.after(positions[2], limit=1)] == ["req-3"]
    again.close()
