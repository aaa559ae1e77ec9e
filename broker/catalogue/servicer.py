"""tongdao.v1.Catalogue and tongdao.v1.PublicCatalogue: protobuf → catalogue service → protobuf."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.catalogue.base import DataItemData, EntryData
from tongdao.broker.catalogue.models import CatalogueEntry
from tongdao.broker.catalogue.search_ranking import SearchFilters, SearchHit
from tongdao.broker.catalogue.service import CatalogueService
from tongdao.broker.kernel.wire import ContextServicer, decision_pb, iso
from tongdao.policies.i18n import msg
from tongdao.proto.errors import InvalidArgument
from tongdao.proto.methods import (
    OPEN_TYPE_NAMES,
    OPEN_TYPE_VALUES,
    SHARE_TYPE_NAMES,
    SHARE_TYPE_VALUES,
)
from tongdao.v1 import (
    catalogue_pb2,
    catalogue_pb2_grpc,
)


def entry_pb(
    entry: CatalogueEntry, content: dict[str, Any], version: int
) -> catalogue_pb2.CatalogueEntry:
    return catalogue_pb2.CatalogueEntry(
        code=entry.code,
        version=version,
        name=content["name"],
        description=content["description"],
        provider=content["provider"],
        data_items=[catalogue_pb2.DataItem(**item) for item in content["data_items"]],
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
        validation=decision_pb(content.get("validation")),
        aggregation_mode=content.get("aggregation_mode", "logical"),
        tags=content.get("tags", []),
        subject_consent=bool(content.get("subject_consent", False)),
        contains_trade_secret=bool(content.get("contains_trade_secret", False)),
        reviewer=entry.reviewer,
        sunset_on=iso(entry.sunset_on),
        review_comments=content.get("review_comments", ""),
        obtainable_by_sharing=[
            catalogue_pb2.SharingHint(**hint) for hint in content.get("obtainable_by_sharing", [])
        ],
        revocation_reason=entry.revocation_reason,
    )


def _filters(f: catalogue_pb2.SearchFilters) -> SearchFilters:
    return SearchFilters(
        provider=f.provider,
        region=f.region,
        share_type=SHARE_TYPE_NAMES.get(f.share_type, ""),
        open_type=OPEN_TYPE_NAMES.get(f.open_type, ""),
        tag=f.tag,
        grade=f.grade,
    )


def hit_pb(h: SearchHit) -> catalogue_pb2.SearchHit:
    return catalogue_pb2.SearchHit(
        code=h.code,
        version=h.version,
        name=h.name,
        provider=h.provider,
        region=h.region,
        share_type=SHARE_TYPE_VALUES[h.share_type],
        open_type=OPEN_TYPE_VALUES[h.open_type],
        status=h.status,
        sunset_on=iso(h.sunset_on),
        tags=list(h.tags),
        score=h.score,
        matched_items=list(h.matched_items),
    )


def open_catalogue_pb(rows: list[tuple[Any, dict[str, Any]]], more: bool) -> Any:
    """The open catalogue as a ``tongdao.v1.OpenCatalogue``."""
    return catalogue_pb2.OpenCatalogue(
        entries=[
            catalogue_pb2.OpenCatalogueEntry(
                code=row.entry_code,
                version=row.version,
                name=c["name"],
                description=c["description"],
                provider=c["provider"],
                open_type=OPEN_TYPE_VALUES[c["open_type"]],
                open_conditions=c["open_conditions"],
                data_format=c["data_format"],
                update_frequency=c["update_frequency"],
                data_items=[catalogue_pb2.DataItem(**i) for i in c["data_items"]],
                tags=c.get("tags", []),
                sunset_on=iso(row.sunset_on),
            )
            for row, c in rows
        ],
        has_more=more,
    )


class CatalogueServicer(catalogue_pb2_grpc.CatalogueServicer, ContextServicer):
    """Implements tongdao.v1.Catalogue on :class:`CatalogueService`."""

    def __init__(self, service: CatalogueService, sessions: sessionmaker[Session]) -> None:
        self.service = service
        self.sessions = sessions

    def _entry_data(self, e: catalogue_pb2.CatalogueEntry) -> EntryData:
        if e.share_type not in SHARE_TYPE_NAMES:
            raise InvalidArgument(
                msg("must be set"),
                field="entry.share_type",
                articles=(self.service.policy.sharing.share_type_article,),
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
            entry = self.service.create_entry(session, caller, data)
            return entry_pb(entry, entry.content, entry.current_version)

    def SubmitCatalogueEntry(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            entry = self.service.submit_entry(session, caller, request.code)
            return entry_pb(entry, entry.content, entry.current_version)

    def PublishCatalogueEntry(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            entry = self.service.publish_entry(session, caller, request.code, request.comment)
            return entry_pb(entry, entry.content, entry.current_version)

    def ReturnCatalogueEntry(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            entry = self.service.return_entry(session, caller, request.code, request.comments)
            return entry_pb(entry, entry.content, entry.current_version)

    def ReviseCatalogueEntry(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        data = self._entry_data(request.entry)
        with self.sessions.begin() as session:
            entry = self.service.revise_entry(session, caller, data)
            return entry_pb(entry, entry.content, entry.current_version)

    def RequireCatalogueUpdate(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            entry = self.service.require_update(session, caller, request.code, request.basis)
            return entry_pb(entry, entry.content, entry.current_version)

    def GetCatalogueEntry(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            entry, content, version = self.service.visible_entry(
                session, caller, request.code, request.version
            )
            return entry_pb(entry, content, version)

    def ListCatalogueEntries(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            entries, next_token = self.service.visible_entries(
                session,
                caller,
                request.provider,
                request.status,
                page_size=request.page_size,
                page_token=request.page_token,
            )
            return catalogue_pb2.ListCatalogueEntriesResponse(
                entries=[entry_pb(e, content, version) for e, content, version in entries],
                next_page_token=next_token,
            )

    def RequestCatalogueRevocation(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            entry = self.service.request_revocation(session, caller, request.code, request.reason)
            return entry_pb(entry, entry.content, entry.current_version)

    def DecideCatalogueRevocation(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            entry = self.service.decide_revocation(
                session, caller, request.code, request.approve, request.comment
            )
            return entry_pb(entry, entry.content, entry.current_version)

    def WithdrawDueEntries(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            codes = self.service.withdraw_due_entries(session, caller)
            return catalogue_pb2.WithdrawDueEntriesResponse(codes=codes)

    def SearchCatalogue(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            hits, more = self.service.search_catalogue(
                session,
                caller,
                request.query,
                _filters(request.filters),
                limit=request.limit,
                offset=request.offset,
            )
            return catalogue_pb2.SearchCatalogueResponse(
                hits=[hit_pb(h) for h in hits], has_more=more
            )

    def MatchCatalogue(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            hits = self.service.match_catalogue(
                session,
                caller,
                request.need,
                list(request.items),
                _filters(request.filters),
                limit=request.limit,
            )
            return catalogue_pb2.SearchCatalogueResponse(hits=[hit_pb(h) for h in hits])

    def GetOpenCatalogue(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            rows, more = self.service.open_catalogue(
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
                    self.service.check_importer(
                        session, caller, request.format, publish=request.publish
                    )
                # the file is read with no transaction open: a large or hostile file never
                # holds the store's write lock, and reading stops at the caller's deadline
                read = self.service.read_import(request.content, request.format, expired)
                with self.sessions.begin() as session:
                    result = self.service.import_entries(
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
                yield catalogue_pb2.ImportCatalogueProgress(checked=value[0], total=value[1])
            elif kind == "error":
                raise value
            else:
                yield catalogue_pb2.ImportCatalogueProgress(
                    done=True,
                    imported=value.imported,
                    problems=[
                        catalogue_pb2.ImportProblem(line=p.line, column=p.column, problem=p.problem)
                        for p in value.problems
                    ],
                )
                return

    def ExportCatalogue(self, request, context):  # type: ignore[no-untyped-def]
        caller = self._caller(context)
        with self.sessions.begin() as session:
            content, next_token = self.service.export_entries(
                session,
                caller,
                request.format,
                provider=request.provider,
                status=request.status,
                page_size=request.page_size,
                page_token=request.page_token,
            )
            return catalogue_pb2.ExportCatalogueResponse(
                content=content, next_page_token=next_token
            )


class PublicCatalogueServicer(catalogue_pb2_grpc.PublicCatalogueServicer):
    """tongdao.v1.PublicCatalogue: the open catalogue for anyone, on the public listener."""

    def __init__(self, service: CatalogueService, sessions: sessionmaker[Session]) -> None:
        self.service = service
        self.sessions = sessions

    def GetOpenCatalogue(self, request, context):  # type: ignore[no-untyped-def]
        with self.sessions.begin() as session:
            rows, more = self.service.public_open_catalogue(
                session, provider=request.provider, limit=request.limit, offset=request.offset
            )
            return open_catalogue_pb(rows, more)
