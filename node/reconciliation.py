"""The node's side of the daily reconciliation (对账, PLT-3, Art.19).

For a period the broker names, the node reports, signed with the department's key:

* per catalogue entry it serves, its record count and one digest of all its records
  (:func:`tongdao.crypto.reconciliation.holdings_digest`, keyed with the node's own holdings key,
  kept in its state directory) — never a record, never a per-record hash, so the broker cannot
  test whether a given person is in the data;
* per grant, how many queries it answered in the period, the digest of their request ids and —
  up to :data:`MAX_LISTED_REQUESTS` — the ids themselves, read from its receipt journal.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tongdao.crypto.reconciliation import (
    KEY_BYTES,
    holdings_digest,
    key_id,
    report_signing_bytes,
    report_view,
    request_ids_digest,
)
from tongdao.crypto.signing import SigningKey
from tongdao.node.adapters import DataSource
from tongdao.node.receipt_journal import ReceiptJournal
from tongdao.policies.i18n import msg
from tongdao.proto.errors import InvalidArgument

KEY_FILE = "holdings-key"
MAX_LISTED_REQUESTS = 10_000
MAX_PERIOD = dt.timedelta(days=31)


def holdings_key(directory: Path) -> bytes:
    """The node's holdings key: created once (random, mode 0600), then kept."""
    path = directory / KEY_FILE
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        directory.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(KEY_BYTES)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key)
            out.flush()
            os.fsync(out.fileno())
        return key
    if len(key) != KEY_BYTES:
        raise ValueError(f"{path} does not hold a {KEY_BYTES}-byte key")
    return key


@dataclass(frozen=True)
class Holdings:
    """One entry's count and digest."""

    entry_code: str
    record_count: int
    content_digest: bytes


@dataclass(frozen=True)
class Answers:
    """One grant's answers in the period."""

    grant_id: str
    answered: int
    request_ids_digest: bytes
    request_ids: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    """A node's signed reconciliation report."""

    department: str
    period_start: str
    period_end: str
    reported_at: str
    key_id: str
    entries: tuple[Holdings, ...]
    grants: tuple[Answers, ...]
    signature: bytes = b""

    def signed_view(self) -> dict[str, Any]:
        """What the signature covers (request id lists are covered by their digests)."""
        return report_view(
            department=self.department,
            period_start=self.period_start,
            period_end=self.period_end,
            reported_at=self.reported_at,
            key_id=self.key_id,
            entries=[(e.entry_code, e.record_count, e.content_digest) for e in self.entries],
            grants=[(g.grant_id, g.answered, g.request_ids_digest) for g in self.grants],
        )


def parse_period(start: str, end: str) -> tuple[str, str]:
    """Both bounds normalised to the receipts' form (UTC, seconds).

    Raises:
        InvalidArgument: not RFC 3339 with a time zone, end not after start, or longer than
            :data:`MAX_PERIOD`.
    """
    bounds = []
    for name, value in (("period_start", start), ("period_end", end)):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise InvalidArgument(msg("must be an RFC 3339 time"), field=name) from None
        if moment.tzinfo is None:
            raise InvalidArgument(msg("must name its time zone"), field=name)
        bounds.append(moment)
    if not bounds[0] < bounds[1] <= bounds[0] + MAX_PERIOD:
        raise InvalidArgument(
            msg("must be after period_start, by at most 31 days"), field="period_end"
        )
    a, b = (m.astimezone(dt.UTC).isoformat(timespec="seconds") for m in bounds)
    return a, b


def build_report(
    *,
    department: str,
    signing_key: SigningKey,
    key: bytes,
    sources: Mapping[str, DataSource],
    journal: ReceiptJournal | None,
    period_start: str,
    period_end: str,
    now: dt.datetime,
) -> Report:
    """The signed report for ``[period_start, period_end)``."""
    start, end = parse_period(period_start, period_end)
    entries = []
    for code in sorted(sources):
        count, digest = holdings_digest(sources[code].rows(), key)
        entries.append(Holdings(code, count, digest))
    answered = journal.answered_between(start, end) if journal is not None else {}
    grants = tuple(
        Answers(
            grant_id,
            len(ids),
            request_ids_digest(ids),
            tuple(ids) if len(ids) <= MAX_LISTED_REQUESTS else (),
        )
        for grant_id, ids in sorted(answered.items())
    )
    report = Report(
        department=department,
        period_start=start,
        period_end=end,
        reported_at=now.astimezone(dt.UTC).isoformat(timespec="seconds"),
        key_id=key_id(key),
        entries=tuple(entries),
        grants=grants,
    )
    signature = signing_key.sign(report_signing_bytes(report.signed_view()))
    return dataclasses.replace(report, signature=signature)
