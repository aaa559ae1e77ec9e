"""tongdao.v1.TypicalCases: protobuf → typical-cases service → protobuf, nothing more."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.cases.models import TypicalCase
from tongdao.broker.cases.service import CaseData, TypicalCaseService
from tongdao.broker.kernel.wire import ContextServicer, iso
from tongdao.v1 import cases_pb2, cases_pb2_grpc


def case_pb(c: TypicalCase) -> cases_pb2.TypicalCase:
    return cases_pb2.TypicalCase(
        id=c.id,
        department=c.department,
        region=c.region,
        subject=c.subject,
        scenario=c.scenario,
        outcome=c.outcome,
        data_sources=list(c.data_sources),
        grants=list(c.grants),
        recorded_by=c.recorded_by,
        recorded_on=iso(c.recorded_on),
        article=c.article,
    )


class TypicalCasesServicer(cases_pb2_grpc.TypicalCasesServicer, ContextServicer):
    """Implements tongdao.v1.TypicalCases on :class:`TypicalCaseService`."""

    def __init__(self, service: TypicalCaseService, sessions: sessionmaker[Session]) -> None:
        self.service = service
        self.sessions = sessions

    def RecordTypicalCase(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        data = CaseData(
            department=request.department,
            subject=request.subject,
            scenario=request.scenario,
            outcome=request.outcome,
            grants=tuple(request.grants),
            other_sources=tuple(request.other_sources),
        )
        with self.sessions.begin() as session:
            return case_pb(self.service.record(session, caller, data))

    def ListTypicalCases(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions() as session:
            rows, token = self.service.list_page(
                session,
                caller,
                region=request.region,
                page_size=request.page_size,
                page_token=request.page_token,
            )
            return cases_pb2.ListTypicalCasesResponse(
                cases=[case_pb(c) for c in rows], next_page_token=token
            )

    def ReportTypicalCases(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions() as session:
            r = self.service.report(session, caller, request.region)
        return cases_pb2.TypicalCaseReport(
            region=r.region,
            level=r.level,
            total=r.total,
            by_region=[cases_pb2.CaseCount(name=n, cases=c) for n, c in r.by_region],
            by_source=[cases_pb2.CaseCount(name=n, cases=c) for n, c in r.by_source],
            article=r.article,
        )
