"""Catalogue entry lifecycle (CAT-1, CAT-5, Art.12, Art.15): draft, submit, publish, return,
revise, require an update."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongdao.broker.catalogue.base import CatalogueBase, EntryData
from tongdao.broker.catalogue.models import CatalogueEntry, CatalogueEntryVersion
from tongdao.broker.catalogue.search_index import upsert_search_row
from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.context import AUTHORITY
from tongdao.policies.catalogue_rules import FIELD_ARTICLE, missing_fields, review_regions
from tongdao.policies.i18n import msg
from tongdao.proto.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)

DRAFT_STATUSES = ("draft", "submitted", "returned")
"""A working copy in these states is a draft: not yet in force, not for other departments."""


class CatalogueLifecycle(CatalogueBase):
    """Drafting, review and publication of entries."""

    def create_entry(self, session: Session, caller: str, data: EntryData) -> CatalogueEntry:
        """Draft a catalogue entry (the provider, for itself)."""
        provider = data.provider or caller
        if provider != caller:
            raise PermissionDenied(
                msg("a department drafts entries only for itself"), field="entry.provider"
            )
        self.directory.require_registered(session, caller)
        v.entry_code(data.code, "entry.code")
        if session.get(CatalogueEntry, data.code) is not None:
            raise AlreadyExists(
                msg("catalogue entry {code!r} already exists", code=data.code), field="entry.code"
            )
        content = self._validated_content(data, provider)
        content["obtainable_by_sharing"] = self._obtainable(session, content)
        effective = content["effective_share_type"]
        now = self.now()
        entry = CatalogueEntry(
            code=data.code,
            provider=provider,
            status="draft",
            current_version=0,
            content=content,
            created_at=now,
            updated_at=now,
        )
        session.add(entry)
        self.ledger.append(
            session,
            kind="catalogue_entry.drafted",
            actor=caller,
            subject=data.code,
            payload={
                "share_type": data.share_type,
                "effective_share_type": effective,
                "items": [i.name for i in data.data_items],
                "decision": content["validation"],
            },
        )
        return entry

    def submit_entry(self, session: Session, caller: str, code: str) -> CatalogueEntry:
        """The provider submits its draft to the authority for review (Art.12)."""
        entry = self._entry(session, code)
        if entry.provider != caller:
            raise PermissionDenied(msg("only the entry's provider may submit it"), field="code")
        if entry.status not in ("draft", "returned"):
            raise FailedPrecondition(
                msg(
                    "entry is {status}; only a draft or a returned entry is submitted",
                    status=entry.status,
                ),
                field="code",
            )
        rules = self.policy.catalogue
        missing = missing_fields(rules, entry.content)
        if missing:
            raise FailedPrecondition(
                msg(
                    "the entry does not yet state {v1}: complete it before review",
                    v1=", ".join(missing),
                ),
                field=f"entry.{missing[0]}",
                articles=tuple(dict.fromkeys(FIELD_ARTICLE[m] for m in missing)),
            )
        entry.status = "submitted"
        entry.updated_at = self.now()
        entry.reviewer = self.review_chain(session, entry)[0]
        self.supervision.close_deadline(session, kind="catalogue_revision", subject=code)
        self.ledger.append(
            session,
            kind="catalogue_entry.submitted",
            actor=caller,
            subject=code,
            payload={"articles": [self.policy.deadline("catalogue_revision").article]},
        )
        return entry

    def publish_entry(
        self, session: Session, caller: str, code: str, comment: str
    ) -> CatalogueEntry:
        """The reviewing authority approves a submitted entry and publishes a new version (Art.12).

        The new version becomes what search, matching, the open catalogue and new share
        requests see; grants keep naming the version they were issued on.
        """
        entry = self._entry(session, code)
        self._require_reviewer(session, caller, entry)
        if entry.status != "submitted":
            raise FailedPrecondition(
                msg(
                    "entry is {status}; only a submitted entry can be published",
                    status=entry.status,
                ),
                field="code",
            )
        chain = self.review_chain(session, entry)
        if caller != AUTHORITY and caller in chain[:-1]:
            # Art.12: approved at this level; the authority one level up reviews next
            entry.reviewer = chain[chain.index(caller) + 1]
            entry.updated_at = self.now()
            self.ledger.append(
                session,
                kind="catalogue_entry.reviewed",
                actor=caller,
                subject=code,
                payload={
                    "comment": v.text(comment, "comment", required=False),
                    "next_reviewer": entry.reviewer,
                    "articles": [self.policy.catalogue.review_article],
                },
            )
            return entry
        now = self.now()
        entry.current_version += 1
        entry.status = "published"
        entry.updated_at = now
        self.supervision.close_deadline(session, kind="catalogue_update", subject=code)
        session.add(
            CatalogueEntryVersion(
                entry_code=code,
                version=entry.current_version,
                content=dict(entry.content),
                published_at=now,
                published_by=caller,
            )
        )
        provider = self.directory.department(session, entry.provider)
        upsert_search_row(
            session, entry.content, version=entry.current_version, region=provider.region
        )
        self.ledger.append(
            session,
            kind="catalogue_entry.published",
            actor=caller,
            subject=code,
            payload={
                "version": entry.current_version,
                "comment": v.text(comment, "comment", required=False),
                "articles": [self.policy.deadline("catalogue_revision").article],
            },
        )
        return entry

    def return_entry(
        self, session: Session, caller: str, code: str, comments: str
    ) -> CatalogueEntry:
        """The authority returns a submitted entry with comments; the provider revises within
        the policy's working days (Art.12)."""
        entry = self._entry(session, code)
        self._require_reviewer(session, caller, entry)
        if entry.status != "submitted":
            raise FailedPrecondition(
                msg("entry is {status}, not submitted", status=entry.status), field="code"
            )
        comments = v.text(comments, "comments")
        rule = self.policy.deadline("catalogue_revision")
        entry.status = "returned"
        entry.updated_at = self.now()
        entry.content = {**entry.content, "review_comments": comments}
        due = self.supervision.start_deadline(
            session, kind=rule.kind, subject=code, responsible=entry.provider
        )
        self.ledger.append(
            session,
            kind="catalogue_entry.returned",
            actor=caller,
            subject=code,
            payload={
                "comments": comments,
                **self.supervision.due_fields(due),
                "articles": [rule.article],
            },
        )
        return entry

    def revise_entry(self, session: Session, caller: str, data: EntryData) -> CatalogueEntry:
        """The provider replaces its working copy: a draft, a returned entry, or the next version
        of a published one (share requests keep using the published version meanwhile)."""
        entry = self._entry(session, data.code)
        if entry.provider != caller or (data.provider and data.provider != caller):
            raise PermissionDenied(
                msg("only the entry's provider may revise it"), field="entry.provider"
            )
        if entry.status == "submitted":
            raise FailedPrecondition(
                msg("entry is under review; wait for the decision"), field="code"
            )
        content = self._validated_content(data, caller)
        content["obtainable_by_sharing"] = self._obtainable(session, content)
        if entry.status in ("revoking", "sunset", "withdrawn"):
            raise FailedPrecondition(
                msg("entry is {status}", status=entry.status), field="code", articles=("Art.16",)
            )
        if entry.status == "published":
            entry.status = "draft"  # the next version; the published one stays in force
        entry.content = content
        entry.updated_at = self.now()
        self.ledger.append(
            session,
            kind="catalogue_entry.revised",
            actor=caller,
            subject=data.code,
            payload={"items": [i.name for i in data.data_items], "status": entry.status},
        )
        return entry

    def require_update(
        self, session: Session, caller: str, code: str, basis: str
    ) -> CatalogueEntry:
        """After a change of law or duty the authority requires an update (Art.15)."""
        self.directory.require_authority(session, caller)
        entry = self._entry(session, code)
        if entry.current_version < 1:
            raise FailedPrecondition(msg("entry has no published version to update"), field="code")
        basis = v.text(basis, "basis")
        rule = self.policy.deadline("catalogue_update")
        due = self.supervision.start_deadline(
            session, kind=rule.kind, subject=code, responsible=entry.provider
        )
        self.ledger.append(
            session,
            kind="catalogue_entry.update_required",
            actor=caller,
            subject=code,
            payload={
                "basis": basis,
                **self.supervision.due_fields(due),
                "articles": [rule.article],
            },
        )
        return entry

    def get_entry(
        self, session: Session, code: str, version: int = 0
    ) -> tuple[CatalogueEntry, dict[str, Any], int]:
        """An entry and the content of one version (0: the working copy).

        Returns:
            (entry row, content, version number of that content).
        """
        entry = self._entry(session, code)
        if version == 0:
            return entry, entry.content, entry.current_version
        snap = session.get(CatalogueEntryVersion, (code, version))
        if snap is None:
            raise NotFound(
                msg("entry {code!r} has no version {version}", code=code, version=version),
                field="version",
            )
        return entry, snap.content, version

    def list_entries(
        self,
        session: Session,
        provider: str = "",
        status: str = "",
        *,
        after: str = "",
        limit: int | None = None,
    ) -> Sequence[CatalogueEntry]:
        """Entries by code, optionally by provider and status, after a code, at most ``limit``."""
        query = select(CatalogueEntry).order_by(CatalogueEntry.code)
        if after:
            query = query.where(CatalogueEntry.code > after)
        if limit is not None:
            query = query.limit(limit)
        if provider:
            query = query.where(CatalogueEntry.provider == provider)
        if status:
            query = query.where(CatalogueEntry.status == status)
        return session.execute(query).scalars().all()

    def visible_entry(
        self, session: Session, caller: str, code: str, version: int = 0
    ) -> tuple[CatalogueEntry, dict[str, Any], int]:
        """:meth:`get_entry` as ``caller`` may see it: a draft (drafted, submitted or returned
        working copy) only by its department and its reviewing authority (Art.12); anyone else
        gets the version in force, or NotFound when none was published.

        Raises:
            NotFound: no such entry (or version) that the caller may see.
        """
        entry, content, number = self.get_entry(session, code, version)
        if version or self.may_see_working_copy(session, caller, entry):
            return entry, content, number
        if entry.current_version == 0:
            raise NotFound(msg("no catalogue entry {code!r}", code=code), field="code")
        return self.get_entry(session, code, entry.current_version)

    def visible_entries(
        self,
        session: Session,
        caller: str,
        provider: str = "",
        status: str = "",
        *,
        page_size: int = 0,
        page_token: str = "",
        pages: str = "list",
    ) -> tuple[list[tuple[CatalogueEntry, dict[str, Any], int]], str]:
        """One page of :meth:`list_entries` as ``caller`` may see them (see
        :meth:`visible_entry`), by code.

        Args:
            page_size: entries to read (0: the rule file's ``<pages>_page_size``).
            page_token: the previous page's next token.
            pages: ``list`` or ``export`` (which ``[limits]`` sizes apply).

        Returns:
            (entry, content, version) of the page's visible entries, and the next page's token
            ("" after the last page). A page may hold fewer visible entries than it read.
        """
        page = self.page("catalogue", page_size, page_token, pages=pages)
        after = page.after[0] if page.after else ""
        if not isinstance(after, str):
            raise InvalidArgument(msg("is not a page token of this list"), field="page_token")
        rows = page.split(
            self.list_entries(session, provider, status, after=after, limit=page.size + 1),
            lambda entry: (entry.code,),
        )
        out = []
        for entry in rows:
            if self.may_see_working_copy(session, caller, entry):
                out.append((entry, entry.content, entry.current_version))
            elif entry.current_version > 0:
                snap = session.get(CatalogueEntryVersion, (entry.code, entry.current_version))
                if snap is not None:
                    out.append((entry, snap.content, entry.current_version))
        return out, rows.next_page_token

    def review_chain(self, session: Session, entry: CatalogueEntry) -> list[str]:
        """The authorities that review ``entry``, in order (CAT-5, Art.12; the rule file's
        ``catalogue.review_chain``)."""
        provider = self.directory.department(session, entry.provider)
        steps = review_regions(self.policy.catalogue, provider.region, provider.level)
        return self.directory.review_chain(session, provider, steps)

    def may_see_working_copy(self, session: Session, caller: str, entry: CatalogueEntry) -> bool:
        """Whether ``caller`` may read the entry's working copy: always once it is the version
        in force; while it is a draft, only its department and its reviewing authority."""
        if entry.status not in DRAFT_STATUSES or caller in (AUTHORITY, entry.provider):
            return True
        if entry.reviewer:
            return caller == entry.reviewer
        provider = self.directory.find(session, entry.provider)
        return provider is not None and caller == self.directory.reviewer_for(session, provider)
