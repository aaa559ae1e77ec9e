"""tongdao.v1.Supervision: protobuf → supervision service → protobuf, nothing more."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.kernel.paging import next_token
from tongdao.broker.kernel.wire import ContextServicer, iso
from tongdao.broker.supervision.findings import MisuseDetector
from tongdao.broker.supervision.models import Deadline, RectificationOrder
from tongdao.broker.supervision.orders import RectificationOrders
from tongdao.broker.supervision.reconciliation import Reconciler
from tongdao.broker.supervision.service import SupervisionService
from tongdao.policies.i18n import DEFAULT_LOCALE, msg, render_stored
from tongdao.proto.errors import FailedPrecondition
from tongdao.proto.transport import caller_locale
from tongdao.v1 import (
    supervision_pb2,
    supervision_pb2_grpc,
)


def deadline_pb(
    d: Deadline, remaining: int, today: dt.date, provisional_note: str = ""
) -> supervision_pb2.Deadline:
    overdue = d.closed_late if d.closed_on else today > d.due_on
    return supervision_pb2.Deadline(
        id=d.id,
        kind=d.kind,
        subject=d.subject,
        responsible=d.responsible,
        article=d.article,
        working_days=d.working_days,
        started_on=iso(d.started_on),
        due_on=iso(d.due_on),
        remaining_working_days=remaining,
        overdue=overdue,
        closed_on=iso(d.closed_on),
        closed_late=d.closed_late,
        extensions=d.extensions,
        provisional=bool(provisional_note),
        provisional_note=provisional_note,
    )


def order_pb(o: RectificationOrder) -> supervision_pb2.RectificationOrder:
    return supervision_pb2.RectificationOrder(
        id=o.id,
        grant_id=o.grant_id,
        issuer=o.issuer,
        consumer=o.consumer,
        provider=o.provider,
        ground=o.ground,
        article=o.article,
        requirement=o.requirement,
        findings=list(o.findings),
        status=o.status,
        due_on=iso(o.due_on),
        terminate_on=iso(o.terminate_on),
        answer=o.answer or "",
        decision_reason=o.decision_reason or "",
        issued_on=iso(o.issued_on),
    )


class SupervisionServicer(supervision_pb2_grpc.SupervisionServicer, ContextServicer):
    """Implements tongdao.v1.Supervision on :class:`SupervisionService`."""

    def __init__(
        self,
        service: SupervisionService,
        sessions: sessionmaker[Session],
        findings: MisuseDetector | None = None,
        orders: RectificationOrders | None = None,
        reconciler: Reconciler | None = None,
    ) -> None:
        self.service = service
        self.sessions = sessions
        self.findings = findings
        self._orders = orders
        self.reconciler = reconciler

    def Reconcile(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        if self.reconciler is None:
            raise FailedPrecondition(msg("the rule file sets no daily reconciliation"))
        done = self.reconciler.on_demand(self.sessions, caller, request.day, run=request.run)
        return supervision_pb2.ReconcileResponse(
            period_start=done.period.start_text,
            period_end=done.period.end_text,
            article=done.article,
            reconciled=done.reconciled,
            nodes=[
                supervision_pb2.NodeReconciliation(
                    node=n.node,
                    status=n.status,
                    message=n.message,
                    sequence=n.sequence,
                    findings=n.findings,
                    entries=[supervision_pb2.EntryReconciliation(**asdict(e)) for e in n.entries],
                    grants=[supervision_pb2.GrantReconciliation(**asdict(g)) for g in n.grants],
                )
                for n in done.nodes
            ],
        )

    @property
    def orders(self) -> RectificationOrders:
        if self._orders is None:
            raise FailedPrecondition(msg("rectification orders are not configured at this broker"))
        return self._orders

    def IssueRectificationOrder(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            order = self.orders.issue(
                session,
                caller,
                request.grant_id,
                request.ground,
                request.requirement,
                tuple(request.findings),
            )
            return order_pb(order)

    def AnswerRectificationOrder(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            return order_pb(self.orders.answer(session, caller, request.id, request.changes))

    def DecideRectificationOrder(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            order = self.orders.decide(session, caller, request.id, request.accept, request.reason)
            return order_pb(order)

    def ListRectificationOrders(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        page = self.orders.page("rectification_orders", request.page_size, request.page_token)
        with self.sessions.begin() as session:
            if request.enforce:
                self.orders.enforce_on_demand(session, caller)
            rows = self.orders.list_orders(session, caller, request.grant_id, page)
            return supervision_pb2.ListRectificationOrdersResponse(
                orders=[order_pb(o) for o in rows], next_page_token=next_token(rows)
            )

    def ListFindings(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        if self.findings is None:
            raise FailedPrecondition(msg("misuse detection is not configured at this broker"))
        page = self.findings.page("findings", request.page_size, request.page_token)
        with self.sessions.begin() as session:
            new = 0
            if request.detect:
                new = len(self.findings.detect_on_demand(session, caller))
            rows = self.findings.list_findings(
                session, caller, kind=request.kind, grant_id=request.grant_id, page=page
            )
            locale = caller_locale(context, DEFAULT_LOCALE)
            return supervision_pb2.ListFindingsResponse(
                findings=[
                    supervision_pb2.Finding(
                        id=f.id,
                        kind=f.kind,
                        grant_id=f.grant_id,
                        consumer=f.consumer,
                        provider=f.provider,
                        article=f.article,
                        evidence=list(f.evidence),
                        detail=render_stored(f.detail_template, f.detail, locale),
                        found_on=iso(f.found_on),
                        sequence=f.sequence,
                    )
                    for f in rows
                ],
                new_findings=new,
                next_page_token=next_token(rows),
            )

    def _note(self, d: Deadline) -> str:
        status = self.service.due_status(d.started_on, d.due_on)
        return status.note(self.service.settings.locale)

    def ListDeadlines(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        page = self.service.page("deadlines", request.page_size, request.page_token)
        with self.sessions.begin() as session:
            rows = self.service.list_deadlines(
                session,
                caller,
                overdue_only=request.overdue_only,
                include_closed=request.include_closed,
                page=page,
            )
            today = self.service.today()
            warnings, _ = self.service.warnings(d for d, _ in rows)
            return supervision_pb2.ListDeadlinesResponse(
                deadlines=[
                    deadline_pb(d, remaining, today, self._note(d)) for d, remaining in rows
                ],
                warnings=self._in_callers_language(context, warnings),
                next_page_token=next_token(rows),
            )

    def ExtendDeadline(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            deadline = self.service.extend_deadline(session, caller, request.id, request.basis)
            today = self.service.today()
            remaining = self.service.remaining(deadline)
            return deadline_pb(deadline, remaining, today, self._note(deadline))

    def LoadHolidaySchedule(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            year, moved = self.service.load_schedule(
                session, caller, request.schedule_toml, request.file_name
            )
            return supervision_pb2.LoadHolidayScheduleResponse(
                year=year.year,
                holidays=len(year.holidays),
                workdays=len(year.workdays),
                recomputed=[
                    supervision_pb2.RecomputedDeadline(
                        id=m.deadline.id,
                        kind=m.deadline.kind,
                        subject=m.deadline.subject,
                        announced_due_on=iso(m.result.announced),
                        computed_due_on=iso(m.result.computed),
                        due_on=iso(m.result.due),
                        kept_announced=m.result.kept_announced,
                    )
                    for m in moved
                ],
            )

    def GetStatus(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            status = self.service.status(session, caller)
            return supervision_pb2.SupervisionStatus(
                policy_source=status.policy_source,
                policy_valid_from=iso(status.policy_valid_from),
                policy_valid_until=iso(status.policy_valid_until),
                warnings=self._in_callers_language(context, status.warnings),
                official_years=list(status.official_years),
                provisional_years=list(status.provisional_years),
            )
