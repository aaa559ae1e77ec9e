"""Bulk import and export of catalogue files (all entries or none); the file formats are
:mod:`tongdao.broker.catalogue.file_formats`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, literal, select
from sqlalchemy.orm import Session

from tongdao.broker.catalogue.base import (
    CatalogueBase,
    DataItemData,
    EntryData,
)
from tongdao.broker.catalogue.models import CatalogueEntry, CatalogueEntryVersion
from tongdao.broker.catalogue.search_index import bulk_insert_search_rows
from tongdao.broker.kernel import validation as v
from tongdao.policies.i18n import msg
from tongdao.proto.errors import (
    AlreadyExists,
    DeadlineExceeded,
    DomainError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)


@dataclass
class ImportResult:
    """The outcome of a bulk import: how many entries, or every problem found."""

    imported: int
    problems: list[Any]
    codes: list[str]


def entry_data_from_dict(e: dict[str, Any], provider: str) -> EntryData:
    """An :class:`EntryData` from an imported entry (see broker.catalogue.file_formats)."""
    return EntryData(
        code=e["code"],
        name=e["name"],
        description=e["description"],
        provider=provider,
        data_items=tuple(
            DataItemData(
                i["name"], i["type"], i["description"], i["sensitivity"], i["classification"]
            )
            for i in e["data_items"]
        ),
        key_field=e["key_field"],
        data_format=e["data_format"],
        update_frequency=e["update_frequency"],
        share_type=e["share_type"],
        share_scope_departments=tuple(e["share_scope_departments"]),
        share_scope_levels=tuple(e["share_scope_levels"]),
        share_scope_regions=tuple(e["share_scope_regions"]),
        permitted_purposes=tuple(e["permitted_purposes"]),
        legal_basis=e["legal_basis"],
        open_type=e["open_type"] or "not_open",
        open_conditions=e["open_conditions"],
        classification=e["classification"],
        grade=e["grade"],
        aggregation_mode=e["aggregation_mode"] or "logical",
        tags=tuple(e["tags"]),
        subject_consent=bool(e["subject_consent"]),
        contains_trade_secret=bool(e["contains_trade_secret"]),
    )


def _import_problem(problem_type: Any, parsed: Any, exc: DomainError) -> Any:
    """Where in the file a validation error belongs: the item's row for item problems."""
    column = (exc.field or "").removeprefix("entry.")
    line = parsed.line
    if column == "data_items":
        for name, item_line in parsed.item_lines.items():
            if repr(name) in exc.message:
                line = item_line
                column = (
                    "item_classification"
                    if "classification" in exc.message
                    else ("item_sensitivity" if "sensitivity" in exc.message else "item_name")
                )
                break
    elif column == "entry":
        column = ""
    text = exc.message + (f" [{', '.join(exc.articles)}]" if exc.articles else "")
    return problem_type(line, column, text)


class CatalogueTransfer(CatalogueBase):
    """Importing and exporting catalogue files."""

    def import_entries(
        self,
        session: Session,
        caller: str,
        content: bytes,
        fmt: str,
        *,
        publish: bool = False,
        progress: Callable[[int, int], None] | None = None,
        read: tuple[list[Any], list[Any]] | None = None,
        expired: Callable[[], bool] | None = None,
    ) -> ImportResult:
        """Import a catalogue file: all entries or none (one transaction, the caller's session).

        A department imports its own entries as drafts (each validated like ``create_entry``,
        with its Art.17 "obtainable by sharing" hints). The authority may import an approved
        catalogue as published (``publish=True``: e.g. moving a province's existing catalogue
        onto the platform), for any registered provider; each entry becomes version 1 and
        searchable at once. One ledger entry records the import with the file's digest.

        Args:
            session: caller-owned; nothing is written when any problem is found.
            caller: the importing department (or ``authority``).
            content: the file's bytes.
            fmt: ``csv``, ``json`` or ``xlsx``.
            publish: import as published (authority only).
            progress: called with (entries checked, entries in the file) while validating.
            read: the file as :meth:`read_import` read it, before this transaction began (a
                large file is then never parsed while the store is locked); read here if None.
            expired: the caller's deadline, asked while reading and validating.

        Returns:
            The number imported and every problem found (line, column, problem); when there
            are problems nothing is imported.

        Raises:
            InvalidArgument: unknown format.
            PermissionDenied: an unregistered caller, or ``publish`` by a non-authority.
            DeadlineExceeded: ``expired()`` answered true (nothing is written).
        """
        from tongdao.broker.catalogue.file_formats import ImportProblem

        self.check_importer(session, caller, fmt, publish=publish)
        parsed, problems = read if read is not None else self.read_import(content, fmt, expired)
        max_problems = self.policy.limits["import_max_problems"]
        codes = [p.entry["code"] for p in parsed]
        existing: set[str] = set()
        for start in range(0, len(codes), 1000):
            existing.update(
                session.execute(
                    select(CatalogueEntry.code).where(
                        CatalogueEntry.code.in_(codes[start : start + 1000])
                    )
                ).scalars()
            )
        regions = self.directory.regions(session)
        accepted: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        for n, p in enumerate(parsed, start=1):
            e = p.entry
            provider = e["provider"] or caller
            try:
                v.entry_code(e["code"], "entry.code")
                if e["code"] in seen:
                    raise AlreadyExists(
                        msg("is already on line {v1}", v1=seen[e["code"]]), field="entry.code"
                    )
                seen[e["code"]] = p.line
                if e["code"] in existing:
                    raise AlreadyExists(msg("catalogue entry already exists"), field="entry.code")
                if not publish and provider != caller:
                    raise PermissionDenied(
                        msg("a department imports only its own entries"), field="entry.provider"
                    )
                if provider not in regions:
                    raise NotFound(msg("is not a registered department"), field="entry.provider")
                accepted.append(
                    self._validated_content(entry_data_from_dict(e, provider), provider)
                )
            except DomainError as exc:
                problems.append(_import_problem(ImportProblem, p, exc))
            if progress is not None and (n % 500 == 0 or n == len(parsed)):
                progress(n, len(parsed))
            if n % 500 == 0 and expired is not None and expired():
                raise DeadlineExceeded(msg("the caller's deadline passed during the import"))
            if len(problems) >= max_problems:
                problems.append(ImportProblem(p.line, "", f"more than {max_problems} problems"))
                break
        if not parsed and not problems:
            problems.append(ImportProblem(1, "", "the file holds no entries"))
        if problems:
            problems.sort(key=lambda pr: (pr.line, pr.column))
            return ImportResult(0, problems, [])
        now = self.now()
        today = self.today()
        if not publish:
            for c in accepted:
                c["obtainable_by_sharing"] = self._obtainable(session, c)
        session.execute(
            insert(CatalogueEntry),
            [
                {
                    "code": c["code"],
                    "provider": c["provider"],
                    "status": "published" if publish else "draft",
                    "current_version": 1 if publish else 0,
                    "content": c,
                    "created_at": now,
                    "updated_at": now,
                    "reviewer": caller if publish else "",
                    "revocation_reason": "",
                }
                for c in accepted
            ],
        )
        if publish:
            # Version 1 is the working copy as published: copied inside the store rather than
            # encoded to JSON a second time (a tenth of a 100,000-entry import).
            v1 = CatalogueEntryVersion
            for start in range(0, len(accepted), 1000):
                batch = [c["code"] for c in accepted[start : start + 1000]]
                session.execute(
                    insert(v1).from_select(
                        ["entry_code", "version", "content", "published_at", "published_by"],
                        select(
                            CatalogueEntry.code,
                            literal(1),
                            CatalogueEntry.content,
                            literal(now, v1.published_at.type),
                            literal(caller, v1.published_by.type),
                        ).where(CatalogueEntry.code.in_(batch)),
                    )
                )
            bulk_insert_search_rows(session, [(c, regions[c["provider"]]) for c in accepted])
        digest = hashlib.sha256(content).hexdigest()
        self.ledger.append(
            session,
            kind="catalogue.imported",
            actor=caller,
            subject=f"import:{digest[:16]}",
            payload={
                "format": fmt,
                "file_sha256": digest,
                "entries": len(accepted),
                "codes_sha256": hashlib.sha256("\n".join(sorted(codes)).encode()).hexdigest(),
                "published": publish,
                "on": today.isoformat(),
                "articles": ["Art.12"],
            },
        )
        return ImportResult(len(accepted), [], [c["code"] for c in accepted])

    def check_importer(self, session: Session, caller: str, fmt: str, *, publish: bool) -> None:
        """Whether ``caller`` may import a file of format ``fmt`` (before the file is read).

        Raises:
            InvalidArgument: unknown format.
            PermissionDenied: an unregistered caller, or ``publish`` by a non-authority.
        """
        from tongdao.broker.catalogue.file_formats import FORMATS

        if fmt not in FORMATS:
            raise InvalidArgument(msg("must be one of {v1}", v1=", ".join(FORMATS)), field="format")
        if publish:
            self.directory.require_authority(session, caller)
        else:
            self.directory.require_registered(session, caller)

    def read_import(
        self, content: bytes, fmt: str, expired: Callable[[], bool] | None = None
    ) -> tuple[list[Any], list[Any]]:
        """Read a catalogue file within the rule file's ``[limits]``; touches no store.

        Returns:
            (entries read, problems found), for :meth:`import_entries`.

        Raises:
            InvalidArgument: unknown format.
            DeadlineExceeded: ``expired()`` answered true.
        """
        from tongdao.broker.catalogue.file_formats import (
            FORMATS,
            ImportCancelled,
            ImportLimits,
            parse,
        )

        if fmt not in FORMATS:
            raise InvalidArgument(msg("must be one of {v1}", v1=", ".join(FORMATS)), field="format")
        try:
            return parse(
                content, fmt, limits=ImportLimits.from_policy(self.policy), expired=expired
            )
        except ImportCancelled:
            raise DeadlineExceeded(
                msg("the caller's deadline passed while the file was read")
            ) from None

    def export_entries(
        self,
        session: Session,
        caller: str,
        fmt: str,
        *,
        provider: str = "",
        status: str = "",
        page_size: int = 0,
        page_token: str = "",
    ) -> tuple[bytes, str]:
        """Export entries in a format :meth:`import_entries` reads back, one page per file
        (working copies the caller may see, the version in force of others' drafts).

        Returns:
            The file's bytes and the token of the next file's page ("" when none).

        Raises:
            InvalidArgument: unknown format.
        """
        from tongdao.broker.catalogue.file_formats import FORMATS, export

        self._require_caller(session, caller)
        if fmt not in FORMATS:
            raise InvalidArgument(msg("must be one of {v1}", v1=", ".join(FORMATS)), field="format")
        # drafts only for their department and its reviewing authority (Art.12)
        entries, next_token = self.visible_entries(
            session,
            caller,
            provider=provider,
            status=status,
            page_size=page_size,
            page_token=page_token,
            pages="export",
        )
        return export([content for _, content, _ in entries], fmt), next_token
