"""The broker's gRPC servicer: protobuf → domain → protobuf, nothing more.

The caller's identity is the subject CN of its verified client certificate. Each RPC runs in one
transaction it owns (the relay opens two short ones around the node call).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import grpc
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker import ledger as ledger_mod
from tongdao.broker import validation as v
from tongdao.broker.catalogue_search import SearchFilters, SearchHit
from tongdao.broker.models import (
    CatalogueEntry,
    Deadline,
    Department,
    Grant,
    LedgerEntry,
    ShareRequest,
)
from tongdao.broker.models import ServiceRequest as ServiceRequestRow
from tongdao.broker.service_requests import ServiceRequestData, ServiceRequests
from tongdao.broker.services import (
    BrokerServices,
    DataItemData,
    DepartmentData,
    EntryData,
    NodeGateway,
    ShareRequestData,
)
from tongdao.crypto.signing import VerifyKey
from tongdao.proto.errors import InvalidArgument, Unauthenticated
from tongdao.proto.methods import (
    METHOD_NAMES,
    METHOD_VALUES,
    OPEN_TYPE_NAMES,
    OPEN_TYPE_VALUES,
    SHARE_TYPE_NAMES,
    SHARE_TYPE_VALUES,
)
from tongdao.proto.query import RelayedQuery
from tongdao.proto.transport import peer_common_name
from tongdao.v1 import broker_pb2, broker_pb2_grpc, common_pb2


def _iso(value: dt.datetime | dt.date | None) -> str:
    return value.isoformat() if value else ""


def _decision(d: dict[str, Any] | None) -> common_pb2.Decision:
    d = d or {}
    return common_pb2.Decision(
        outcome=d.get("outcome", ""),
        articles=d.get("articles", []),
        reason=d.get("reason", ""),
        rule=d.get("rule", ""),
    )


def department_pb(dept: Department) -> broker_pb2.Department:
    return broker_pb2.Department(
        code=dept.code,
        name=dept.name,
        region=dept.region,
        level=dept.level,
        node_endpoint=dept.node_endpoint,
        encryption_public_key=dept.encryption_public_key,
        signing_public_key=dept.signing_public_key,
        is_authority=dept.is_authority,
    )


def entry_pb(
    entry: CatalogueEntry, content: dict[str, Any], version: int
) -> broker_pb2.CatalogueEntry:
    return broker_pb2.CatalogueEntry(
        code=entry.code,
        version=version,
        name=content["name"],
        description=content["description"],
        provider=content["provider"],
        data_items=[broker_pb2.DataItem(**item) for item in content["data_items"]],
        key_field=content["key_field"],
        data_format=content["data_format"],
        update_frequency=content["update_frequency"],
        share_type=SHARE_TYPE_VALUES[content["share_type"]],
        share_scope_departments=content["share_scope_departments"],
        share_scope_levels=content["share_scope_levels"],
        share_scope_regions=content["share_scope_regions"],
        permitted_purposes=content["permitted_purposes"],
        legal_basis=content["legal_basis"],
        open_type=OPEN_TYPE_VALUES[content["open_type"]],
        open_conditions=content["open_conditions"],
        status=entry.status,
        classification=content["classification"],
        grade=content["grade"],
        effective_share_type=SHARE_TYPE_VALUES[content["effective_share_type"]],
        validation=_decision(content.get("validation")),
        aggregation_mode=content.get("aggregation_mode", "logical"),
        tags=content.get("tags", []),
        subject_consent=bool(content.get("subject_consent", False)),
        contains_trade_secret=bool(content.get("contains_trade_secret", False)),
        reviewer=entry.reviewer,
        sunset_on=_iso(entry.sunset_on),
        review_comments=content.get("review_comments", ""),
        obtainable_by_sharing=[
            broker_pb2.SharingHint(**hint) for hint in content.get("obtainable_by_sharing", [])
        ],
        revocation_reason=entry.revocation_reason,
    )


def _filters(f: broker_pb2.SearchFilters) -> SearchFilters:
    return SearchFilters(
        provider=f.provider,
        region=f.region,
        share_type=SHARE_TYPE_NAMES.get(f.share_type, ""),
        open_type=OPEN_TYPE_NAMES.get(f.open_type, ""),
        tag=f.tag,
        grade=f.grade,
    )


def hit_pb(h: SearchHit) -> broker_pb2.SearchHit:
    return broker_pb2.SearchHit(
        code=h.code,
        version=h.version,
        name=h.name,
        provider=h.provider,
        region=h.region,
        share_type=SHARE_TYPE_VALUES[h.share_type],
        open_type=OPEN_TYPE_VALUES[h.open_type],
        status=h.status,
        sunset_on=_iso(h.sunset_on),
        tags=list(h.tags),
        score=h.score,
        matched_items=list(h.matched_items),
    )


def share_request_pb(r: ShareRequest) -> broker_pb2.ShareRequest:
    return broker_pb2.ShareRequest(
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
        decision=_decision(r.decision),
        grant_id=r.grant_id or "",
        created_at=_iso(r.created_at),
        due_date=_iso(r.due_date),
        requested_validity_days=r.validity_days,
        requested_quota=r.quota,
        dp_epsilon=r.dp_epsilon,
        dp_budget=r.dp_budget,
    )


def service_request_pb(r: ServiceRequestRow) -> broker_pb2.ServiceRequest:
    d = r.details
    due = d.get("demand_cataloguing_due_on") if r.status == "accepted" else None
    due = due or next((v for k, v in d.items() if k.endswith("_due_on")), "")
    return broker_pb2.ServiceRequest(
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
        decision=_decision(r.decision),
        due_date=due if r.status in ("pending", "accepted") else "",
        fulfilled_by=r.fulfilled_by or "",
        created_at=_iso(r.created_at),
    )


def grant_pb(g: Grant, *, with_token: bool) -> broker_pb2.Grant:
    return broker_pb2.Grant(
        id=g.id,
        share_request_id=g.share_request_id,
        consumer=g.consumer,
        provider=g.provider,
        entry_code=g.entry_code,
        entry_version=g.entry_version,
        fields=g.fields,
        methods=[METHOD_VALUES[m] for m in g.methods],
        purpose=g.purpose,
        expires_at=_iso(g.expires_at),
        quota=g.quota,
        used=g.used,
        status=g.status,
        token=g.token if with_token else "",
    )


def deadline_pb(d: Deadline, remaining: int, today: dt.date) -> broker_pb2.Deadline:
    overdue = d.closed_late if d.closed_on else today > d.due_on
    return broker_pb2.Deadline(
        id=d.id,
        kind=d.kind,
        subject=d.subject,
        responsible=d.responsible,
        article=d.article,
        working_days=d.working_days,
        started_on=_iso(d.started_on),
        due_on=_iso(d.due_on),
        remaining_working_days=remaining,
        overdue=overdue,
        closed_on=_iso(d.closed_on),
        closed_late=d.closed_late,
        extensions=d.extensions,
    )


def _method_names(values: Any, field: str) -> tuple[str, ...]:
    out = []
    for value in values:
        if value not in METHOD_NAMES:
            raise InvalidArgument(f"unknown query method value {value}", field=field)
        out.append(METHOD_NAMES[value])
    return tuple(out)


class BrokerServicer(broker_pb2_grpc.BrokerServicer):
    """Implements tongdao.v1.Broker on top of :class:`BrokerServices`."""

    def __init__(
        self,
        services: BrokerServices,
        sessions: sessionmaker[Session],
        gateway: NodeGateway,
        broker_verify_key: VerifyKey,
    ) -> None:
        self.services = services
        self.sessions = sessions
        self.gateway = gateway
        self.broker_verify_key = broker_verify_key
        self.requests = ServiceRequests(services)

    @staticmethod
    def _caller(context: grpc.ServicerContext) -> str:
        caller = peer_common_name(context)
        if not caller:
            raise Unauthenticated("no verified client certificate")
        return caller

    # ------------------------------------------------------------------ directory
    def RegisterDepartment(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        d = request.department
        data = DepartmentData(
            code=d.code,
            name=d.name,
            region=d.region,
            level=d.level,
            node_endpoint=d.node_endpoint,
            encryption_public_key=d.encryption_public_key,
            signing_public_key=d.signing_public_key,
            is_authority=d.is_authority,
        )
        with self.sessions.begin() as session:
            return department_pb(self.services.register_department(session, caller, data))

    def GetDepartment(self, request, context):  # type: ignore[no-untyped-def]
        self._caller(context)
        with self.sessions.begin() as session:
            return department_pb(self.services.get_department(session, request.code))

    def ListDepartments(self, request, context):  # type: ignore[no-untyped-def]
        self._caller(context)
        with self.sessions.begin() as session:
            depts = self.services.list_departments(session)
            return broker_pb2.ListDepartmentsResponse(departments=[department_pb(d) for d in depts])

    # ------------------------------------------------------------------ catalogue
    def _entry_data(self, e: broker_pb2.CatalogueEntry) -> EntryData:
        if e.share_type not in SHARE_TYPE_NAMES:
            raise InvalidArgument(
                "must be set",
                field="entry.share_type",
                articles=(self.services.policy.sharing.share_type_article,),
            )
        return EntryData(
            code=e.code,
            name=e.name,
            description=e.description,
            provider=e.provider,
            data_items=tuple(
                DataItemData(i.name, i.type, i.description, i.sensitivity, i.classification)
                for i in e.data_items
            ),
            key_field=e.key_field,
            data_format=e.data_format,
            update_frequency=e.update_frequency,
            share_type=SHARE_TYPE_NAMES[e.share_type],
            share_scope_departments=tuple(e.share_scope_departments),
            share_scope_levels=tuple(e.share_scope_levels),
            share_scope_regions=tuple(e.share_scope_regions),
            permitted_purposes=tuple(e.permitted_purposes),
            legal_basis=e.legal_basis,
            open_type=OPEN_TYPE_NAMES.get(e.open_type, "not_open"),
            open_conditions=e.open_conditions,
            classification=e.classification,
            grade=e.grade,
            aggregation_mode=e.aggregation_mode or "logical",
            tags=tuple(e.tags),
            subject_consent=e.subject_consent,
            contains_trade_secret=e.contains_trade_secret,
        )

    def CreateCatalogueEntry(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        data = self._entry_data(request.entry)
        with self.sessions.begin() as session:
            entry = self.services.create_entry(session, caller, data)
            return entry_pb(entry, entry.content, entry.current_version)

    def SubmitCatalogueEntry(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            entry = self.services.submit_entry(session, caller, request.code)
            return entry_pb(entry, entry.content, entry.current_version)

    def PublishCatalogueEntry(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            entry = self.services.publish_entry(session, caller, request.code, request.comment)
            return entry_pb(entry, entry.content, entry.current_version)

    def ReturnCatalogueEntry(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            entry = self.services.return_entry(session, caller, request.code, request.comments)
            return entry_pb(entry, entry.content, entry.current_version)

    def ReviseCatalogueEntry(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        data = self._entry_data(request.entry)
        with self.sessions.begin() as session:
            entry = self.services.revise_entry(session, caller, data)
            return entry_pb(entry, entry.content, entry.current_version)

    def RequireCatalogueUpdate(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            entry = self.services.require_update(session, caller, request.code, request.basis)
            return entry_pb(entry, entry.content, entry.current_version)

    def GetCatalogueEntry(self, request, context):  # type: ignore[no-untyped-def]
        self._caller(context)
        with self.sessions.begin() as session:
            entry, content, version = self.services.get_entry(
                session, request.code, request.version
            )
            return entry_pb(entry, content, version)

    def ListCatalogueEntries(self, request, context):  # type: ignore[no-untyped-def]
        self._caller(context)
        with self.sessions.begin() as session:
            entries = self.services.list_entries(session, request.provider, request.status)
            return broker_pb2.ListCatalogueEntriesResponse(
                entries=[entry_pb(e, e.content, e.current_version) for e in entries]
            )

    def RequestCatalogueRevocation(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            entry = self.services.request_revocation(session, caller, request.code, request.reason)
            return entry_pb(entry, entry.content, entry.current_version)

    def DecideCatalogueRevocation(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            entry = self.services.decide_revocation(
                session, caller, request.code, request.approve, request.comment
            )
            return entry_pb(entry, entry.content, entry.current_version)

    def WithdrawDueEntries(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            codes = self.services.withdraw_due_entries(session, caller)
            return broker_pb2.WithdrawDueEntriesResponse(codes=codes)

    def SearchCatalogue(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            hits, more = self.services.search_catalogue(
                session,
                caller,
                request.query,
                _filters(request.filters),
                limit=request.limit,
                offset=request.offset,
            )
            return broker_pb2.SearchCatalogueResponse(hits=[hit_pb(h) for h in hits], has_more=more)

    def MatchCatalogue(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            hits = self.services.match_catalogue(
                session,
                caller,
                request.need,
                list(request.items),
                _filters(request.filters),
                limit=request.limit,
            )
            return broker_pb2.SearchCatalogueResponse(hits=[hit_pb(h) for h in hits])

    def GetOpenCatalogue(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            rows, more = self.services.open_catalogue(
                session,
                caller,
                provider=request.provider,
                limit=request.limit,
                offset=request.offset,
            )
            return open_catalogue_pb(rows, more)

    def ImportCatalogue(self, request, context):  # type: ignore[no-untyped-def]
        """Validate and import in a worker thread; stream its progress, then the report."""
        import queue
        import threading

        caller = self._caller(context)
        updates: queue.Queue[tuple[str, Any]] = queue.Queue()

        def expired() -> bool:
            """The caller's deadline passed, or the caller went away."""
            remaining = context.time_remaining()
            return not context.is_active() or (remaining is not None and remaining <= 0)

        def work() -> None:
            try:
                with self.sessions.begin() as session:
                    self.services.check_importer(
                        session, caller, request.format, publish=request.publish
                    )
                # the file is read with no transaction open: a large or hostile file never
                # holds the store's write lock, and reading stops at the caller's deadline
                read = self.services.read_import(request.content, request.format, expired)
                with self.sessions.begin() as session:
                    result = self.services.import_entries(
                        session,
                        caller,
                        request.content,
                        request.format,
                        publish=request.publish,
                        progress=lambda n, total: updates.put(("progress", (n, total))),
                        read=read,
                        expired=expired,
                    )
                updates.put(("done", result))
            except BaseException as exc:  # re-raised in the RPC thread (the interceptor maps it)
                updates.put(("error", exc))

        threading.Thread(target=work, name="catalogue-import", daemon=True).start()
        while True:
            kind, value = updates.get()
            if kind == "progress":
                yield broker_pb2.ImportCatalogueProgress(checked=value[0], total=value[1])
            elif kind == "error":
                raise value
            else:
                yield broker_pb2.ImportCatalogueProgress(
                    done=True,
                    imported=value.imported,
                    problems=[
                        broker_pb2.ImportProblem(line=p.line, column=p.column, problem=p.problem)
                        for p in value.problems
                    ],
                )
                return

    def ExportCatalogue(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            content = self.services.export_entries(
                session, caller, request.format, provider=request.provider, status=request.status
            )
            return broker_pb2.ExportCatalogueResponse(content=content)

    # ------------------------------------------------------------------ sharing
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
            return share_request_pb(self.services.file_share_request(session, caller, data))

    def ListShareRequests(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            rows = self.services.list_share_requests(
                session, caller, request.role or "consumer", request.status
            )
            return broker_pb2.ListShareRequestsResponse(
                requests=[share_request_pb(r) for r in rows]
            )

    def GetShareRequest(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            row = self.services.get_share_request(session, request.id)
            if caller not in (row.consumer, row.provider):
                self.services.require_authority(session, caller)
            return share_request_pb(row)

    def DecideShareRequest(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            row = self.services.decide_share_request(
                session, caller, request.id, request.approve, request.reason
            )
            return share_request_pb(row)

    def GetGrant(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            grant = self.services.get_grant(session, caller, request.id)
            reply = grant_pb(grant, with_token=caller == grant.consumer)
            entry = session.get(CatalogueEntry, grant.entry_code)
            if entry is not None and entry.sunset_on is not None:
                reply.entry_sunset_on = _iso(entry.sunset_on)  # CAT-7: shown to the consumer
            return reply

    # ------------------------------------------------------------------ service requests
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
        )
        with self.sessions.begin() as session:
            return service_request_pb(self.requests.file(session, caller, data))

    def DecideServiceRequest(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            row = self.requests.decide(session, caller, request.id, request.approve, request.reason)
            return service_request_pb(row)

    def FulfilDataNeed(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            row = self.requests.fulfil(session, caller, request.id, request.entry_code)
            return service_request_pb(row)

    def ListServiceRequests(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            rows = self.requests.list(session, caller, request.role or "provider", request.kind)
            return broker_pb2.ListServiceRequestsResponse(
                requests=[service_request_pb(r) for r in rows]
            )

    # ------------------------------------------------------------------ relay
    def Query(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        query = RelayedQuery.from_pb(request)
        answer, sequence = self.services.relay_query(self.sessions, caller, query, self.gateway)
        return broker_pb2.QueryResponse(
            sealed_result=answer.sealed_result,
            receipt=answer.receipt.to_pb(),
            ledger_sequence=sequence,
        )

    def QueryStream(self, request_iterator, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        first = next(request_iterator, None)
        if first is None or first.WhichOneof("part") != "open":
            raise InvalidArgument("the first message must open the query", field="open")
        query = RelayedQuery.from_pb(first.open)

        def chunks():  # type: ignore[no-untyped-def]
            # anything but a chunk ends the upstream; the node then says what is missing
            try:
                for message in request_iterator:
                    if message.WhichOneof("part") != "chunk":
                        return
                    yield message.chunk
            except grpc.RpcError:
                return  # the consumer left: end the node's upstream so it stops too

        for item in self.services.relay_stream(
            self.sessions,
            caller,
            query,
            chunks(),
            self.gateway,
            consumer_gone=lambda: not context.is_active(),
        ):
            if isinstance(item, tuple):
                receipt, sequence = item
                yield broker_pb2.QueryStreamResponse(
                    end=broker_pb2.QueryStreamEnd(receipt=receipt.to_pb(), ledger_sequence=sequence)
                )
            else:
                yield broker_pb2.QueryStreamResponse(chunk=item)

    def Aggregate(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        parts = [RelayedQuery.from_pb(part) for part in request.parts]
        totals, answers, sequence = self.services.relay_aggregate(
            self.sessions, caller, parts, request.paillier_public_key, self.gateway
        )
        return broker_pb2.AggregateResponse(
            ciphertexts=totals,
            parts=[
                broker_pb2.AggregatePart(
                    provider=provider, suppressed=answer.suppressed, receipt=answer.receipt.to_pb()
                )
                for answer, provider in answers
            ],
            ledger_sequence=sequence,
        )

    # ------------------------------------------------------------------ deadlines
    def ListDeadlines(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            rows = self.services.list_deadlines(
                session,
                caller,
                overdue_only=request.overdue_only,
                include_closed=request.include_closed,
            )
            today = self.services.today()
            return broker_pb2.ListDeadlinesResponse(
                deadlines=[deadline_pb(d, remaining, today) for d, remaining in rows]
            )

    def ExtendDeadline(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            deadline = self.services.extend_deadline(session, caller, request.id, request.basis)
            today = self.services.today()
            remaining = self.services.calendar.working_days_between(today, deadline.due_on)
            return deadline_pb(deadline, remaining, today)

    # ------------------------------------------------------------------ ledger
    def GetLedger(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        limit = request.limit or 1000
        if not 1 <= limit <= 10_000:
            raise InvalidArgument("must be between 1 and 10000", field="limit")
        v.row_id(request.from_sequence, "from_sequence", low=0)
        with self.sessions.begin() as session:
            self.services.require_authority(session, caller)
            rows = session.execute(
                select(LedgerEntry)
                .where(LedgerEntry.sequence >= max(request.from_sequence, 1))
                .order_by(LedgerEntry.sequence)
                .limit(limit)
            ).scalars()
            head = ledger_mod.read_head(session)
            return broker_pb2.GetLedgerResponse(
                entries=[
                    broker_pb2.LedgerEntry(
                        sequence=e.sequence,
                        recorded_at=e.recorded_at,
                        kind=e.kind,
                        actor=e.actor,
                        subject=e.subject,
                        payload_json=e.payload_json,
                        previous_hash=e.previous_hash,
                        entry_hash=e.entry_hash,
                    )
                    for e in rows
                ],
                head_hash=head.head_hash,
                head_signature=head.signature,
                length=head.length,
            )

    def VerifyLedger(self, request, context):  # type: ignore[no-untyped-def]
        self._caller(context)
        with self.sessions.begin() as session:
            result = ledger_mod.verify_ledger(session, self.broker_verify_key)
            return broker_pb2.LedgerVerification(
                ok=result.ok,
                length=result.length,
                head_hash=result.head_hash,
                problem=result.problem,
            )


def open_catalogue_pb(rows: list[tuple[Any, dict[str, Any]]], more: bool) -> Any:
    """The open catalogue as a ``tongdao.v1.OpenCatalogue``."""
    return broker_pb2.OpenCatalogue(
        entries=[
            broker_pb2.OpenCatalogueEntry(
                code=row.entry_code,
                version=row.version,
                name=c["name"],
                description=c["description"],
                provider=c["provider"],
                open_type=OPEN_TYPE_VALUES[c["open_type"]],
                open_conditions=c["open_conditions"],
                data_format=c["data_format"],
                update_frequency=c["update_frequency"],
                data_items=[broker_pb2.DataItem(**i) for i in c["data_items"]],
                tags=c.get("tags", []),
                sunset_on=_iso(row.sunset_on),
            )
            for row, c in rows
        ],
        has_more=more,
    )


class PublicCatalogueServicer(broker_pb2_grpc.PublicCatalogueServicer):
    """tongdao.v1.PublicCatalogue: the open catalogue for anyone, on the public listener."""

    def __init__(self, services: BrokerServices, sessions: sessionmaker[Session]) -> None:
        self.services = services
        self.sessions = sessions

    def GetOpenCatalogue(self, request, context):  # type: ignore[no-untyped-def]
        with self.sessions.begin() as session:
            rows, more = self.services.public_open_catalogue(
                session, provider=request.provider, limit=request.limit, offset=request.offset
            )
            return open_catalogue_pb(rows, more)
