"""The node's reconciliation report: counts and digests of its holdings, its answers per grant
from the journal, signed; its holdings key is kept; the period is checked."""

from __future__ import annotations

import datetime as dt

import pytest

from tongdao.crypto.reconciliation import report_signing_bytes, request_ids_digest
from tongdao.crypto.signing import SigningKey
from tongdao.node.receipt_journal import ReceiptJournal
from tongdao.node.reconciliation import KEY_FILE, build_report, holdings_key
from tongdao.node.state import NodeState
from tongdao.proto.errors import InvalidArgument
from tongdao.proto.query import Receipt

START, END = "2026-11-30T16:00:00+00:00", "2026-12-01T16:00:00+00:00"


class Rows:
    def __init__(self, rows):
        self._rows = rows

    def rows(self):
        return iter(self._rows)


def receipt(request_id, grant_id, answered_at):
    return Receipt(request_id, grant_id, "hlj.gat", b"\0" * 32, 1, answered_at, b"\0" * 64)


def test_report_counts_the_period_only_and_is_signed(tmp_path):
    journal = ReceiptJournal(NodeState(tmp_path))
    journal.record("fetch", receipt("r1", "g1", "2026-11-30T16:00:00+00:00"))  # first second
    journal.record("fetch", receipt("r2", "g1", "2026-12-01T15:59:59+00:00"))
    journal.record("fetch", receipt("r3", "g2", "2026-12-01T10:00:00+00:00"))
    journal.record("fetch", receipt("r4", "g1", "2026-12-01T16:00:00+00:00"))  # next period
    journal.record("fetch", receipt("r0", "g1", "2026-11-30T15:59:59+00:00"))  # before
    key = SigningKey.generate()
    people = [{"id": "1", "name": "甲"}, {"id": "2", "name": "乙"}]
    report = build_report(
        department="hlj.gat",
        signing_key=key,
        key=holdings_key(tmp_path),
        sources={"gat.population": Rows(people)},
        journal=journal,
        period_start="2026-12-01T00:00:00+08:00",  # the same instant in another offset
        period_end=END,
        now=dt.datetime(2026, 12, 1, 16, 10, tzinfo=dt.UTC),
    )
    assert (report.period_start, report.period_end) == (START, END)
    assert [(g.grant_id, g.answered, g.request_ids) for g in report.grants] == [
        ("g1", 2, ("r1", "r2")),
        ("g2", 1, ("r3",)),
    ]
    assert report.grants[0].request_ids_digest == request_ids_digest(["r2", "r1"])
    (entry,) = report.entries
    assert entry.record_count == 2 and len(entry.content_digest) == 32
    key.verify_key.verify(report.signature, report_signing_bytes(report.signed_view()))
    journal.close()


def test_the_holdings_key_is_made_once_and_private(tmp_path):
    first = holdings_key(tmp_path)
    assert holdings_key(tmp_path) == first and len(first) == 32
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("yesterday", END),
        ("2026-11-30T16:00:00", END),  # no time zone
        (END, START),  # backwards
        ("2026-10-01T00:00:00+00:00", END),  # longer than 31 days
    ],
)
def test_a_bad_period_is_refused(tmp_path, start, end):
    with pytest.raises(InvalidArgument):
        build_report(
            department="hlj.gat",
            signing_key=SigningKey.generate(),
            key=holdings_key(tmp_path),
            sources={},
            journal=None,
            period_start=start,
            period_end=end,
            now=dt.datetime.now(dt.UTC),
        )
