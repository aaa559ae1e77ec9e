"""Supervision context: the working-day clocks of time-limited items and who is late.

Other contexts start and close clocks through this service; the authority lists and extends
them. Plain Python over a caller-owned session; no gRPC."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.context import AUTHORITY, ContextService, decision_dict
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.supervision.models import Deadline
from tongdao.policies.calendar import UnknownYearError
from tongdao.policies.engine import decide_deadline_extension
from tongdao.proto.errors import (
    FailedPrecondition,
    NotFound,
)


@dataclass(kw_only=True)
class SupervisionService(ContextService):
    """Deadlines (SUP-1): started and closed by the other contexts, listed and extended here."""

    ledger: Ledger
    directory: DirectoryService

    def start_deadline(
        self, session: Session, *, kind: str, subject: str, responsible: str
    ) -> dt.date:
        """Start the policy's working-day clock ``kind`` today; return its due date (SUP-1)."""
        rule = self.policy.deadline(kind)
        started = self.today()
        try:
            due = self.calendar.due_date(started, rule.working_days)
        except UnknownYearError as exc:
            raise FailedPrecondition(
                f"cannot set the {rule.working_days}-working-day deadline: {exc}",
                articles=(rule.article,),
            ) from None
        session.add(
            Deadline(
                kind=kind,
                subject=subject,
                responsible=responsible,
                article=rule.article,
                working_days=rule.working_days,
                started_on=started,
                due_on=due,
            )
        )
        return due

    def close_deadline(self, session: Session, *, kind: str, subject: str) -> Deadline | None:
        deadline = session.execute(
            select(Deadline).where(
                Deadline.kind == kind, Deadline.subject == subject, Deadline.closed_on.is_(None)
            )
        ).scalar_one_or_none()
        if deadline is not None:
            deadline.closed_on = self.today()
            deadline.closed_late = deadline.closed_on > deadline.due_on
        return deadline

    def list_deadlines(
        self,
        session: Session,
        caller: str,
        *,
        overdue_only: bool = False,
        include_closed: bool = False,
    ) -> list[tuple[Deadline, int]]:
        """Time-limited items with their remaining working days (SUP-1).

        The authority sees every item; a department sees the items it is responsible for.

        Returns:
            (deadline, remaining working days) pairs; remaining < 0 means overdue.
        """
        query = select(Deadline).order_by(Deadline.due_on, Deadline.id)
        if caller != AUTHORITY:
            dept = self.directory.require_registered(session, caller)
            if not dept.is_authority:
                query = query.where(Deadline.responsible == caller)
        if not include_closed:
            query = query.where(Deadline.closed_on.is_(None))
        today = self.today()
        out = []
        for deadline in session.execute(query).scalars():
            remaining = self.calendar.working_days_between(today, deadline.due_on)
            overdue = deadline.closed_late if deadline.closed_on else today > deadline.due_on
            if overdue_only and not overdue:
                continue
            out.append((deadline, remaining))
        return out

    def extend_deadline(
        self, session: Session, caller: str, deadline_id: int, basis: str
    ) -> Deadline:
        """Grant the extension a clock allows, with its stated policy basis (Art.15)."""
        self.directory.require_authority(session, caller)
        deadline = session.get(Deadline, v.row_id(deadline_id, "id"))
        if deadline is None:
            raise NotFound(f"no deadline {deadline_id}", field="id")
        if deadline.closed_on is not None:
            raise FailedPrecondition("the item is already closed", field="id")
        decision = decide_deadline_extension(
            self.policy,
            deadline.kind,
            basis=basis,
            extensions_granted=deadline.extensions,
            locale=self.settings.locale,
            today=self.today(),
        )
        if decision.outcome != "approved" or not decision.due_working_days:
            raise FailedPrecondition(decision.reason, field="basis", articles=decision.articles)
        try:
            deadline.due_on = self.calendar.due_date(deadline.due_on, decision.due_working_days)
        except UnknownYearError as exc:
            raise FailedPrecondition(str(exc), articles=decision.articles) from None
        deadline.extensions += 1
        self.ledger.append(
            session,
            kind="deadline.extended",
            actor=caller,
            subject=deadline.subject,
            payload={
                "kind": deadline.kind,
                "basis": basis.strip(),
                "due_on": deadline.due_on.isoformat(),
                "decision": decision_dict(decision),
            },
        )
        return deadline
