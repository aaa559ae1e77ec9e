"""tongdao.v1.PublicData on :class:`OpenDataService`, registered on the public listener only."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.kernel.wire import decision_pb, iso
from tongdao.broker.opendata.service import OpenDataService, Requester
from tongdao.broker.relay.gateway import NodeGateway
from tongdao.v1 import opendata_pb2, opendata_pb2_grpc


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
