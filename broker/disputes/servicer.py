"""tongdao.v1.Disputes: protobuf → disputes service → protobuf, nothing more."""

from __future__ import annotations

import grpc
from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.disputes.models import Dispute
from tongdao.broker.disputes.service import DisputeService
from tongdao.broker.kernel.wire import ContextServicer, iso
from tongdao.policies.i18n import DEFAULT_LOCALE, render_stored
from tongdao.proto.transport import caller_locale
from tongdao.v1 import disputes_pb2, disputes_pb2_grpc


def dispute_pb(d: Dispute, locale: str = DEFAULT_LOCALE) -> disputes_pb2.Dispute:
    return disputes_pb2.Dispute(
        id=d.id,
        subject_kind=d.subject_kind,
        subject_id=d.subject_id,
        opened_by=d.opened_by,
        respondent=d.respondent,
        claim=d.claim,
        negotiation=d.negotiation,
        stage=d.stage,
        handler=d.handler,
        routing=render_stored(d.routing_template, d.routing, locale),
        article=d.article,
        status=d.status,
        due_on=iso(d.due_on),
        outcome=d.outcome,
        opened_on=iso(d.opened_on),
        closed_on=iso(d.closed_on),
    )


def dispute_pb_in(context: grpc.ServicerContext, d: Dispute) -> disputes_pb2.Dispute:
    """The dispute as the caller reads it (the routing reason in the call's language)."""
    return dispute_pb(d, caller_locale(context, DEFAULT_LOCALE))


class DisputesServicer(disputes_pb2_grpc.DisputesServicer, ContextServicer):
    """Implements tongdao.v1.Disputes on :class:`DisputeService`."""

    def __init__(self, service: DisputeService, sessions: sessionmaker[Session]) -> None:
        self.service = service
        self.sessions = sessions

    def OpenDispute(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            d = self.service.open(
                session,
                caller,
                request.subject_kind,
                request.subject_id,
                request.claim,
                request.negotiation,
            )
            return dispute_pb_in(context, d)

    def ReferDispute(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            return dispute_pb_in(
                context, self.service.refer(session, caller, request.id, request.reason)
            )

    def ResolveDispute(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            return dispute_pb_in(
                context, self.service.resolve(session, caller, request.id, request.outcome)
            )

    def WithdrawDispute(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            return dispute_pb_in(
                context, self.service.withdraw(session, caller, request.id, request.reason)
            )

    def GetDispute(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions() as session:
            return dispute_pb_in(context, self.service.get(session, caller, request.id))

    def ListDisputes(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions() as session:
            locale = caller_locale(context, DEFAULT_LOCALE)
            rows, token = self.service.list_page(
                session,
                caller,
                status=request.status,
                subject_id=request.subject_id,
                page_size=request.page_size,
                page_token=request.page_token,
            )
            return disputes_pb2.ListDisputesResponse(
                disputes=[dispute_pb(d, locale) for d in rows], next_page_token=token
            )
