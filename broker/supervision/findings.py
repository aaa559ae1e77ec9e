"""Misuse findings (Art.27): what the ledger shows about how each grant is used.

Three kinds, each naming the grant, its ledger evidence (sequence numbers) and the article:

* ``out_of_scope`` — calls refused because they asked beyond the grant: a data item, method or
  purpose it does not cover, at the broker (``refusal`` / ``refusal.repeated`` entries naming
  the grant) or at the provider's node (``query.failed`` entries refused by the node);
* ``idle`` — an active grant not used for the rule file's ``periods.grant_idle`` (counted from
  its last answered query, or its issue when never used);
* ``usage_spike`` — answered calls in the last ``thresholds.usage_spike_window_hours`` above
  ``thresholds.usage_spike_factor`` times the grant's own average for such a window before it
  (and at least ``thresholds.usage_spike_min_calls``).

Detection reads only the ledger and the grants (through the :data:`GrantsPort` the sharing
context answers); a new finding is stored once and appended to the ledger as ``finding.recorded``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.kernel.context import AUTHORITY, ContextService
from tongdao.broker.kernel.paging import Page
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.ledger.models import LedgerEntry
from tongdao.broker.supervision.models import MisuseFinding
from tongdao.proto.errors import InvalidArgument, NotFound

SCOPE_FIELDS = ("fields", "method", "purpose")
SCOPE_WORDS = ("outside the grant", "not in the grant", "differs from the grant")
KINDS = ("out_of_scope", "idle", "usage_spike", "answered_not_relayed", "relayed_not_answered")


@dataclass(frozen=True)
class GrantView:
    """What supervision needs to know of a grant (answered by the sharing context)."""

    id: str
    consumer: str
    provider: str
    status: str
    issued_at: dt.datetime
    last_used_at: dt.datetime | None


GrantsPort = Callable[[Session], Sequence[GrantView]]
"""A port: every grant, as :class:`GrantView` (wired to ``SharingService.grant_views``)."""


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _is_scope_refusal(payload: dict[str, object]) -> bool:
    message = str(payload.get("message", ""))
    return payload.get("status") == "PERMISSION_DENIED" and (
        payload.get("field") in SCOPE_FIELDS or any(w in message for w in SCOPE_WORDS)
    )


@dataclass(kw_only=True)
class MisuseDetector(ContextService):
    """Finds misuse of grants in the ledger; the authority sees all, a department its own."""

    ledger: Ledger
    directory: DirectoryService
    grants: GrantsPort | None = None
    evidence_limit: int = field(default=50)

    def detect_on_demand(self, session: Session, caller: str) -> list[MisuseFinding]:
        """:meth:`detect`, asked for by the authority (``tongdao supervise findings --detect``).

        Raises:
            PermissionDenied: the caller is not the authority.
        """
        self.directory.require_authority(session, caller)
        return self.detect(session)

    def detect(self, session: Session) -> list[MisuseFinding]:
        """Run every detector; store and log the findings not recorded before; return them."""
        if self.grants is None:
            return []
        views = {g.id: g for g in self.grants(session)}
        found: list[tuple[str, str, GrantView, str, list[int], str]] = []
        found += self._out_of_scope(session, views)
        found += self._idle(session, views)
        found += self._spikes(session, views)
        new = []
        for key, kind, grant, article, evidence, detail in found:
            if session.execute(select(MisuseFinding.id).where(MisuseFinding.key == key)).first():
                continue
            entry = self.ledger.append(
                session,
                kind="finding.recorded",
                actor=self.settings.issuer,
                subject=grant.id,
                payload={
                    "kind": kind,
                    "consumer": grant.consumer,
                    "provider": grant.provider,
                    "evidence": evidence,
                    "detail": detail,
                    "articles": [article],
                },
            )
            row = MisuseFinding(
                key=key,
                kind=kind,
                grant_id=grant.id,
                consumer=grant.consumer,
                provider=grant.provider,
                article=article,
                evidence=evidence,
                detail=detail,
                found_on=self.today(),
                sequence=entry.sequence,
            )
            session.add(row)
            new.append(row)
        session.flush()
        return new

    def list_findings(
        self,
        session: Session,
        caller: str,
        *,
        kind: str = "",
        grant_id: str = "",
        page: Page | None = None,
    ) -> list[MisuseFinding]:
        """Findings the caller may see: all (the authority), else those of its grants as
        consumer or provider."""
        if kind and kind not in KINDS:
            raise InvalidArgument(f"must be one of {', '.join(KINDS)}", field="kind")
        query = select(MisuseFinding)
        if caller != AUTHORITY:
            dept = self.directory.require_registered(session, caller)
            if not dept.is_authority:
                query = query.where(
                    (MisuseFinding.consumer == caller) | (MisuseFinding.provider == caller)
                )
        if kind:
            query = query.where(MisuseFinding.kind == kind)
        if grant_id:
            query = query.where(MisuseFinding.grant_id == grant_id)
        if page is not None:
            return page.fetch(session, query, MisuseFinding.id)
        return list(session.execute(query.order_by(MisuseFinding.id)).scalars())

    # ------------------------------------------------------------------ detectors
    def _out_of_scope(
        self, session: Session, views: dict[str, GrantView]
    ) -> list[tuple[str, str, GrantView, str, list[int], str]]:
        article = self.policy.period("grant_idle").article  # Art.27 names scope misuse too
        by_grant: dict[str, list[int]] = defaultdict(list)
        for entry in self.ledger.entries(session, ("refusal", "refusal.repeated", "query.failed")):
            payload = json.loads(entry.payload_json)
            grant_id = entry.subject if entry.kind == "query.failed" else payload.get("grant_id")
            if grant_id in views and _is_scope_refusal(payload):
                by_grant[str(grant_id)].append(entry.sequence)
        out = []
        for grant_id, sequences in by_grant.items():
            detail = f"{len(sequences)} call(s) refused for asking beyond the grant"
            out.append(
                (
                    f"out_of_scope:{grant_id}:{sequences[-1]}",
                    "out_of_scope",
                    views[grant_id],
                    article,
                    sequences[-self.evidence_limit :],
                    detail,
                )
            )
        return out

    def _idle(
        self, session: Session, views: dict[str, GrantView]
    ) -> list[tuple[str, str, GrantView, str, list[int], str]]:
        rule = self.policy.period("grant_idle")
        today = self.today()
        out = []
        for grant in views.values():
            if grant.status != "active":
                continue
            since = _aware(grant.last_used_at or grant.issued_at)
            due = rule.add_to(since.date())
            if today < due:
                continue
            kinds = ("query.relayed", "grant.issued")
            evidence = [
                e.sequence
                for e in session.execute(
                    select(LedgerEntry)
                    .where(LedgerEntry.subject == grant.id, LedgerEntry.kind.in_(kinds))
                    .order_by(LedgerEntry.sequence.desc())
                    .limit(1)
                ).scalars()
            ]
            used = "last used" if grant.last_used_at else "issued and never used"
            out.append(
                (
                    f"idle:{grant.id}:{since.date().isoformat()}",
                    "idle",
                    grant,
                    rule.article,
                    evidence,
                    f"{used} on {since.date().isoformat()}; idle since {due.isoformat()}",
                )
            )
        return out

    def _spikes(
        self, session: Session, views: dict[str, GrantView]
    ) -> list[tuple[str, str, GrantView, str, list[int], str]]:
        factor = self.policy.thresholds["usage_spike_factor"]
        hours = self.policy.thresholds["usage_spike_window_hours"].value
        minimum = self.policy.thresholds["usage_spike_min_calls"].value
        window = dt.timedelta(hours=hours)
        now = self.now()
        start = now - window
        calls: dict[str, list[tuple[dt.datetime, int]]] = defaultdict(list)
        for entry in self.ledger.entries(session, ("query.relayed",)):
            if entry.subject in views:
                at = _aware(dt.datetime.fromisoformat(entry.recorded_at))
                calls[entry.subject].append((at, entry.sequence))
        out = []
        for grant_id, rows in calls.items():
            recent = [seq for at, seq in rows if at >= start]
            before = [at for at, _ in rows if at < start]
            if len(recent) < minimum or not before:
                continue
            windows = max(1.0, (start - min(before)) / window)
            average = len(before) / windows
            if len(recent) <= factor.value * average:
                continue
            out.append(
                (
                    f"usage_spike:{grant_id}:{start.date().isoformat()}",
                    "usage_spike",
                    views[grant_id],
                    factor.article,
                    recent[-self.evidence_limit :],
                    f"{len(recent)} calls in the last {hours} h against an average of "
                    f"{average:.1f} per {hours} h before (threshold ×{factor.value})",
                )
            )
        return out

    def finding(self, session: Session, finding_id: str) -> MisuseFinding:
        """One recorded finding by its id (as text, the way a dispute names it).

        Raises:
            NotFound: no such finding.
        """
        row = session.get(MisuseFinding, int(finding_id)) if finding_id.isdigit() else None
        if row is None:
            raise NotFound(f"no finding {finding_id!r}", field="subject_id")
        return row
