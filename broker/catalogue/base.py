"""What every part of the catalogue service shares: the entry's inputs, validation against the
policy, the reviewer check and the facts other contexts read (published content, in force)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from tongdao.broker.catalogue.models import CatalogueEntry, CatalogueEntryVersion
from tongdao.broker.catalogue.search import already_provided
from tongdao.broker.catalogue.search_index import AGGREGATION_MODES, TAGS
from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.context import AUTHORITY, ContextService, decision_dict
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.supervision.service import SupervisionService
from tongdao.policies.engine import (
    EntryFacts,
    effective_share_type,
    validate_catalogue_entry,
)
from tongdao.policies.i18n import msg
from tongdao.proto.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)

SHARE_TYPES = ("unconditional", "conditional", "not_shared")

OPEN_TYPES = ("not_open", "conditional_open", "unconditional_open")


@dataclass(frozen=True)
class DataItemData:
    """One data item of a catalogue entry."""

    name: str
    type: str
    description: str
    sensitivity: str
    classification: str = ""  # CAT-4: every field carries a classification and a grade


@dataclass(frozen=True)
class EntryData:
    """A catalogue entry as the provider drafts it."""

    code: str
    name: str
    description: str
    provider: str
    data_items: tuple[DataItemData, ...]
    key_field: str
    data_format: str = ""
    update_frequency: str = ""
    share_type: str = ""
    share_scope_departments: tuple[str, ...] = ()
    share_scope_levels: tuple[str, ...] = ()
    share_scope_regions: tuple[str, ...] = ()
    permitted_purposes: tuple[str, ...] = ()
    legal_basis: str = ""
    open_type: str = "not_open"
    open_conditions: str = ""
    classification: str = ""
    grade: str = ""
    aggregation_mode: str = "logical"  # PLT-2: "logical" (stays at the node) | "physical"
    tags: tuple[str, ...] = ()  # PLT-4: base databases and "thematic"
    subject_consent: bool = False  # CAT-3: the data subjects' recorded consent to opening
    contains_trade_secret: bool = False  # CAT-3: trade secrets beyond the item grades


_ENTRIES = CatalogueEntry.__table__
_ENTRY_STATE = select(
    _ENTRIES.c.code, _ENTRIES.c.status, _ENTRIES.c.sunset_on, _ENTRIES.c.current_version
).where(_ENTRIES.c.code == bindparam("code"))  # built once: the relay reads it per query


@dataclass(frozen=True)
class EntryState:
    """An entry's status, sunset date and current version, as the relay checks them."""

    code: str
    status: str
    sunset_on: dt.date | None
    current_version: int


class GrantsInUse(Protocol):
    """How the catalogue learns how many live grants use an entry (the sharing context answers;
    the composition root wires it, so the catalogue never reads grant tables)."""

    def __call__(self, session: Session, entry_code: str, now: dt.datetime) -> int: ...


def _not_wired(session: Session, entry_code: str, now: dt.datetime) -> int:
    raise RuntimeError("grants_in_use is wired by the composition root (broker/app.py)")


def _none_withdrawn(session: Session) -> frozenset[str]:
    return frozenset()


@dataclass(kw_only=True)
class CatalogueBase(ContextService):
    """State and shared checks of the catalogue service."""

    ledger: Ledger
    directory: DirectoryService
    supervision: SupervisionService
    grants_in_use: GrantsInUse = _not_wired
    # entries whose open data was withdrawn (Art.35), left out of the open catalogue; a port
    # the composition root wires to the open-data context
    open_withdrawn: Callable[[Session], frozenset[str]] = _none_withdrawn

    def entry_facts(self, content: dict[str, Any]) -> EntryFacts:
        return EntryFacts(
            code=content["code"],
            provider=content["provider"],
            share_type=content["share_type"],
            scope_departments=tuple(content["share_scope_departments"]),
            scope_levels=tuple(content["share_scope_levels"]),
            scope_regions=tuple(content["share_scope_regions"]),
            permitted_purposes=tuple(content["permitted_purposes"]),
            legal_basis=content["legal_basis"],
            fields={item["name"]: item["sensitivity"] for item in content["data_items"]},
            open_type=content["open_type"],
            open_conditions=content["open_conditions"],
            subject_consent=bool(content.get("subject_consent", False)),
            contains_personal_or_secret=bool(content.get("contains_trade_secret", False)),
        )

    def _validated_content(self, data: EntryData, provider: str) -> dict[str, Any]:
        """Validate a drafted entry at the edge and by the policy; return its stored content."""
        v.text(data.name, "entry.name", max_len=200)
        v.text(data.description, "entry.description", required=False)
        v.text(data.data_format, "entry.data_format", required=False, max_len=200)
        v.text(data.update_frequency, "entry.update_frequency", required=False, max_len=200)
        for item in data.data_items:
            v.text(item.type, "entry.data_items.type", required=False, max_len=64)
            v.text(item.description, "entry.data_items.description", required=False)
        if not data.data_items:
            raise InvalidArgument(msg("must list at least one data item"), field="entry.data_items")
        v.field_names([i.name for i in data.data_items], "entry.data_items")
        for item in data.data_items:
            if item.sensitivity not in self.policy.grades:
                raise InvalidArgument(
                    msg(
                        "data item {name!r}: sensitivity {sensitivity!r} is not a "
                        "grade of the policy ({v5})",
                        name=item.name,
                        sensitivity=item.sensitivity,
                        v5=", ".join(sorted(self.policy.grades)),
                    ),
                    field="entry.data_items",
                    articles=(self.policy.classification_article,),
                )
        if data.key_field not in {i.name for i in data.data_items}:
            raise InvalidArgument(
                msg("must name one of the entry's data items"), field="entry.key_field"
            )
        if data.share_type not in SHARE_TYPES:
            raise InvalidArgument(
                msg("must be one of {v1}", v1=", ".join(SHARE_TYPES)),
                field="entry.share_type",
                articles=(self.policy.sharing.share_type_article,),
            )
        if data.open_type not in OPEN_TYPES:
            raise InvalidArgument(
                msg("must be one of {v1}", v1=", ".join(OPEN_TYPES)),
                field="entry.open_type",
                articles=(self.policy.opening.article,),
            )
        classification_article = (self.policy.classification_article,)
        for item in data.data_items:
            if item.classification and item.classification not in self.policy.classifications:
                raise InvalidArgument(
                    msg(
                        "data item {name!r}: classification {classification!r} is not one of {v5}",
                        name=item.name,
                        classification=item.classification,
                        v5=", ".join(self.policy.classifications),
                    ),
                    field="entry.data_items",
                    articles=classification_article,
                )
        if data.grade and data.grade not in self.policy.classifications:
            raise InvalidArgument(
                msg(
                    "entry grade {grade!r} is not one of {v3}",
                    grade=data.grade,
                    v3=", ".join(self.policy.classifications),
                ),
                field="entry.grade",
                articles=classification_article,
            )
        if data.aggregation_mode not in AGGREGATION_MODES:
            raise InvalidArgument(
                msg("must be one of {v1}", v1=", ".join(AGGREGATION_MODES)),
                field="entry.aggregation_mode",
                articles=("Art.18",),
            )
        for tag in data.tags:
            if tag not in TAGS:
                raise InvalidArgument(
                    msg("{tag!r} is not one of {v2}", tag=tag, v2=", ".join(TAGS)),
                    field="entry.tags",
                    articles=("Art.20",),
                )
        for dept in data.share_scope_departments:
            v.code(dept, "entry.share_scope_departments")
        for lvl in data.share_scope_levels:
            v.level(lvl, "entry.share_scope_levels")
        content: dict[str, Any] = {
            "code": data.code,
            "name": data.name.strip(),
            "description": data.description.strip(),
            "provider": provider,
            "data_items": [item.__dict__ for item in data.data_items],
            "key_field": data.key_field,
            "data_format": data.data_format,
            "update_frequency": data.update_frequency,
            "share_type": data.share_type,
            "share_scope_departments": list(data.share_scope_departments),
            "share_scope_levels": list(data.share_scope_levels),
            "share_scope_regions": v.regions(data.share_scope_regions, "entry.share_scope_regions"),
            "permitted_purposes": [
                v.text(p, "entry.permitted_purposes", max_len=200) for p in data.permitted_purposes
            ],
            "legal_basis": v.text(data.legal_basis, "entry.legal_basis", required=False),
            "open_type": data.open_type,
            "open_conditions": v.text(
                data.open_conditions, "entry.open_conditions", required=False
            ),
            "classification": data.classification,
            "grade": data.grade,
            "aggregation_mode": data.aggregation_mode,
            "tags": list(dict.fromkeys(data.tags)),
            "subject_consent": data.subject_consent,
            "contains_trade_secret": data.contains_trade_secret,
        }
        facts = self.entry_facts(content)
        check = validate_catalogue_entry(
            self.policy, facts, locale=self.settings.locale, today=self.today()
        )
        if check.outcome != "valid":
            raise InvalidArgument(check.reason, field="entry", articles=check.articles)
        effective, explanation = effective_share_type(
            self.policy, facts, locale=self.settings.locale
        )
        content["effective_share_type"] = effective
        content["validation"] = decision_dict(explanation or check)
        return content

    def _entry(self, session: Session, code: str) -> CatalogueEntry:
        entry = session.get(CatalogueEntry, v.entry_code(code, "code"))
        if entry is None:
            raise NotFound(msg("no catalogue entry {code!r}", code=code), field="code")
        return entry

    def published_content(
        self, session: Session, entry: CatalogueEntry | EntryState
    ) -> dict[str, Any]:
        snap = session.get(CatalogueEntryVersion, (entry.code, entry.current_version))
        if snap is None:
            raise FailedPrecondition(
                msg("entry has no published version"), field="request.entry_code"
            )
        return snap.content

    def field_grades(self, session: Session, code: str, version: int) -> dict[str, str]:
        """Data item → sensitivity grade of one published version of an entry (PRIV-6): what
        a grant on that version carries, signed, for the node to mask and refuse by."""
        snap = session.get(CatalogueEntryVersion, (code, version))
        if snap is None:
            raise FailedPrecondition(
                msg(
                    "entry {code!r} has no published version {version}", code=code, version=version
                ),
                field="entry_version",
            )
        return {item["name"]: item["sensitivity"] for item in snap.content["data_items"]}

    def _require_reviewer(self, session: Session, caller: str, entry: CatalogueEntry) -> None:
        """Only the entry's reviewing authority (or the provincial operator) may decide."""
        if caller == AUTHORITY:
            return
        reviewer = entry.reviewer or self.directory.reviewer_for(
            session, self.directory.department(session, entry.provider)
        )
        dept = self.directory.find(session, caller)
        if caller != reviewer or dept is None or not dept.is_authority:
            raise PermissionDenied(
                msg(
                    "only the reviewing authority {reviewer!r} may decide on this entry",
                    reviewer=reviewer,
                ),
                field="code",
                articles=("Art.12",),
            )

    def _obtainable(self, session: Session, content: dict[str, Any]) -> list[dict[str, Any]]:
        """Entries of other departments that already provide the draft's items (Art.17)."""
        hints = already_provided(
            session,
            content["provider"],
            content["data_items"],
            content["key_field"],
            today=self.today(),
        )
        return [
            {
                "entry_code": h.entry_code,
                "provider": h.provider,
                "name": h.name,
                "items": list(h.items),
            }
            for h in hints
        ]

    def check_in_force(self, entry: CatalogueEntry | EntryState) -> None:
        """A withdrawn entry, or a revoked one past its sunset date, is no longer served."""
        article = (self.policy.period("revocation_grace").article,)
        if entry.status == "withdrawn":
            raise PermissionDenied(msg("the catalogue entry was withdrawn"), articles=article)
        if entry.status == "sunset" and entry.sunset_on and self.today() > entry.sunset_on:
            raise PermissionDenied(
                msg(
                    "the catalogue entry was withdrawn after its sunset date {sunset_on}",
                    sunset_on=entry.sunset_on,
                ),
                articles=article,
            )

    def entry_state(self, session: Session, code: str) -> EntryState | None:
        """What the relay checks of entry ``code`` for every query (status, sunset date, current
        version), read by primary key without an ORM unit of work; None: no such entry."""
        session.flush()  # a Core read on the connection: what the session holds is written first
        row = session.connection().execute(_ENTRY_STATE, {"code": code}).first()
        return None if row is None else EntryState(**row._mapping)

    def find(self, session: Session, code: str) -> CatalogueEntry | None:
        """The entry ``code``, or None when there is no such entry."""
        return session.get(CatalogueEntry, code)

    def current_versions(self, session: Session) -> dict[str, int]:
        """Entry code → its current published version (0: never published)."""
        return {
            code: version or 0
            for code, version in session.execute(
                select(CatalogueEntry.code, CatalogueEntry.current_version)
            )
        }
