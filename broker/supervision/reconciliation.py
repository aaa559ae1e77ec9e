"""The daily reconciliation (对账, PLT-3, Art.19): what each node answered and holds, against
what the broker relayed and what the consumers recorded.

For each period of the rule file's ``[reconciliation]`` (a day from midnight, Asia/Shanghai) and
each department with a node, :meth:`Reconciler.reconcile` asks the node for its signed report
(``Node.ReportReconciliation``: per entry a record count and one digest of all its records; per
grant the request ids it answered, from its receipt journal), compares it with the ledger's
answered entries (``query.relayed``, ``query.relayed_late``, ``query.bad_receipt``) whose
receipts fall in the period and with the consumers' usage records, then

* appends one ``reconciliation.recorded`` entry (subject ``NODE/PERIOD_START``) holding the whole
  comparison and the node's report signature — the record ``tongdao supervise reconcile`` shows;
* raises a finding for every grant where one side has requests the other lacks:
  ``answered_not_relayed`` (the node answered, the ledger holds no such answer) and
  ``relayed_not_answered`` (the ledger holds an answer the node does not report), each naming the
  grant, the node, the request ids and the ledger evidence, citing the rule file's article.

A period is reconciled once per node: the entry is looked for again under the ledger head's lock
before it is appended, so concurrent rounds (several brokers on one store) record it once. A node
that cannot be reached is tried again at the next round.

Holdings are compared with the node's previous reconciliation and shown (count, digest changed,
catalogue version updated) but raise no finding: a register's contents change every day under
its declared update frequency, and what the catalogue must follow (Art.15) is the entry's shape,
not its rows.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.kernel.context import SHANGHAI, ContextService
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.ledger.models import LedgerEntry
from tongdao.broker.supervision.findings import GrantView
from tongdao.broker.supervision.models import MisuseFinding
from tongdao.crypto.errors import SignatureError
from tongdao.crypto.reconciliation import report_signing_bytes, report_view, request_ids_digest
from tongdao.crypto.signing import VerifyKey
from tongdao.policies.i18n import msg
from tongdao.policies.model import ReconciliationRules
from tongdao.proto.errors import FailedPrecondition, InvalidArgument

log = logging.getLogger("tongdao.broker.supervision")
KIND = "reconciliation.recorded"
ANSWERED = ("query.relayed", "query.relayed_late", "query.bad_receipt")
FINDING_KINDS = ("answered_not_relayed", "relayed_not_answered")
SHOWN = 50  # request ids kept per grant and side in the entry (the counts are complete)


@dataclass(frozen=True)
class NodeTarget:
    """A department running a node: its code, endpoint and signing key."""

    code: str
    endpoint: str
    key: VerifyKey


@dataclass(frozen=True)
class ReportedEntry:
    entry_code: str
    record_count: int
    content_digest: bytes


@dataclass(frozen=True)
class ReportedGrant:
    grant_id: str
    answered: int
    request_ids_digest: bytes
    request_ids: tuple[str, ...]


@dataclass(frozen=True)
class NodeReport:
    """A node's report as it arrived (``Node.ReportReconciliation``)."""

    department: str
    period_start: str
    period_end: str
    reported_at: str
    key_id: str
    entries: tuple[ReportedEntry, ...]
    grants: tuple[ReportedGrant, ...]
    signature: bytes

    def verifies(self, key: VerifyKey) -> bool:
        view = report_view(
            department=self.department,
            period_start=self.period_start,
            period_end=self.period_end,
            reported_at=self.reported_at,
            key_id=self.key_id,
            entries=[(e.entry_code, e.record_count, e.content_digest) for e in self.entries],
            grants=[(g.grant_id, g.answered, g.request_ids_digest) for g in self.grants],
        )
        try:
            key.verify(self.signature, report_signing_bytes(view))
        except SignatureError:
            return False
        return all(
            not g.request_ids or request_ids_digest(g.request_ids) == g.request_ids_digest
            for g in self.grants
        )


class ReconciliationNodes(Protocol):
    """The node call the reconciliation needs (gRPC in the broker)."""

    def report(self, endpoint: str, period_start: str, period_end: str) -> NodeReport: ...


@dataclass
class GrantResult:
    grant_id: str
    consumer: str
    node_answered: int = 0
    ledger_relayed: int = 0
    ledger_late: int = 0
    usage_records: int = 0
    answered_not_relayed: list[str] = field(default_factory=list)
    relayed_not_answered: list[str] = field(default_factory=list)


@dataclass
class EntryResult:
    entry_code: str
    record_count: int
    content_digest: str
    previous_record_count: int = -1
    changed: bool = False
    catalogue_version: int = 0
    catalogue_updated: bool = False


@dataclass
class NodeResult:
    """One node's reconciliation for one period (what the ledger entry holds)."""

    node: str
    status: str
    message: str = ""
    sequence: int = 0
    entries: list[EntryResult] = field(default_factory=list)
    grants: list[GrantResult] = field(default_factory=list)
    findings: list[int] = field(default_factory=list)
    report_signature: str = ""
    reported_at: str = ""
    key_id: str = ""

    @staticmethod
    def from_payload(payload: dict[str, Any], sequence: int) -> NodeResult:
        result = NodeResult(
            node=payload["node"],
            status=payload["status"],
            message=payload.get("message", ""),
            sequence=sequence,
            entries=[EntryResult(**e) for e in payload.get("entries", [])],
            grants=[GrantResult(**g) for g in payload.get("grants", [])],
            report_signature=payload.get("report_signature", ""),
            reported_at=payload.get("reported_at", ""),
            key_id=payload.get("key_id", ""),
        )
        return result


@dataclass(frozen=True)
class Period:
    start: dt.datetime
    end: dt.datetime

    @property
    def start_text(self) -> str:
        return self.start.astimezone(dt.UTC).isoformat(timespec="seconds")

    @property
    def end_text(self) -> str:
        return self.end.astimezone(dt.UTC).isoformat(timespec="seconds")


@dataclass
class Reconciliation:
    """The result for one period."""

    period: Period
    article: str
    nodes: list[NodeResult]
    reconciled: int = 0


GrantsPort = Callable[[Session], Sequence[GrantView]]
UsagePort = Callable[[Session, dt.datetime, dt.datetime], dict[str, int]]
"""Grant id → usage records filed in ``[start, end)`` (answered by the sharing context)."""
VersionsPort = Callable[[Session], dict[str, int]]
"""Entry code → its current catalogue version (answered by the catalogue context)."""
NodesPort = Callable[[Session], Sequence[NodeTarget]]


@dataclass(kw_only=True)
class Reconciler(ContextService):
    """Daily reconciliation; ``run_due`` on the ledger schedule, ``reconcile`` on demand."""

    ledger: Ledger
    directory: DirectoryService
    rules: ReconciliationRules
    nodes: NodesPort
    gateway: ReconciliationNodes
    grants: GrantsPort
    usage: UsagePort
    versions: VersionsPort

    # ------------------------------------------------------------------ periods
    def period_of(self, day: str = "") -> Period:
        """The period starting at ``day``'s midnight (Asia/Shanghai), else the last complete one.

        Raises:
            InvalidArgument: ``day`` is not a date.
        """
        length = dt.timedelta(hours=self.rules.period_hours)
        if day:
            try:
                date = dt.date.fromisoformat(day)
            except ValueError:
                raise InvalidArgument(msg("must be a date like 2026-12-01"), field="day") from None
            start = dt.datetime.combine(date, dt.time(), SHANGHAI)
            return Period(start, start + length)
        settled = (self.now() - dt.timedelta(minutes=self.rules.settle_minutes)).astimezone(
            SHANGHAI
        )
        midnight = dt.datetime.combine(settled.date(), dt.time(), SHANGHAI)
        index = int((settled - midnight) / length)
        end = midnight + index * length
        return Period(end - length, end)

    def complete(self, period: Period) -> bool:
        return period.end + dt.timedelta(minutes=self.rules.settle_minutes) <= self.now()

    # ------------------------------------------------------------------ entry points
    def run_due(self, sessions: sessionmaker[Session]) -> Reconciliation:
        """The scheduled round: reconcile the last complete period for every node not yet done."""
        return self.reconcile(sessions, self.period_of(), run=True)

    def on_demand(
        self, sessions: sessionmaker[Session], caller: str, day: str, *, run: bool
    ) -> Reconciliation:
        """``tongdao supervise reconcile``: the authority only.

        Raises:
            PermissionDenied: the caller is not the authority.
        """
        with sessions.begin() as session:
            self.directory.require_authority(session, caller)
        return self.reconcile(sessions, self.period_of(day), run=run)

    def reconcile(
        self, sessions: sessionmaker[Session], period: Period, *, run: bool
    ) -> Reconciliation:
        """Show (and with ``run``, first complete) the reconciliation of ``period``.

        Raises:
            FailedPrecondition: ``run`` for a period not over yet (plus the settling time).
        """
        if run and not self.complete(period):
            raise FailedPrecondition(
                msg(
                    "the period {start_text}..{end_text} is not over yet (plus "
                    "{settle_minutes} minutes)",
                    start_text=period.start_text,
                    end_text=period.end_text,
                    settle_minutes=self.rules.settle_minutes,
                ),
                articles=(self.rules.article,),
            )
        with sessions.begin() as session:
            targets = list(self.nodes(session))
        results: list[NodeResult] = []
        reconciled = 0
        for target in targets:
            with sessions.begin() as session:
                recorded = self._recorded(session, target.code, period)
            if recorded is None and run:
                recorded = self._reconcile_node(sessions, target, period)
                if recorded.sequence:
                    reconciled += 1
            results.append(recorded or NodeResult(target.code, "not_reconciled"))
        return Reconciliation(period, self.rules.article, results, reconciled)

    # ------------------------------------------------------------------ one node
    def _reconcile_node(
        self, sessions: sessionmaker[Session], target: NodeTarget, period: Period
    ) -> NodeResult:
        try:
            report = self.gateway.report(target.endpoint, period.start_text, period.end_text)
        except ConnectionError as exc:
            log.warning("cannot reconcile %s for %s: %s", target.code, period.start_text, exc)
            return NodeResult(target.code, "unavailable", str(exc))
        with sessions.begin() as session:
            # the head lock first: another round (or broker) may be recording the same period
            self.ledger.lock(session)
            done = self._recorded(session, target.code, period)
            if done is not None:
                return done
            result, sequences = self._compare(session, target, period, report)
            payload = {
                **asdict(result),
                "period_start": period.start_text,
                "period_end": period.end_text,
                "articles": [self.rules.article],
            }
            del payload["sequence"], payload["findings"]
            entry = self.ledger.append(
                session,
                kind=KIND,
                actor=self.settings.issuer,
                subject=f"{target.code}/{period.start_text}",
                payload=payload,
            )
            result.sequence = entry.sequence
            result.findings = self._raise_findings(session, target, period, result, sequences)
        if result.status != "clean":
            log.warning(
                "reconciliation of %s for %s: %s %s",
                target.code,
                period.start_text,
                result.status,
                result.message,
            )
        return result

    def _compare(
        self, session: Session, target: NodeTarget, period: Period, report: NodeReport
    ) -> tuple[NodeResult, dict[str, dict[str, int]]]:
        """The comparison, and grant → request id → ledger sequence of its answers."""
        if (
            report.department != target.code
            or report.period_start != period.start_text
            or report.period_end != period.end_text
            or not report.verifies(target.key)
        ):
            bad = NodeResult(
                target.code,
                "bad_report",
                "the node's report does not verify under its registered key, or names another "
                "department or period",
                report_signature=report.signature.hex(),
            )
            return bad, {}
        views = {g.id: g for g in self.grants(session) if g.provider == target.code}
        node = {g.grant_id: g for g in report.grants}
        # the node's own grant ids too: a public download runs under a one-use token the
        # broker signs for it alone (docs/open-data.md), recorded under that token's id
        ledger = self._ledger_answers(session, period, set(views) | set(node))
        usage = self.usage(session, period.start, period.end)
        grants = []
        for grant_id in sorted(set(node) | set(ledger)):
            view = views.get(grant_id)
            reported = node.get(grant_id)
            live, late = ledger.get(grant_id, ({}, {}))
            relayed = {**live, **late}
            g = GrantResult(
                grant_id,
                view.consumer if view else "",
                node_answered=reported.answered if reported else 0,
                ledger_relayed=len(relayed),
                ledger_late=len(late),
                usage_records=usage.get(grant_id, 0),
            )
            if reported is not None and (reported.request_ids or not reported.answered):
                g.answered_not_relayed = sorted(set(reported.request_ids) - set(relayed))
                g.relayed_not_answered = sorted(set(relayed) - set(reported.request_ids))
            elif reported is None:
                g.relayed_not_answered = sorted(relayed)
            elif reported.request_ids_digest != request_ids_digest(relayed):
                # too many to list: the counts say which side has more
                extra = reported.answered - len(relayed)
                if extra > 0:
                    g.answered_not_relayed = [f"{extra} unnamed request(s)"]
                else:
                    g.relayed_not_answered = [f"{-extra or 1} unnamed request(s)"]
            grants.append(g)
        mismatched = [g for g in grants if g.answered_not_relayed or g.relayed_not_answered]
        result = NodeResult(
            target.code,
            "mismatch" if mismatched else "clean",
            f"{len(mismatched)} grant(s) differ between the node and the ledger"
            if mismatched
            else "",
            entries=self._holdings(session, target.code, period, report),
            grants=grants,
            report_signature=report.signature.hex(),
            reported_at=report.reported_at,
            key_id=report.key_id,
        )
        return result, {gid: {**live, **late} for gid, (live, late) in ledger.items()}

    def _ledger_answers(
        self, session: Session, period: Period, grants: set[str]
    ) -> dict[str, tuple[dict[str, int], dict[str, int]]]:
        """Grant → (live request id → sequence, late request id → sequence) for answers whose
        receipt time falls in the period (a late entry may be recorded long after it). A late
        entry whose receipt did not verify is not an answer the broker relayed: it is left out."""
        found: dict[str, tuple[dict[str, int], dict[str, int]]] = {}
        if not grants:
            return found
        rows = session.execute(
            select(LedgerEntry.sequence, LedgerEntry.kind, LedgerEntry.payload_json)
            .where(
                LedgerEntry.kind.in_(ANSWERED),
                LedgerEntry.recorded_at >= period.start_text,
                LedgerEntry.subject.in_(sorted(grants)),
            )
            .order_by(LedgerEntry.sequence)
        )
        for sequence, kind, payload_json in rows:
            payload = json.loads(payload_json)
            answered = str(payload.get("answered_at", ""))
            request_id = payload.get("request_id")
            if not (period.start_text <= answered < period.end_text) or not request_id:
                continue
            if kind == "query.relayed_late" and not payload.get("receipt_verified"):
                continue  # only the node's journal says so, and its receipt does not verify
            live, late = found.setdefault(payload["grant_id"], ({}, {}))
            (late if kind == "query.relayed_late" else live).setdefault(request_id, sequence)
        return found

    def _holdings(
        self, session: Session, node: str, period: Period, report: NodeReport
    ) -> list[EntryResult]:
        previous = session.execute(
            select(LedgerEntry.payload_json)
            .where(
                LedgerEntry.kind == KIND,
                LedgerEntry.subject.like(f"{node}/%"),
                LedgerEntry.subject < f"{node}/{period.start_text}",
            )
            .order_by(LedgerEntry.sequence.desc())
            .limit(1)
        ).scalar_one_or_none()
        before = {
            e["entry_code"]: e
            for e in (json.loads(previous).get("entries", []) if previous else [])
        }
        versions = self.versions(session)
        results = []
        for e in report.entries:
            version = versions.get(e.entry_code, 0)
            result = EntryResult(
                e.entry_code, e.record_count, e.content_digest.hex(), catalogue_version=version
            )
            old: dict[str, Any] | None = before.get(e.entry_code)
            if old is not None:
                result.previous_record_count = int(old["record_count"])
                result.changed = old["content_digest"] != result.content_digest
                result.catalogue_updated = old.get("catalogue_version", 0) != version
            results.append(result)
        return results

    # ------------------------------------------------------------------ findings
    def _raise_findings(
        self,
        session: Session,
        target: NodeTarget,
        period: Period,
        result: NodeResult,
        sequences: dict[str, dict[str, int]],
    ) -> list[int]:
        views = {g.id: g for g in self.grants(session)}
        ids = []
        start, end = period.start.astimezone(SHANGHAI), period.end.astimezone(SHANGHAI)
        when = f"{start:%Y-%m-%d %H:%M}..{end:%H:%M} (Asia/Shanghai)"
        for g in result.grants:
            for kind, requests in (
                ("answered_not_relayed", g.answered_not_relayed),
                ("relayed_not_answered", g.relayed_not_answered),
            ):
                if not requests:
                    continue
                key = f"{kind}:{g.grant_id}:{target.code}:{period.start_text}"
                if session.execute(
                    select(MisuseFinding.id).where(MisuseFinding.key == key)
                ).first():
                    continue
                answers = sequences.get(g.grant_id, {})
                evidence = [result.sequence, *sorted(answers[r] for r in requests if r in answers)]
                shown = ", ".join(requests[:SHOWN])
                if kind == "answered_not_relayed":
                    detail = (
                        f"node {target.code} reports answering {len(requests)} request(s) under "
                        f"grant {g.grant_id} in {when} that the ledger does not hold: {shown}; "
                        f"its signed report is in ledger entry {result.sequence}"
                    )
                else:
                    detail = (
                        f"the ledger holds {len(requests)} answered request(s) under grant "
                        f"{g.grant_id} in {when} that node {target.code} does not report: "
                        f"{shown}; its signed report is in ledger entry {result.sequence}"
                    )
                view = views.get(g.grant_id)
                consumer = view.consumer if view else g.consumer
                entry = self.ledger.append(
                    session,
                    kind="finding.recorded",
                    actor=self.settings.issuer,
                    subject=g.grant_id,
                    payload={
                        "kind": kind,
                        "consumer": consumer,
                        "provider": target.code,
                        "evidence": evidence[:SHOWN],
                        "detail": detail,
                        "request_ids": requests[:SHOWN],
                        "articles": [self.rules.article],
                    },
                )
                row = MisuseFinding(
                    key=key,
                    kind=kind,
                    grant_id=g.grant_id,
                    consumer=consumer,
                    provider=target.code,
                    article=self.rules.article,
                    evidence=evidence[:SHOWN],
                    detail=detail,
                    found_on=self.today(),
                    sequence=entry.sequence,
                )
                session.add(row)
                session.flush()
                ids.append(row.id)
                log.warning("finding %s: %s", kind, detail)
        return ids

    def _recorded(self, session: Session, node: str, period: Period) -> NodeResult | None:
        row = session.execute(
            select(LedgerEntry.sequence, LedgerEntry.payload_json).where(
                LedgerEntry.kind == KIND, LedgerEntry.subject == f"{node}/{period.start_text}"
            )
        ).first()
        if row is None:
            return None
        result = NodeResult.from_payload(json.loads(row.payload_json), row.sequence)
        result.findings = list(
            session.execute(
                select(MisuseFinding.id)
                .where(MisuseFinding.key.like(f"%:{node}:{period.start_text}"))
                .order_by(MisuseFinding.id)
            ).scalars()
        )
        return result
