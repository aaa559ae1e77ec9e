"""The misuse detectors (Art.27), reading the ledger incrementally.

Each detection round reads only the ledger entries after the stored cursor
(:class:`MisuseScanCursor`) and keeps what later rounds need in two small tables: answered calls
per grant and hour (usage spikes) and the filter shapes of answered aggregates (differencing).
A round's cost therefore grows with the entries since the last round, not with the ledger.

Found misuse is returned as :class:`Found`; :class:`findings.MisuseDetector` stores each once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Row, case, func, select
from sqlalchemy.orm import Session

from tongdao.broker.kernel.db import in_chunks
from tongdao.broker.ledger.models import LedgerEntry
from tongdao.broker.supervision.models import (
    AggregateFilterShape,
    GrantCallHour,
    MisuseScanCursor,
)
from tongdao.policies.i18n import msg
from tongdao.policies.model import Policy

SCOPE_FIELDS = ("fields", "method")
SCOPE_WORDS = ("outside the grant", "not in the grant")
PURPOSE_WORDS = ("differs from the grant's purpose", "wrong purpose")
REFUSALS = ("refusal", "refusal.repeated", "query.failed")
SCANNED = (*REFUSALS, "query.relayed")
CURSOR = "ledger"
AGGREGATE = '"aggregate"'
SET_OPS = ("eq", "in")
"""Comparisons whose pseudonymised values are the whole set of values a filter lets through."""


@dataclass(frozen=True)
class GrantView:
    """What supervision needs to know of a grant (answered by the sharing context)."""

    id: str
    consumer: str
    provider: str
    status: str
    issued_at: dt.datetime
    last_used_at: dt.datetime | None


class GrantsPort(Protocol):
    """The grants as misuse detection reads them (answered by ``SharingService``)."""

    def grant_views_of(self, session: Session, grant_ids: Collection[str]) -> Sequence[GrantView]:
        """The grants with these ids (those that exist)."""

    def active_grant_views_unused_since(
        self, session: Session, before: dt.datetime
    ) -> Sequence[GrantView]:
        """The active grants last used (never used: issued) before ``before``."""


@dataclass(frozen=True)
class Found:
    """One finding before it is stored: ``key`` makes it recorded once."""

    key: str
    kind: str
    grant: GrantView
    article: str
    evidence: list[int]
    detail: str  # a catalogue message (stored with its template, shown in a reader's language)


def aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _refusal_kind(payload: Mapping[str, Any]) -> str | None:
    """``beyond_purpose``, ``out_of_scope`` or None (a refusal for another reason)."""
    if payload.get("status") != "PERMISSION_DENIED":
        return None
    message = str(payload.get("message", ""))
    if payload.get("field") == "purpose" or any(w in message for w in PURPOSE_WORDS):
        return "beyond_purpose"
    if payload.get("field") in SCOPE_FIELDS or any(w in message for w in SCOPE_WORDS):
        return "out_of_scope"
    return None


def _hour(at: dt.datetime) -> dt.datetime:
    return aware(at).astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


@dataclass
class LedgerScan:
    """One incremental pass over the ledger entries since the last round."""

    session: Session
    policy: Policy
    grants: GrantsPort
    now: dt.datetime
    evidence_limit: int
    batch: int | None = None
    """Read at most this many entries (None: every entry since the last round)."""
    more: bool = False
    """Set by :meth:`run`: entries beyond the batch remain for the next one."""
    views: dict[str, GrantView] = field(default_factory=dict)
    """Set by :meth:`run`: the grants the batch's entries name, by id."""

    def run(self) -> list[Found]:
        cursor = self.session.get(MisuseScanCursor, CURSOR, with_for_update=True)
        if cursor is None:
            cursor = MisuseScanCursor(name=CURSOR, last_sequence=0)
            self.session.add(cursor)
        # Core rows, not ORM objects: a round may read many entries
        entries = self.session.execute(
            select(
                LedgerEntry.sequence,
                LedgerEntry.kind,
                LedgerEntry.subject,
                LedgerEntry.recorded_at,
                LedgerEntry.payload_json,
            )
            .where(LedgerEntry.kind.in_(SCANNED), LedgerEntry.sequence > cursor.last_sequence)
            .order_by(LedgerEntry.sequence)
            .limit(self.batch)
        ).all()
        self.more = self.batch is not None and len(entries) == self.batch
        # an answered call or a node's refusal names its grant as the subject, the broker's
        # refusal in its payload
        payloads = {e.sequence: json.loads(e.payload_json) for e in entries if e.kind in REFUSALS}
        named = {
            str(payloads[e.sequence].get("grant_id"))
            if e.kind in REFUSALS and e.kind != "query.failed"
            else e.subject
            for e in entries
        }
        self.views = {g.id: g for g in self.grants.grant_views_of(self.session, named)}
        found: list[Found] = []
        refused: dict[tuple[str, str], list[int]] = defaultdict(list)
        called: set[str] = set()
        tally: dict[tuple[str, dt.datetime], int] = defaultdict(int)
        for entry in entries:
            if entry.kind not in REFUSALS:
                if entry.subject not in self.views:
                    continue
                called.add(entry.subject)
                tally[(entry.subject, _hour(dt.datetime.fromisoformat(entry.recorded_at)))] += 1
                if AGGREGATE in entry.payload_json:  # only an aggregate's payload is read
                    payload = json.loads(entry.payload_json)
                    if payload.get("method") == "aggregate" and isinstance(
                        payload.get("filter_shape"), dict
                    ):
                        found += self._differencing(entry, payload["filter_shape"])
                continue
            payload = payloads[entry.sequence]
            grant_id = entry.subject if entry.kind == "query.failed" else payload.get("grant_id")
            kind = _refusal_kind(payload)
            if kind and grant_id in self.views:
                refused[(str(grant_id), kind)].append(entry.sequence)
        self._tally(tally)
        if entries:
            cursor.last_sequence = entries[-1].sequence
        self.session.flush()
        found += self._refusals(refused)
        found += self._spikes(called)
        return found

    # ------------------------------------------------------------------ scope and purpose
    def _refusals(self, refused: Mapping[tuple[str, str], list[int]]) -> list[Found]:
        article = self.policy.grant_status.grounds["out_of_scope"].article
        said = {
            "out_of_scope": lambda n: msg("{n} call(s) refused for asking beyond the grant", n=n),
            "beyond_purpose": lambda n: msg(
                "{n} call(s) refused for asking for another purpose", n=n
            ),
        }
        return [
            Found(
                f"{kind}:{grant_id}:{sequences[-1]}",
                kind,
                self.views[grant_id],
                article,
                sequences[-self.evidence_limit :],
                said[kind](len(sequences)),
            )
            for (grant_id, kind), sequences in refused.items()
        ]

    # ------------------------------------------------------------------ usage spikes
    def _tally(self, tally: Mapping[tuple[str, dt.datetime], int]) -> None:
        """Add the round's answered calls to the hourly tallies, one row per grant and hour: the
        rows already there read in a few statements (a batch may call thousands of grants)."""
        hours = sorted({hour for _, hour in tally})
        stored: dict[tuple[str, dt.datetime], GrantCallHour] = {}
        for chunk in in_chunks(sorted({grant_id for grant_id, _ in tally})):
            for row in self.session.execute(
                select(GrantCallHour).where(
                    GrantCallHour.grant_id.in_(chunk), GrantCallHour.hour.in_(hours)
                )
            ).scalars():
                stored[(row.grant_id, aware(row.hour))] = row
        for (grant_id, hour), calls in tally.items():
            row = stored.get((grant_id, aware(hour)))
            if row is None:
                self.session.add(GrantCallHour(grant_id=grant_id, hour=hour, calls=calls))
            else:
                row.calls += calls

    def _spikes(self, called: set[str]) -> list[Found]:
        """Only a grant called since the last round can have started a spike."""
        factor = self.policy.thresholds["usage_spike_factor"]
        hours = self.policy.thresholds["usage_spike_window_hours"].value
        minimum = self.policy.thresholds["usage_spike_min_calls"].value
        window = dt.timedelta(hours=hours)
        # the window starts at the next whole hour after now − window: calls are tallied by hour,
        # and a window a little shorter never counts an older call as recent
        start = _hour(self.now - window) + dt.timedelta(hours=1)
        recent_hour = GrantCallHour.hour >= start
        calls = GrantCallHour.calls
        history: dict[str, tuple[int, int, dt.datetime | None]] = {}
        for chunk in in_chunks(sorted(called)):  # each grant's recent and earlier calls, grouped
            for grant_id, recent, before, first in self.session.execute(
                select(
                    GrantCallHour.grant_id,
                    func.coalesce(func.sum(case((recent_hour, calls), else_=0)), 0),
                    func.coalesce(func.sum(case((recent_hour, 0), else_=calls)), 0),
                    func.min(case((GrantCallHour.hour < start, GrantCallHour.hour), else_=None)),
                )
                .where(GrantCallHour.grant_id.in_(chunk))
                .group_by(GrantCallHour.grant_id)
            ):
                history[grant_id] = (int(recent), int(before), first)
        out = []
        for grant_id in sorted(called):
            recent, before, first = history.get(grant_id, (0, 0, None))
            if recent < minimum or not before or first is None:
                continue
            windows = max(1.0, (start - aware(first)) / window)
            average = before / windows
            if recent <= factor.value * average:
                continue
            rows = self.session.execute(
                select(LedgerEntry.sequence, LedgerEntry.recorded_at)
                .where(LedgerEntry.subject == grant_id, LedgerEntry.kind == "query.relayed")
                .order_by(LedgerEntry.sequence.desc())
                .limit(self.evidence_limit)
            ).all()
            evidence = sorted(
                seq for seq, at in rows if aware(dt.datetime.fromisoformat(at)) >= start
            )
            out.append(
                Found(
                    f"usage_spike:{grant_id}:{start.date().isoformat()}",
                    "usage_spike",
                    self.views[grant_id],
                    factor.article,
                    evidence,
                    msg(
                        "{recent} calls in the last {hours} h against an average of "
                        "{average} per {hours} h before (threshold ×{factor})",
                        recent=recent,
                        hours=hours,
                        average=f"{average:.1f}",
                        factor=factor.value,
                    ),
                )
            )
        return out

    # ------------------------------------------------------------------ differencing
    def _differencing(self, entry: Row[Any], shape: Mapping[str, Any]) -> list[Found]:
        """Compare an answered aggregate's filter with the pair's earlier ones (see
        docs/supervision.md for the rule), then keep it for later rounds."""
        grant = self.views[entry.subject]
        pair = f"{grant.consumer}>{grant.provider}"
        at = aware(dt.datetime.fromisoformat(entry.recorded_at)).astimezone(dt.UTC)
        op, field, values = shape.get("op"), str(shape.get("field", "")), shape.get("values")
        if not isinstance(values, list):
            return []
        mine = set(values)
        out = []
        if op in SET_OPS:
            limit = self.policy.thresholds["differencing_max_values"]
            days = self.policy.thresholds["differencing_window_days"].value
            earlier = self.session.execute(
                select(AggregateFilterShape).where(
                    AggregateFilterShape.pair == pair,
                    AggregateFilterShape.field == field,
                    AggregateFilterShape.op.in_(SET_OPS),
                    AggregateFilterShape.recorded_at >= at - dt.timedelta(days=days),
                )
            ).scalars()
            for other in earlier:
                theirs = set(other.values)
                if mine < theirs:
                    narrow = len(theirs - mine)
                elif theirs < mine:
                    narrow = len(mine - theirs)
                else:
                    continue
                if narrow > limit.value:
                    continue
                out.append(
                    Found(
                        f"differencing:{grant.id}:{other.sequence}:{entry.sequence}",
                        "differencing",
                        grant,
                        limit.article,
                        [other.sequence, entry.sequence],
                        msg(
                            "aggregates at ledger {first} and {second} filter {field!r} on "
                            "value sets that differ by {narrow} value(s) (at most {limit} "
                            "flagged): the difference of their answers isolates the records of "
                            "those values, which the minimum group size ({size}, {article}) "
                            "keeps from a direct query",
                            first=other.sequence,
                            second=entry.sequence,
                            field=field,
                            narrow=narrow,
                            limit=limit.value,
                            size=self.policy.min_group_size.value,
                            article=self.policy.min_group_size.article,
                        ),
                    )
                )
        self.session.add(
            AggregateFilterShape(
                sequence=entry.sequence,
                grant_id=grant.id,
                pair=pair,
                field=field,
                op=str(op),
                values=sorted(mine),
                recorded_at=at,
            )
        )
        return out
