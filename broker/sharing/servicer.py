"""tongdao.v1.Sharing: protobuf → sharing service → protobuf, nothing more."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.kernel.paging import next_token
from tongdao.broker.kernel.wire import ContextServicer, decision_pb, iso
from tongdao.broker.sharing.changes import GrantChangeData
from tongdao.broker.sharing.corrections import RECEIPT_KEY, CorrectionNodes
from tongdao.broker.sharing.cross_check import (
    CheckNotice,
    CheckSide,
    CrossCheckData,
    CrossVerifications,
)
from tongdao.broker.sharing.models import (
    Grant,
    GrantChange,
    PublicAccessSuspension,
    ShareRequest,
    UsageRecord,
)
from tongdao.broker.sharing.models import ServiceRequest as ServiceRequestRow
from tongdao.broker.sharing.regional_servicer import RegionalServicerMixin
from tongdao.broker.sharing.requests import ServiceRequestData, ServiceRequests
from tongdao.broker.sharing.service import ShareRequestData, SharingService
from tongdao.broker.sharing.usage import UsageData
from tongdao.policies.i18n import msg
from tongdao.proto.errors import InvalidArgument
from tongdao.proto.methods import (
    METHOD_NAMES,
    METHOD_VALUES,
)
from tongdao.v1 import (
    common_pb2,
    sharing_pb2,
    sharing_pb2_grpc,
)


def share_request_pb(r: ShareRequest, provisional: bool = False) -> sharing_pb2.ShareRequest:
    return sharing_pb2.ShareRequest(
        id=r.id,
        consumer=r.consumer,
        entry_code=r.entry_code,
        entry_version=r.entry_version,
        fields=r.fields,
        methods=[METHOD_VALUES[m] for m in r.methods],
        purpose=r.purpose,
        scenario=r.scenario,
        legal_basis=r.legal_basis,
        regions=r.regions,
        status=r.status,
        decision=decision_pb(r.decision),
        grant_id=r.grant_id or "",
        created_at=iso(r.created_at),
        due_date=iso(r.due_date),
        requested_validity_days=r.validity_days,
        requested_quota=r.quota,
        dp_epsilon=r.dp_epsilon,
        dp_budget=r.dp_budget,
        due_date_provisional=provisional,
        delegate=r.delegate or "",
    )


def service_request_pb(
    r: ServiceRequestRow, provisional: bool = False
) -> sharing_pb2.ServiceRequest:
    d = r.details
    due = d.get("demand_cataloguing_due_on") if r.status == "accepted" else None
    due = due or next((v for k, v in d.items() if k.endswith("_due_on")), "")
    return sharing_pb2.ServiceRequest(
        id=r.id,
        kind=r.kind,
        requester=r.requester,
        provider=r.provider,
        subject=r.subject,
        data_items=d.get("data_items", []),
        scenario=d.get("scenario", ""),
        legal_basis=d.get("legal_basis", ""),
        description=d.get("description", ""),
        record_key=d.get("record_key", ""),
        status=r.status,
        decision=decision_pb(r.decision),
        due_date=due if r.status in ("pending", "accepted") else "",
        fulfilled_by=r.fulfilled_by or "",
        created_at=iso(r.created_at),
        due_date_provisional=provisional and r.status in ("pending", "accepted"),
        urgent=bool(d.get("urgent")),
        urgent_handler=(d.get("urgent") or {}).get("handler", ""),
        urgent_due_date=(d.get("urgent") or {}).get("due_on", ""),
        urgent_outcome=(d.get("urgent") or {}).get("outcome", ""),
        correction_id=d.get("correction_id", ""),
        cross_check_run=d.get("cross_check_run", ""),
        sealed_record_key=base64.b64decode(d.get("sealed_record_key", "")),
        correction_receipt=correction_receipt_pb(r.id, d.get(RECEIPT_KEY)),
    )


def correction_receipt_pb(
    request_id: str, record: dict[str, Any] | None
) -> common_pb2.CorrectionReceipt | None:
    """The node's receipt as stored on the correction (digests hex, signature base64)."""
    if not record:
        return None
    return common_pb2.CorrectionReceipt(
        request_id=request_id,
        department=record["department"],
        entry_code=record["entry_code"],
        correction_id=record["correction_id"],
        fields=record["fields"],
        before_digest=bytes.fromhex(record["before_digest"]),
        after_digest=bytes.fromhex(record["after_digest"]),
        key_id=record["key_id"],
        decided_at=record["decided_at"],
        refusal=record["refusal"],
        signature=base64.b64decode(record["signature"]),
    )


def _service_due(r: ServiceRequestRow) -> tuple[dt.datetime | None, dt.date | None]:
    """When the open clock of a service request started and when it is due."""
    accepted = r.status == "accepted"
    key = "demand_cataloguing_due_on" if accepted else ""
    text = r.details.get(key) if key else None
    text = text or next((v for k, v in r.details.items() if k.endswith("_due_on")), "")
    started = r.decided_at if accepted else r.created_at
    return started, dt.date.fromisoformat(text) if text else None


def grant_pb(g: Grant, *, with_token: bool) -> sharing_pb2.Grant:
    return sharing_pb2.Grant(
        id=g.id,
        share_request_id=g.share_request_id,
        consumer=g.consumer,
        provider=g.provider,
        entry_code=g.entry_code,
        entry_version=g.entry_version,
        fields=g.fields,
        methods=[METHOD_VALUES[m] for m in g.methods],
        purpose=g.purpose,
        expires_at=iso(g.expires_at),
        quota=g.quota,
        used=g.used,
        status=g.status,
        token=g.token if with_token else "",
        status_ground=g.status_ground or "",
        status_article=g.status_article or "",
        status_reason=g.status_reason or "",
        status_changed_by=g.status_changed_by or "",
        status_changed_at=iso(g.status_changed_at),
        last_used_at=iso(g.last_used_at),
        regions=list(g.regions or ()),
        delegate=g.delegate or "",
        return_flow_id=g.return_flow_id or "",
    )


def change_pb(c: GrantChange, article: str) -> sharing_pb2.GrantChange:
    return sharing_pb2.GrantChange(
        id=c.id,
        grant_id=c.grant_id,
        consumer=c.consumer,
        provider=c.provider,
        kind=c.kind,
        fields=list(c.fields),
        purpose=c.purpose,
        third_party=c.third_party,
        reason=c.reason,
        status=c.status,
        decision_reason=c.decision_reason,
        result_grant_id=c.result_grant_id,
        created_at=iso(c.created_at),
        decided_at=iso(c.decided_at),
        articles=[article],
    )


def public_access_pb(r: PublicAccessSuspension) -> sharing_pb2.PublicAccess:
    return sharing_pb2.PublicAccess(
        requester=r.requester,
        status=r.status,
        ground=r.ground,
        article=r.article,
        reason=r.reason,
        correction=r.correction,
        changed_by=r.changed_by,
        changed_at=iso(r.changed_at),
    )


def usage_pb(r: UsageRecord) -> sharing_pb2.UsageRecord:
    return sharing_pb2.UsageRecord(
        id=r.id,
        grant_id=r.grant_id,
        consumer=r.consumer,
        provider=r.provider,
        entry_code=r.entry_code,
        scenario=r.scenario,
        outcome=r.outcome,
        process=r.process,
        storage=r.storage,
        destruction=r.destruction,
        recorded_at=iso(r.recorded_at),
        retain_until=iso(r.retain_until),
        sequence=r.sequence,
    )


def _method_names(values: Any, field: str) -> tuple[str, ...]:
    out = []
    for value in values:
        if value not in METHOD_NAMES:
            raise InvalidArgument(
                msg("unknown query method value {value}", value=value), field=field
            )
        out.append(METHOD_NAMES[value])
    return tuple(out)


class SharingServicer(RegionalServicerMixin, sharing_pb2_grpc.SharingServicer, ContextServicer):
    """Implements tongdao.v1.Sharing on :class:`SharingService` and :class:`ServiceRequests`."""

    def __init__(
        self,
        service: SharingService,
        sessions: sessionmaker[Session],
        correction_nodes: CorrectionNodes | None = None,
    ) -> None:
        self.service = service
        self.sessions = sessions
        self.requests = ServiceRequests(service, correction_nodes)
        self.cross_checks = CrossVerifications(self.requests, correction_nodes)

    def _share(self, r: ShareRequest) -> sharing_pb2.ShareRequest:
        return share_request_pb(r, self.service.due_provisional(r.created_at, r.due_date))

    def _service(self, r: ServiceRequestRow) -> sharing_pb2.ServiceRequest:
        return service_request_pb(r, self.service.due_provisional(*_service_due(r)))

    def FileShareRequest(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        r = request.request
        data = ShareRequestData(
            entry_code=r.entry_code,
            fields=tuple(r.fields),
            methods=_method_names(r.methods, "request.methods"),
            purpose=r.purpose,
            scenario=r.scenario,
            legal_basis=r.legal_basis,
            regions=tuple(r.regions),
            validity_days=r.requested_validity_days,
            quota=r.requested_quota,
            dp_epsilon=r.dp_epsilon,
            dp_budget=r.dp_budget,
        )
        with self.sessions.begin() as session:
            return self._share(self.service.file_share_request(session, caller, data))

    def ListShareRequests(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        page = self.service.page("share_requests", request.page_size, request.page_token)
        with self.sessions.begin() as session:
            rows = self.service.list_share_requests(
                session, caller, request.role or "consumer", request.status, page
            )
            return sharing_pb2.ListShareRequestsResponse(
                requests=[self._share(r) for r in rows], next_page_token=next_token(rows)
            )

    def GetShareRequest(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            row = self.service.get_share_request(session, request.id)
            if caller not in (row.consumer, row.provider, row.delegate):
                self.service.require_authority(session, caller)
            return self._share(row)

    def DecideShareRequest(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            row = self.service.decide_share_request(
                session, caller, request.id, request.approve, request.reason
            )
            return self._share(row)

    def ChangeGrantStatus(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            grant = self.service.change_grant_status(
                session, caller, request.grant_id, request.change, request.ground, request.reason
            )
            return grant_pb(grant, with_token=False)

    def RecordUsage(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        r = request.record
        data = UsageData(r.scenario, r.outcome, r.process, r.storage, r.destruction)
        with self.sessions.begin() as session:
            return usage_pb(self.service.record_usage(session, caller, request.grant_id, data))

    def ListUsage(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        page = self.service.page("usage", request.page_size, request.page_token)
        with self.sessions.begin() as session:
            filters = {"entry_code": request.entry_code, "grant_id": request.grant_id}
            records, calls, token = self.service.usage_page(
                session, caller, request.role, page, **filters
            )
            return sharing_pb2.ListUsageResponse(
                next_page_token=token,
                records=[usage_pb(r) for r in records],
                calls=[
                    sharing_pb2.RelayedCall(
                        sequence=c.sequence,
                        recorded_at=c.recorded_at,
                        kind=c.kind,
                        grant_id=c.grant_id,
                        consumer=c.consumer,
                        method=c.method,
                        fields=list(c.fields),
                    )
                    for c in calls
                ],
            )

    def PurgeUsageRecords(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        try:
            before = dt.date.fromisoformat(request.before)
        except ValueError:
            raise InvalidArgument(msg("must be an ISO 8601 date"), field="before") from None
        with self.sessions.begin() as session:
            purged = self.service.purge_usage_records(session, caller, before)
            return sharing_pb2.PurgeUsageRecordsResponse(purged=purged)

    def RequestGrantChange(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        data = GrantChangeData(
            kind=request.kind,
            fields=tuple(request.fields),
            purpose=request.purpose,
            third_party=request.third_party,
            reason=request.reason,
        )
        with self.sessions.begin() as session:
            change = self.service.request_grant_change(session, caller, request.grant_id, data)
            return change_pb(change, self.service.policy.sharing.purpose_binding_article)

    def DecideGrantChange(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            change = self.service.decide_grant_change(
                session, caller, request.id, request.consent, request.reason
            )
            return change_pb(change, self.service.policy.sharing.purpose_binding_article)

    def ListGrantChanges(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        page = self.service.page("grant_changes", request.page_size, request.page_token)
        with self.sessions.begin() as session:
            rows = self.service.list_grant_changes(
                session, caller, request.role or "consumer", request.grant_id, page
            )
            article = self.service.policy.sharing.purpose_binding_article
            return sharing_pb2.ListGrantChangesResponse(
                changes=[change_pb(c, article) for c in rows], next_page_token=next_token(rows)
            )

    def ChangePublicAccess(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            row = self.service.change_public_access(
                session, caller, request.requester, request.change, request.reason
            )
            return public_access_pb(row)

    def ListPublicAccess(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        page = self.service.page("public_access", request.page_size, request.page_token)
        with self.sessions.begin() as session:
            rows = self.service.public_access(session, caller, page)
            return sharing_pb2.ListPublicAccessResponse(
                requesters=[public_access_pb(r) for r in rows], next_page_token=next_token(rows)
            )

    def GetGrant(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            grant = self.service.get_grant(session, caller, request.id)
            reply = grant_pb(grant, with_token=caller == grant.consumer)
            sunset_on = self.service.entry_sunset_on(session, grant)
            if sunset_on is not None:
                reply.entry_sunset_on = iso(sunset_on)  # CAT-7: shown to the consumer
            return reply

    def FileServiceRequest(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        r = request.request
        data = ServiceRequestData(
            kind=r.kind,
            provider=r.provider,
            subject=r.subject,
            requester=r.requester,
            data_items=tuple(r.data_items),
            scenario=r.scenario,
            legal_basis=r.legal_basis,
            description=r.description,
            record_key=r.record_key,
            urgent=r.urgent,
            sealed_correction=r.sealed_correction,
            correction_id=r.correction_id,
        )
        with self.sessions.begin() as session:
            return self._service(self.requests.file(session, caller, data))

    def RecordUrgentHandling(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            row = self.requests.record_urgent_handling(session, caller, request.id, request.outcome)
            return self._service(row)

    def RunCrossVerification(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        data = CrossCheckData(
            run_id=request.run_id,
            sides=tuple(CheckSide(x.entry_code, x.item, x.sealed_check) for x in request.sides),
            notices=tuple(
                CheckNotice(n.key_digest, tuple(n.sealed_record_keys)) for n in request.notices
            ),
            description=request.description,
        )
        with self.sessions.begin() as session:
            r = self.cross_checks.run(session, caller, data)
        return sharing_pb2.CrossVerification(
            run_id=r.run_id,
            checked=r.checked,
            matched=r.matched,
            mismatched=r.mismatched,
            missing=r.missing,
            notice_ids=list(r.notice_ids),
            mismatched_key_digests=list(r.mismatched_key_digests),
            articles=list(r.articles),
        )

    def DecideServiceRequest(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            row = self.requests.decide(session, caller, request.id, request.approve, request.reason)
            return self._service(row)

    def FulfilDataNeed(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            row = self.requests.fulfil(session, caller, request.id, request.entry_code)
            return self._service(row)

    def ListServiceRequests(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        page = self.service.page("service_requests", request.page_size, request.page_token)
        with self.sessions.begin() as session:
            rows = self.requests.list(
                session, caller, request.role or "provider", request.kind, page
            )
            return sharing_pb2.ListServiceRequestsResponse(
                requests=[self._service(r) for r in rows], next_page_token=next_token(rows)
            )
