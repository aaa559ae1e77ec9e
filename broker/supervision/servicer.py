"""tongdao.v1.Supervision: protobuf → supervision service → protobuf, nothing more."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.kernel.wire import ContextServicer, iso
from tongdao.broker.supervision.models import Deadline
from tongdao.broker.supervision.service import SupervisionService
from tongdao.v1 import (
    supervision_pb2,
    supervision_pb2_grpc,
)


def deadline_pb(d: Deadline, remaining: int, today: dt.date) -> supervision_pb2.Deadline:
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
    )


class SupervisionServicer(supervision_pb2_grpc.SupervisionServicer, ContextServicer):
    """Implements tongdao.v1.Supervision on :class:`SupervisionService`."""

    def __init__(self, service: SupervisionService, sessions: sessionmaker[Session]) -> None:
        self.service = service
        self.sessions = sessions

    def ListDeadlines(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            rows = self.service.list_deadlines(
                session,
                caller,
                overdue_only=request.overdue_only,
                include_closed=request.include_closed,
            )
            today = self.service.today()
            return supervision_pb2.ListDeadlinesResponse(
                deadlines=[deadline_pb(d, remaining, today) for d, remaining in rows]
            )

    def ExtendDeadline(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            deadline = self.service.extend_deadline(session, caller, request.id, request.basis)
            today = self.service.today()
            remaining = self.service.calendar.working_days_between(today, deadline.due_on)
            return deadline_pb(deadline, remaining, today)
