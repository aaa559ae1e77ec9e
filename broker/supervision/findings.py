"""Misuse findings (Art.27): what the ledger shows about how each grant is used.

Five kinds, each naming the grant, its ledger evidence (sequence numbers) and the article:

* ``out_of_scope`` — calls refused because they asked beyond the grant: a data item or method it
  does not cover, at the broker (``refusal`` / ``refusal.repeated`` entries naming the grant) or
  at the provider's node (``query.failed`` entries refused by the node);
* ``beyond_purpose`` — calls refused because they stated another purpose than the grant's;
* ``idle`` — an active grant not used for the rule file's ``periods.grant_idle`` (counted from
  its last answered query, or its issue when never used);
* ``usage_spike`` — answered calls in the last ``thresholds.usage_spike_window_hours`` above
  ``thresholds.usage_spike_factor`` times the grant's own average for such a window before it
  (and at least ``thresholds.usage_spike_min_calls``);
* ``differencing`` — two answered aggregates of one consumer on one provider, within
  ``thresholds.differencing_window_days``, whose filters on the same data item let through value
  sets one inside the other, differing by at most ``thresholds.differencing_max_values`` values.

Detection reads the ledger incrementally (:mod:`broker.supervision.detectors`) and, through the
:class:`GrantsPort` the sharing context answers, only the grants it needs: those the new entries
name, and for ``idle`` the active grants unused since before the idle period's latest start. A
round's cost grows with the entries since the last round and the grants that may be idle, not
with every grant ever issued. A new finding is stored once and appended to the ledger as
``finding.recorded``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.kernel.context import AUTHORITY, ContextService
from tongdao.broker.kernel.db import in_chunks
from tongdao.broker.kernel.paging import Page
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.ledger.models import LedgerEntry
from tongdao.broker.supervision.detectors import Found, GrantsPort, GrantView, LedgerScan, aware
from tongdao.broker.supervision.models import MisuseFinding
from tongdao.policies.i18n import msg, template_of
from tongdao.proto.errors import InvalidArgument, NotFound

KINDS = (
    "out_of_scope",
    "beyond_purpose",
    "idle",
    "usage_spike",
    "differencing",
    "answered_not_relayed",
    "relayed_not_answered",
)

__all__ = ["KINDS", "GrantView", "GrantsPort", "MisuseDetector"]

IDLE_EVIDENCE_KINDS = ("query.relayed", "grant.issued")
"""The entries an idle finding cites: the grant's last answered call, or its issue."""


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
        """Run every detector over every entry since the last round; store and log the findings
        not recorded before; return them."""
        return self.detect_batch(session, batch=None)[0]

    def detect_batch(
        self, session: Session, batch: int | None = 0, *, idle: bool = True
    ) -> tuple[list[MisuseFinding], bool]:
        """:meth:`detect` over at most ``batch`` new entries (0: ``[limits]
        misuse_scan_batch``; None: all), so a round over many entries is several short
        transactions; returns the new findings and whether entries remain for another batch.
        A batch reads only the grants its entries name. ``idle``: also look for idle grants
        (once per round is enough)."""
        if self.grants is None:
            return [], False
        if batch == 0:
            batch = self.policy.limits["misuse_scan_batch"]
        scan = LedgerScan(session, self.policy, self.grants, self.now(), self.evidence_limit, batch)
        found = scan.run()
        if idle:
            found += self.idle_found(session)
        return self.record_found(session, found), scan.more

    def detect_idle(self, session: Session) -> list[MisuseFinding]:
        """Record the idle grants not recorded before (Art.27)."""
        return self.record_found(session, self.idle_found(session))

    def record_found(self, session: Session, found: Sequence[Found]) -> list[MisuseFinding]:
        """Store each finding not stored before (by its key) and append it to the ledger."""
        new = []
        for f in found:
            key, kind, grant, article, evidence, detail = (
                f.key,
                f.kind,
                f.grant,
                f.article,
                f.evidence,
                f.detail,
            )
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
                detail_template=template_of(detail),
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
            raise InvalidArgument(msg("must be one of {v1}", v1=", ".join(KINDS)), field="kind")
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
    def idle_found(self, session: Session) -> list[Found]:
        """The active grants idle for ``periods.grant_idle`` whose finding is not recorded yet
        (Art.27). Reads only the candidates: grants unused since before the latest start whose
        period has ended today (a day wider, for time zones), each then checked exactly; reads
        no write lock, so a round may run it beside the writers and record in a short
        transaction of its own (:meth:`record_found`)."""
        if self.grants is None:
            return []
        rule = self.policy.period("grant_idle")
        today = self.today()
        latest = rule.latest_start_ending_by(today)
        before = dt.datetime.combine(latest + dt.timedelta(days=2), dt.time(), tzinfo=dt.UTC)
        idle: list[tuple[str, GrantView, dt.date, dt.date]] = []
        for grant in self.grants.active_grant_views_unused_since(session, before):
            since = aware(grant.last_used_at or grant.issued_at).date()
            due = rule.add_to(since)
            if due <= today:
                idle.append((f"idle:{grant.id}:{since.isoformat()}", grant, since, due))
        recorded = self._recorded_keys(session, [key for key, *_ in idle])
        out = []
        for key, grant, since, due in idle:
            if key in recorded:
                continue
            evidence = list(
                session.execute(
                    select(LedgerEntry.sequence)
                    .where(
                        LedgerEntry.subject == grant.id,
                        LedgerEntry.kind.in_(IDLE_EVIDENCE_KINDS),
                    )
                    .order_by(LedgerEntry.sequence.desc())
                    .limit(1)
                ).scalars()
            )
            if grant.last_used_at:
                detail = msg(
                    "last used on {since}; idle since {due}",
                    since=since.isoformat(),
                    due=due.isoformat(),
                )
            else:
                detail = msg(
                    "issued and never used on {since}; idle since {due}",
                    since=since.isoformat(),
                    due=due.isoformat(),
                )
            out.append(
                Found(
                    key,
                    "idle",
                    grant,
                    rule.article,
                    evidence,
                    detail,
                )
            )
        return out

    @staticmethod
    def _recorded_keys(session: Session, keys: Sequence[str]) -> set[str]:
        recorded: set[str] = set()
        for chunk in in_chunks(keys):
            recorded.update(
                session.execute(
                    select(MisuseFinding.key).where(MisuseFinding.key.in_(chunk))
                ).scalars()
            )
        return recorded

    def finding(self, session: Session, finding_id: str) -> MisuseFinding:
        """One recorded finding by its id (as text, the way a dispute names it).

        Raises:
            NotFound: no such finding.
        """
        row = session.get(MisuseFinding, int(finding_id)) if finding_id.isdigit() else None
        if row is None:
            raise NotFound(
                msg("no finding {finding_id!r}", finding_id=finding_id), field="subject_id"
            )
        return row
