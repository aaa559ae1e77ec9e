"""tongdao.v1.PublicData on :class:`OpenDataService` (the public listener only) and
tongdao.v1.OpenData on :class:`OpenDataWithdrawals` (the mutual-TLS listener)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.kernel.paging import next_token
from tongdao.broker.kernel.wire import ContextServicer, decision_pb, iso
from tongdao.broker.opendata.models import OpenDataWithdrawal
from tongdao.broker.opendata.service import OpenDataService, Requester
from tongdao.broker.opendata.withdrawals import OpenDataWithdrawals
from tongdao.broker.relay.gateway import NodeGateway
from tongdao.v1 import opendata_pb2, opendata_pb2_grpc

PAGES = "open_data_withdrawals"


def withdrawal_pb(w: OpenDataWithdrawal) -> opendata_pb2.OpenDataWithdrawal:
    return opendata_pb2.OpenDataWithdrawal(
        id=w.id,
        entry_code=w.entry_code,
        entry_name=w.entry_name,
        provider=w.provider,
        reason=w.reason,
        status=w.status,
        reviewer=w.reviewer,
        requested_at=iso(w.requested_at),
        decided_at=iso(w.decided_at),
        comment=w.comment,
        filed_with=w.filed_with,
        filed_at=iso(w.filed_at),
        announced_on=iso(w.announced_on),
        article=w.article,
    )


def _requester(pb: opendata_pb2.PublicRequester) -> Requester:
    return Requester(pb.name, pb.contact, pb.id_number)


class PublicDataServicer(opendata_pb2_grpc.PublicDataServicer):
    """Open data for anyone, without a client certificate."""

    def __init__(
        self, service: OpenDataService, sessions: sessionmaker[Session], gateway: NodeGateway
    ) -> None:
        self.service = service
        self.sessions = sessions
        self.gateway = gateway

    def DownloadOpenData(self, request, context):  # type: ignore[no-untyped-def]
        d = self.service.download(
            self.sessions,
            self.gateway,
            _requester(request.requester),
            request.entry_code,
            request.encryption_key,
            offset=request.offset,
            limit=request.limit,
            request_id=request.request_id,
            token=request.retrieval_token,
        )
        return opendata_pb2.OpenDataDownload(
            entry_code=d.entry_code,
            entry_version=d.entry_version,
            fields=list(d.fields),
            download_id=d.download_id,
            query_id=d.query_id,
            sealed_result=d.sealed_result,
            record_count=d.record_count,
            ledger_sequence=d.ledger_sequence,
            articles=list(d.articles),
        )

    def FileOpenDataRequest(self, request, context):  # type: ignore[no-untyped-def]
        with self.sessions.begin() as session:
            filed = self.service.file_request(
                session,
                _requester(request.requester),
                request.entry_code,
                tuple(request.data_items),
                request.purpose,
            )
            r = filed.request
            return opendata_pb2.OpenDataRequestTicket(
                id=r.id,
                retrieval_token=filed.retrieval_token,
                status=r.status,
                due_on=self.service.due_on(r),
                decision=decision_pb(r.decision),
            )

    def GetOpenDataRequest(self, request, context):  # type: ignore[no-untyped-def]
        with self.sessions() as session:
            r = self.service.lookup(session, request.id, request.retrieval_token)
            return opendata_pb2.OpenDataRequestStatus(
                id=r.id,
                entry_code=r.subject,
                status=r.status,
                decision=decision_pb(r.decision),
                due_on=self.service.due_on(r),
                data_items=list(r.details.get("data_items") or []),
                valid_until=iso(self.service.valid_until(r)),
                filed_at=iso(r.created_at),
            )

    def ListWithdrawalAnnouncements(self, request, context):  # type: ignore[no-untyped-def]
        page = self.service.page(PAGES, request.page_size, request.page_token)
        with self.sessions() as session:
            rows = self.service.withdrawals.announcements(session, page)
            return opendata_pb2.ListWithdrawalAnnouncementsResponse(
                announcements=[
                    opendata_pb2.WithdrawalAnnouncement(
                        id=w.id,
                        entry_code=w.entry_code,
                        entry_name=w.entry_name,
                        provider=w.provider,
                        reason=w.reason,
                        announced_on=iso(w.announced_on),
                        approved_by=w.decided_by,
                        filed_with=w.filed_with,
                        article=w.article,
                    )
                    for w in rows
                ],
                next_page_token=next_token(rows),
            )


class OpenDataServicer(opendata_pb2_grpc.OpenDataServicer, ContextServicer):
    """Withdrawals of open data: the provider asks, the same-level authority decides."""

    def __init__(self, service: OpenDataWithdrawals, sessions: sessionmaker[Session]) -> None:
        self.service = service
        self.sessions = sessions

    def RequestOpenDataWithdrawal(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            return withdrawal_pb(
                self.service.request(session, caller, request.entry_code, request.reason)
            )

    def DecideOpenDataWithdrawal(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            return withdrawal_pb(
                self.service.decide(session, caller, request.id, request.approve, request.comment)
            )

    def ListOpenDataWithdrawals(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        page = self.service.page(PAGES, request.page_size, request.page_token)
        with self.sessions() as session:
            rows = self.service.list(session, caller, request.status, page)
            return opendata_pb2.ListOpenDataWithdrawalsResponse(
                withdrawals=[withdrawal_pb(w) for w in rows], next_page_token=next_token(rows)
            )
