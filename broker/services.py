"""The broker's domain services: directory, catalogue, share requests, grants, query relay.

Plain Python over a caller-owned SQLAlchemy session; no gRPC here. Every decision goes through
the policy engine (``policies``) and is appended to the ledger with the article it applied.
Errors are :mod:`proto.errors` domain errors naming the field or rule at fault.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, literal, select
from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker import validation as v
from tongdao.broker.catalogue_search import (
    AGGREGATION_MODES,
    TAGS,
    SearchFilters,
    SearchHit,
    already_provided,
    bulk_insert_search_rows,
    open_catalogue,
    remove_search_row,
    set_search_status,
    upsert_search_row,
)
from tongdao.broker.catalogue_search import match as match_entries
from tongdao.broker.catalogue_search import search as search_entries
from tongdao.broker.ledger import Ledger
from tongdao.broker.models import (
    CatalogueEntry,
    CatalogueEntryVersion,
    Deadline,
    Department,
    Grant,
    ShareRequest,
)
from tongdao.crypto.errors import SignatureError
from tongdao.crypto.grant_token import GrantClaims, b64url_encode, issue_grant_token
from tongdao.crypto.query_binding import receipt_signing_bytes, result_digest
from tongdao.crypto.signing import SigningKey, VerifyKey
from tongdao.crypto.stream import StreamDigest
from tongdao.policies.calendar import UnknownYearError, WorkingDayCalendar
from tongdao.policies.engine import (
    Decision,
    DepartmentFacts,
    EntryFacts,
    ShareRequestFacts,
    decide_deadline_extension,
    decide_provider_review,
    decide_share_request,
    effective_share_type,
    validate_catalogue_entry,
)
from tongdao.policies.model import Policy
from tongdao.proto.errors import (
    AlreadyExists,
    DeadlineExceeded,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from tongdao.proto.query import (
    STREAM_METHODS,
    QueryAnswer,
    Receipt,
    RelayedQuery,
    canonical_request_id,
)

AUTHORITY = "authority"
SHANGHAI = ZoneInfo("Asia/Shanghai")
METHODS = ("fetch", "verify", "intersection", "intersection_size", "intersection_sum", "aggregate")
SHARE_TYPES = ("unconditional", "conditional", "not_shared")
OPEN_TYPES = ("not_open", "conditional_open", "unconditional_open")
MAX_SEALED_QUERY_BYTES = 24 * 1024 * 1024  # under the 32 MiB transport limit


# ---------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class DepartmentData:
    """What the authority registers about a department."""

    code: str
    name: str
    region: str
    level: str
    node_endpoint: str
    encryption_public_key: bytes
    signing_public_key: bytes
    is_authority: bool = False


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


@dataclass(frozen=True)
class ShareRequestData:
    """What a consumer asks for (SHR-1)."""

    entry_code: str
    fields: tuple[str, ...]
    methods: tuple[str, ...]
    purpose: str
    scenario: str
    legal_basis: str
    regions: tuple[str, ...] = ()
    validity_days: int = 0
    quota: int = 0
    dp_epsilon: float = 0.0
    dp_budget: float = 0.0


class NodeRefused(DomainError):
    """The node answered with an error status; its code and message are relayed as they are."""

    def __init__(self, code_name: str, message: str) -> None:
        super().__init__(message)
        self.code_name = code_name


class NodeGateway(Protocol):
    """How the broker reaches a provider's node (gRPC in production, a fake in unit tests)."""

    def query(self, endpoint: str, query: RelayedQuery) -> QueryAnswer:
        """Relay ``query`` to the node at ``endpoint``.

        Raises:
            Unavailable: the node cannot be reached.
            NodeRefused: the node answered with an error status.
        """
        ...

    def query_stream(
        self, endpoint: str, query: RelayedQuery, chunks: Iterator[bytes]
    ) -> Iterator[bytes | Receipt]:
        """Relay a streamed query: yields the node's sealed chunks, then its receipt.

        Raises:
            Unavailable: the node cannot be reached or went away mid-stream.
            NodeRefused: the node answered with an error status.
        """
        ...


@dataclass
class BrokerSettings:
    """Operator settings (not regulation rules, which live in the policy file)."""

    issuer: str = "broker"
    default_validity_days: int = 365
    max_validity_days: int = 3 * 365
    default_quota: int = 1000
    max_quota: int = 1_000_000
    locale: str = "zh-CN"


# ---------------------------------------------------------------------------- helpers


@dataclass
class ImportResult:
    """The outcome of a bulk import: how many entries, or every problem found."""

    imported: int
    problems: list[Any]
    codes: list[str]


def entry_data_from_dict(e: dict[str, Any], provider: str) -> EntryData:
    """An :class:`EntryData` from an imported entry (see broker.catalogue_io)."""
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


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus calendar months, clamped to the month's last day (31 Aug + 6 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover


def _decision_dict(decision: Decision) -> dict[str, Any]:
    return {
        "outcome": decision.outcome,
        "articles": list(decision.articles),
        "reason": decision.reason,
        "rule": decision.rule,
    }


@dataclass
class BrokerServices:
    """The broker's use cases. Every public method takes the caller's department code."""

    policy: Policy
    calendar: WorkingDayCalendar
    signing_key: SigningKey
    ledger: Ledger
    settings: BrokerSettings = field(default_factory=BrokerSettings)
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)

    # ------------------------------------------------------------------ common
    def now(self) -> dt.datetime:
        return self.clock()

    def today(self) -> dt.date:
        """Today in the calendar's zone (Asia/Shanghai): what working days count from."""
        return self.now().astimezone(SHANGHAI).date()

    def _department(self, session: Session, code: str, field_name: str = "code") -> Department:
        dept = session.get(Department, code)
        if dept is None:
            raise NotFound(f"no department {code!r} in the directory", field=field_name)
        return dept

    def require_authority(self, session: Session, caller: str) -> None:
        if caller == AUTHORITY:
            return
        dept = session.get(Department, caller)
        if dept is None or not dept.is_authority:
            # Art.5: the authority (not a policy rule, so not in the rule file) runs the directory
            raise PermissionDenied("only the data authority may do this", articles=("Art.5",))

    def require_registered(self, session: Session, caller: str) -> Department:
        dept = session.get(Department, caller)
        if dept is None:
            raise PermissionDenied(
                f"caller {caller!r} is not a registered department (ask the authority)"
            )
        return dept

    # ------------------------------------------------------------------ directory
    def register_department(
        self, session: Session, caller: str, data: DepartmentData
    ) -> Department:
        """Add a department to the directory (authority only)."""
        self.require_authority(session, caller)
        v.code(data.code, "department.code")
        v.text(data.name, "department.name", max_len=200)
        v.region(data.region, "department.region")
        v.level(data.level, "department.level")
        v.text(data.node_endpoint, "department.node_endpoint", required=False, max_len=255)
        v.key_bytes(data.encryption_public_key, "department.encryption_public_key")
        v.key_bytes(data.signing_public_key, "department.signing_public_key")
        if session.get(Department, data.code) is not None:
            raise AlreadyExists(
                f"department {data.code!r} is already registered", field="department.code"
            )
        dept = Department(
            code=data.code,
            name=data.name.strip(),
            region=data.region,
            level=data.level,
            node_endpoint=data.node_endpoint.strip(),
            encryption_public_key=data.encryption_public_key,
            signing_public_key=data.signing_public_key,
            is_authority=data.is_authority,
            registered_at=self.now(),
        )
        session.add(dept)
        self.ledger.append(
            session,
            kind="department.registered",
            actor=caller,
            subject=data.code,
            payload={
                "name": dept.name,
                "region": dept.region,
                "level": dept.level,
                "node_endpoint": dept.node_endpoint,
                "encryption_public_key": dept.encryption_public_key.hex(),
                "signing_public_key": dept.signing_public_key.hex(),
            },
        )
        return dept

    def get_department(self, session: Session, code: str) -> Department:
        """Look a department up by code."""
        return self._department(session, v.code(code, "code"))

    def list_departments(self, session: Session) -> Sequence[Department]:
        """Every department, by code."""
        return session.execute(select(Department).order_by(Department.code)).scalars().all()

    # ------------------------------------------------------------------ catalogue
    def _entry_facts(self, content: dict[str, Any]) -> EntryFacts:
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
            raise InvalidArgument("must list at least one data item", field="entry.data_items")
        v.field_names([i.name for i in data.data_items], "entry.data_items")
        for item in data.data_items:
            if item.sensitivity not in self.policy.grades:
                raise InvalidArgument(
                    f"data item {item.name!r}: sensitivity {item.sensitivity!r} is not a grade of "
                    f"the policy ({', '.join(sorted(self.policy.grades))})",
                    field="entry.data_items",
                    articles=(self.policy.classification_article,),
                )
        if data.key_field not in {i.name for i in data.data_items}:
            raise InvalidArgument(
                "must name one of the entry's data items", field="entry.key_field"
            )
        if data.share_type not in SHARE_TYPES:
            raise InvalidArgument(
                f"must be one of {', '.join(SHARE_TYPES)}",
                field="entry.share_type",
                articles=(self.policy.sharing.share_type_article,),
            )
        if data.open_type not in OPEN_TYPES:
            raise InvalidArgument(
                f"must be one of {', '.join(OPEN_TYPES)}",
                field="entry.open_type",
                articles=(self.policy.opening.article,),
            )
        classification_article = (self.policy.classification_article,)
        for item in data.data_items:
            if item.classification and item.classification not in self.policy.classifications:
                raise InvalidArgument(
                    f"data item {item.name!r}: classification {item.classification!r} is not one "
                    f"of {', '.join(self.policy.classifications)}",
                    field="entry.data_items",
                    articles=classification_article,
                )
        if data.aggregation_mode not in AGGREGATION_MODES:
            raise InvalidArgument(
                f"must be one of {', '.join(AGGREGATION_MODES)}",
                field="entry.aggregation_mode",
                articles=("Art.18",),
            )
        for tag in data.tags:
            if tag not in TAGS:
                raise InvalidArgument(
                    f"{tag!r} is not one of {', '.join(TAGS)}",
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
        facts = self._entry_facts(content)
        check = validate_catalogue_entry(
            self.policy, facts, locale=self.settings.locale, today=self.today()
        )
        if check.outcome != "valid":
            raise InvalidArgument(check.reason, field="entry", articles=check.articles)
        effective, explanation = effective_share_type(
            self.policy, facts, locale=self.settings.locale
        )
        content["effective_share_type"] = effective
        content["validation"] = _decision_dict(explanation or check)
        return content

    def create_entry(self, session: Session, caller: str, data: EntryData) -> CatalogueEntry:
        """Draft a catalogue entry (the provider, for itself)."""
        provider = data.provider or caller
        if provider != caller:
            raise PermissionDenied(
                "a department drafts entries only for itself", field="entry.provider"
            )
        self.require_registered(session, caller)
        v.entry_code(data.code, "entry.code")
        if session.get(CatalogueEntry, data.code) is not None:
            raise AlreadyExists(f"catalogue entry {data.code!r} already exists", field="entry.code")
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

    def _entry(self, session: Session, code: str) -> CatalogueEntry:
        entry = session.get(CatalogueEntry, v.entry_code(code, "code"))
        if entry is None:
            raise NotFound(f"no catalogue entry {code!r}", field="code")
        return entry

    def submit_entry(self, session: Session, caller: str, code: str) -> CatalogueEntry:
        """The provider submits its draft to the authority for review (Art.12)."""
        entry = self._entry(session, code)
        if entry.provider != caller:
            raise PermissionDenied("only the entry's provider may submit it", field="code")
        if entry.status not in ("draft", "returned"):
            raise FailedPrecondition(
                f"entry is {entry.status}; only a draft or a returned entry is submitted",
                field="code",
            )
        entry.status = "submitted"
        entry.updated_at = self.now()
        entry.reviewer = self._reviewer_for(session, self._department(session, entry.provider))
        self._close_deadline(session, kind="catalogue_revision", subject=code)
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
                f"entry is {entry.status}; only a submitted entry can be published", field="code"
            )
        now = self.now()
        entry.current_version += 1
        entry.status = "published"
        entry.updated_at = now
        self._close_deadline(session, kind="catalogue_update", subject=code)
        session.add(
            CatalogueEntryVersion(
                entry_code=code,
                version=entry.current_version,
                content=dict(entry.content),
                published_at=now,
                published_by=caller,
            )
        )
        provider = self._department(session, entry.provider)
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
            raise FailedPrecondition(f"entry is {entry.status}, not submitted", field="code")
        comments = v.text(comments, "comments")
        rule = self.policy.deadline("catalogue_revision")
        entry.status = "returned"
        entry.updated_at = self.now()
        entry.content = {**entry.content, "review_comments": comments}
        due = self._start_deadline(
            session, kind=rule.kind, subject=code, responsible=entry.provider
        )
        self.ledger.append(
            session,
            kind="catalogue_entry.returned",
            actor=caller,
            subject=code,
            payload={"comments": comments, "due_on": due.isoformat(), "articles": [rule.article]},
        )
        return entry

    def revise_entry(self, session: Session, caller: str, data: EntryData) -> CatalogueEntry:
        """The provider replaces its working copy: a draft, a returned entry, or the next version
        of a published one (share requests keep using the published version meanwhile)."""
        entry = self._entry(session, data.code)
        if entry.provider != caller or (data.provider and data.provider != caller):
            raise PermissionDenied(
                "only the entry's provider may revise it", field="entry.provider"
            )
        if entry.status == "submitted":
            raise FailedPrecondition("entry is under review; wait for the decision", field="code")
        content = self._validated_content(data, caller)
        content["obtainable_by_sharing"] = self._obtainable(session, content)
        if entry.status in ("revoking", "sunset", "withdrawn"):
            raise FailedPrecondition(f"entry is {entry.status}", field="code", articles=("Art.16",))
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
        self.require_authority(session, caller)
        entry = self._entry(session, code)
        if entry.current_version < 1:
            raise FailedPrecondition("entry has no published version to update", field="code")
        basis = v.text(basis, "basis")
        rule = self.policy.deadline("catalogue_update")
        due = self._start_deadline(
            session, kind=rule.kind, subject=code, responsible=entry.provider
        )
        self.ledger.append(
            session,
            kind="catalogue_entry.update_required",
            actor=caller,
            subject=code,
            payload={"basis": basis, "due_on": due.isoformat(), "articles": [rule.article]},
        )
        return entry

    def extend_deadline(
        self, session: Session, caller: str, deadline_id: int, basis: str
    ) -> Deadline:
        """Grant the extension a clock allows, with its stated policy basis (Art.15)."""
        self.require_authority(session, caller)
        deadline = session.get(Deadline, v.row_id(deadline_id, "id"))
        if deadline is None:
            raise NotFound(f"no deadline {deadline_id}", field="id")
        if deadline.closed_on is not None:
            raise FailedPrecondition("the item is already closed", field="id")
        decision = decide_deadline_extension(
            self.policy,
            deadline.kind,
            basis=basis,
            extensions_granted=deadline.extensions,
            locale=self.settings.locale,
            today=self.today(),
        )
        if decision.outcome != "approved" or not decision.due_working_days:
            raise FailedPrecondition(decision.reason, field="basis", articles=decision.articles)
        try:
            deadline.due_on = self.calendar.due_date(deadline.due_on, decision.due_working_days)
        except UnknownYearError as exc:
            raise FailedPrecondition(str(exc), articles=decision.articles) from None
        deadline.extensions += 1
        self.ledger.append(
            session,
            kind="deadline.extended",
            actor=caller,
            subject=deadline.subject,
            payload={
                "kind": deadline.kind,
                "basis": basis.strip(),
                "due_on": deadline.due_on.isoformat(),
                "decision": _decision_dict(decision),
            },
        )
        return deadline

    def _published_content(self, session: Session, entry: CatalogueEntry) -> dict[str, Any]:
        snap = session.get(CatalogueEntryVersion, (entry.code, entry.current_version))
        if snap is None:
            raise FailedPrecondition("entry has no published version", field="request.entry_code")
        return snap.content

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
            raise NotFound(f"entry {code!r} has no version {version}", field="version")
        return entry, snap.content, version

    def list_entries(
        self, session: Session, provider: str = "", status: str = ""
    ) -> Sequence[CatalogueEntry]:
        """Entries, optionally by provider and status."""
        query = select(CatalogueEntry).order_by(CatalogueEntry.code)
        if provider:
            query = query.where(CatalogueEntry.provider == provider)
        if status:
            query = query.where(CatalogueEntry.status == status)
        return session.execute(query).scalars().all()

    # ------------------------------------------------------------------ review routing
    def _reviewer_for(self, session: Session, provider: Department) -> str:
        """Who reviews the provider's entries (CAT-5, Art.12).

        A province department's entries go to the authority of its own region; a city's to
        the authority of its province, a county's to the authority of its city ("the next
        level up"). The authority is the registered department with ``is_authority`` in that
        region (the first by code); when none is registered, the broker's operator
        (``authority``, the provincial data authority) reviews.
        """
        region = provider.region
        if provider.level == "county":
            region = region[:4] + "00"
        elif provider.level == "city":
            region = region[:2] + "0000"
        reviewer = session.execute(
            select(Department.code)
            .where(
                Department.region == region,
                Department.is_authority.is_(True),
                Department.code != provider.code,
            )
            .order_by(Department.code)
            .limit(1)
        ).scalar_one_or_none()
        return reviewer or AUTHORITY

    def _require_reviewer(self, session: Session, caller: str, entry: CatalogueEntry) -> None:
        """Only the entry's reviewing authority (or the provincial operator) may decide."""
        if caller == AUTHORITY:
            return
        reviewer = entry.reviewer or self._reviewer_for(
            session, self._department(session, entry.provider)
        )
        dept = session.get(Department, caller)
        if caller != reviewer or dept is None or not dept.is_authority:
            raise PermissionDenied(
                f"only the reviewing authority {reviewer!r} may decide on this entry",
                field="code",
                articles=("Art.12",),
            )

    # ------------------------------------------------------------------ Art.17 / Art.16
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

    def _check_in_force(self, entry: CatalogueEntry) -> None:
        """A withdrawn entry, or a revoked one past its sunset date, is no longer served."""
        article = (self.policy.period("revocation_grace").article,)
        if entry.status == "withdrawn":
            raise PermissionDenied("the catalogue entry was withdrawn", articles=article)
        if entry.status == "sunset" and entry.sunset_on and self.today() > entry.sunset_on:
            raise PermissionDenied(
                f"the catalogue entry was withdrawn after its sunset date {entry.sunset_on}",
                articles=article,
            )

    def request_revocation(
        self, session: Session, caller: str, code: str, reason: str
    ) -> CatalogueEntry:
        """The provider asks to revoke a published entry; the authority reviews it (Art.16).

        Raises:
            PermissionDenied: the caller is not the provider.
            FailedPrecondition: the entry is not published (or is mid-review).
        """
        entry = self._entry(session, code)
        if entry.provider != caller:
            raise PermissionDenied("only the entry's provider may ask to revoke it", field="code")
        if entry.status != "published":
            raise FailedPrecondition(
                f"entry is {entry.status}; only a published entry is revoked", field="code"
            )
        entry.revocation_reason = v.text(reason, "reason")
        entry.reviewer = self._reviewer_for(session, self._department(session, entry.provider))
        entry.status = "revoking"
        entry.updated_at = self.now()
        set_search_status(session, code, "revoking")
        article = self.policy.period("revocation_grace").article
        self.ledger.append(
            session,
            kind="catalogue_entry.revocation_requested",
            actor=caller,
            subject=code,
            payload={"reason": entry.revocation_reason, "articles": [article]},
        )
        return entry

    def decide_revocation(
        self, session: Session, caller: str, code: str, approve: bool, comment: str
    ) -> CatalogueEntry:
        """The reviewing authority approves or refuses a revocation (Art.16).

        Approved and in use (active, unexpired grants): the entry is served for the policy's
        grace period (6 months) and shows its sunset date; then it is withdrawn. Approved and
        unused: withdrawn at once. Refused: published again.
        """
        entry = self._entry(session, code)
        self._require_reviewer(session, caller, entry)
        if entry.status != "revoking":
            raise FailedPrecondition(
                f"entry is {entry.status}, not up for revocation", field="code"
            )
        comment = v.text(comment, "comment", required=False)
        grace = self.policy.period("revocation_grace")
        now = self.now()
        in_use = session.execute(
            select(func.count())
            .select_from(Grant)
            .where(Grant.entry_code == code, Grant.status == "active", Grant.expires_at > now)
        ).scalar_one()
        if not approve:
            entry.status = "published"
            set_search_status(session, code, "in_force")
        elif in_use:
            entry.status = "sunset"
            entry.sunset_on = add_months(self.today(), grace.months or 0)
            set_search_status(session, code, "sunset", entry.sunset_on)
        else:
            entry.status = "withdrawn"
            entry.sunset_on = self.today()
            remove_search_row(session, code)
        entry.updated_at = now
        self.ledger.append(
            session,
            kind="catalogue_entry.revocation_decided",
            actor=caller,
            subject=code,
            payload={
                "approved": approve,
                "comment": comment,
                "grants_in_use": in_use,
                "status": entry.status,
                "sunset_on": entry.sunset_on.isoformat() if entry.sunset_on else None,
                "articles": [grace.article],
            },
        )
        return entry

    def withdraw_due_entries(self, session: Session, caller: str) -> list[str]:
        """Withdraw revoked entries whose sunset date has passed (Art.16); returns their codes.

        Relaying, search and the open catalogue already treat such entries as withdrawn; this
        records the withdrawal in the store and the ledger.
        """
        self.require_authority(session, caller)
        due = session.execute(
            select(CatalogueEntry).where(
                CatalogueEntry.status == "sunset", CatalogueEntry.sunset_on < self.today()
            )
        ).scalars()
        codes = []
        for entry in due:
            entry.status = "withdrawn"
            remove_search_row(session, entry.code)
            self.ledger.append(
                session,
                kind="catalogue_entry.withdrawn",
                actor=caller,
                subject=entry.code,
                payload={"articles": [self.policy.period("revocation_grace").article]},
            )
            codes.append(entry.code)
        return codes

    # ------------------------------------------------------------------ search (CAT-8, OPN-1)
    def _require_caller(self, session: Session, caller: str) -> None:
        if caller != AUTHORITY:
            self.require_registered(session, caller)

    def _filters(self, filters: SearchFilters) -> SearchFilters:
        if filters.provider:
            v.code(filters.provider, "filters.provider")
        if filters.region:
            v.region(filters.region, "filters.region")
        checks = (
            (filters.share_type, SHARE_TYPES, "filters.share_type"),
            (filters.open_type, OPEN_TYPES, "filters.open_type"),
            (filters.tag, TAGS, "filters.tag"),
            (filters.grade, tuple(self.policy.grades), "filters.grade"),
        )
        for value, allowed, name in checks:
            if value and value not in allowed:
                raise InvalidArgument(f"must be one of {', '.join(allowed)}", field=name)
        return filters

    def search_catalogue(
        self,
        session: Session,
        caller: str,
        query: str,
        filters: SearchFilters,
        *,
        limit: int = 20,
        offset: int = 0,
    ) -> tuple[list[SearchHit], bool]:
        """Ranked full-text search of the entries in force (CAT-8); see broker.catalogue_search.

        Raises:
            InvalidArgument: a malformed filter or an over-long query.
            PermissionDenied: an unregistered caller.
        """
        self._require_caller(session, caller)
        query = v.text(query, "query", required=False, max_len=500)
        v.bounded_int(limit, "limit", low=0, high=200)
        v.bounded_int(offset, "offset", low=0, high=1_000_000)
        return search_entries(
            session,
            query,
            self._filters(filters),
            today=self.today(),
            limit=limit or 20,
            offset=offset,
        )

    def match_catalogue(
        self,
        session: Session,
        caller: str,
        need: str,
        items: Sequence[str],
        filters: SearchFilters,
        *,
        limit: int = 10,
    ) -> list[SearchHit]:
        """The entries that best answer a need and the data items wanted (CAT-8, Art.11)."""
        self._require_caller(session, caller)
        need = v.text(need, "need", required=False, max_len=1000)
        if len(items) > v.MAX_ITEMS:
            raise InvalidArgument(f"names more than {v.MAX_ITEMS} items", field="items")
        items = [v.text(i, "items", max_len=200) for i in items]
        if not need and not items:
            raise InvalidArgument("state a need or at least one data item", field="need")
        v.bounded_int(limit, "limit", low=0, high=200)
        return match_entries(
            session, need, items, self._filters(filters), today=self.today(), limit=limit or 10
        )

    def open_catalogue(
        self,
        session: Session,
        caller: str,
        *,
        provider: str = "",
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[tuple[Any, dict[str, Any]]], bool]:
        """The open catalogue (OPN-1): derived from the entries in force at every call."""
        self._require_caller(session, caller)
        return self.public_open_catalogue(session, provider=provider, limit=limit, offset=offset)

    def public_open_catalogue(
        self, session: Session, *, provider: str = "", limit: int = 100, offset: int = 0
    ) -> tuple[list[tuple[Any, dict[str, Any]]], bool]:
        """The open catalogue as anyone may see it (OPN-1, Art.32): no caller identity needed.

        Raises:
            InvalidArgument: a malformed provider code or an out-of-range page.
        """
        if provider:
            v.code(provider, "provider")
        v.bounded_int(limit, "limit", low=0, high=1000)
        v.bounded_int(offset, "offset", low=0, high=1_000_000)
        return open_catalogue(
            session, today=self.today(), provider=provider, limit=limit or 100, offset=offset
        )

    # ------------------------------------------------------------------ bulk import / export
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
        from tongdao.broker.catalogue_io import ImportProblem

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
        regions = {c: r for c, r in session.execute(select(Department.code, Department.region))}
        accepted: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        for n, p in enumerate(parsed, start=1):
            e = p.entry
            provider = e["provider"] or caller
            try:
                v.entry_code(e["code"], "entry.code")
                if e["code"] in seen:
                    raise AlreadyExists(f"is already on line {seen[e['code']]}", field="entry.code")
                seen[e["code"]] = p.line
                if e["code"] in existing:
                    raise AlreadyExists("catalogue entry already exists", field="entry.code")
                if not publish and provider != caller:
                    raise PermissionDenied(
                        "a department imports only its own entries", field="entry.provider"
                    )
                if provider not in regions:
                    raise NotFound("is not a registered department", field="entry.provider")
                accepted.append(
                    self._validated_content(entry_data_from_dict(e, provider), provider)
                )
            except DomainError as exc:
                problems.append(_import_problem(ImportProblem, p, exc))
            if progress is not None and (n % 500 == 0 or n == len(parsed)):
                progress(n, len(parsed))
            if n % 500 == 0 and expired is not None and expired():
                raise DeadlineExceeded("the caller's deadline passed during the import")
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
        from tongdao.broker.catalogue_io import FORMATS

        if fmt not in FORMATS:
            raise InvalidArgument(f"must be one of {', '.join(FORMATS)}", field="format")
        if publish:
            self.require_authority(session, caller)
        else:
            self.require_registered(session, caller)

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
        from tongdao.broker.catalogue_io import FORMATS, ImportCancelled, ImportLimits, parse

        if fmt not in FORMATS:
            raise InvalidArgument(f"must be one of {', '.join(FORMATS)}", field="format")
        try:
            return parse(
                content, fmt, limits=ImportLimits.from_policy(self.policy), expired=expired
            )
        except ImportCancelled:
            raise DeadlineExceeded("the caller's deadline passed while the file was read") from None

    def export_entries(
        self, session: Session, caller: str, fmt: str, *, provider: str = "", status: str = ""
    ) -> bytes:
        """Export working copies of entries in a format :meth:`import_entries` reads back.

        Raises:
            InvalidArgument: unknown format.
        """
        from tongdao.broker.catalogue_io import FORMATS, export

        self._require_caller(session, caller)
        if fmt not in FORMATS:
            raise InvalidArgument(f"must be one of {', '.join(FORMATS)}", field="format")
        entries = self.list_entries(session, provider=provider, status=status)
        return export([e.content for e in entries], fmt)

    # ------------------------------------------------------------------ sharing
    def file_share_request(
        self, session: Session, caller: str, data: ShareRequestData
    ) -> ShareRequest:
        """File a share request and decide it by the entry's share type (SHR-2).

        Unconditional entries are approved by the automatic compliance check; conditional ones go
        to the provider's inbox with a working-day clock; not-shared ones are refused citing the
        entry's legal basis. Refusals are recorded, not raised: the caller gets the decision.
        """
        consumer = self.require_registered(session, caller)
        v.entry_code(data.entry_code, "request.entry_code")
        entry = session.get(CatalogueEntry, data.entry_code)
        if entry is None:
            raise NotFound(f"no catalogue entry {data.entry_code!r}", field="request.entry_code")
        if entry.current_version < 1:
            raise FailedPrecondition("entry is not published", field="request.entry_code")
        if entry.status in ("sunset", "withdrawn"):
            raise FailedPrecondition(
                f"entry is revoked ({entry.status}); no new share requests",
                field="request.entry_code",
                articles=(self.policy.period("revocation_grace").article,),
            )
        v.field_names(data.fields, "request.fields")
        if not data.methods:
            raise InvalidArgument("must name at least one method", field="request.methods")
        for method in data.methods:
            if method not in METHODS:
                raise InvalidArgument(f"unknown method {method!r}", field="request.methods")
        purpose = v.text(data.purpose, "request.purpose", max_len=500)
        scenario = v.text(data.scenario, "request.scenario", max_len=v.MAX_TEXT)
        legal_basis = v.text(data.legal_basis, "request.legal_basis", max_len=v.MAX_TEXT)
        regions = v.regions(data.regions, "request.regions")
        validity = data.validity_days or self.settings.default_validity_days
        v.bounded_int(
            validity, "request.requested_validity_days", low=1, high=self.settings.max_validity_days
        )
        quota = data.quota or self.settings.default_quota
        v.bounded_int(quota, "request.requested_quota", low=1, high=self.settings.max_quota)
        privacy = self.policy.privacy
        if not 0 <= data.dp_epsilon <= privacy.max_dp_epsilon:
            raise InvalidArgument(
                f"must be between 0 and {privacy.max_dp_epsilon}",
                field="request.dp_epsilon",
                articles=(privacy.article,),
            )
        if not 0 <= data.dp_budget <= privacy.max_dp_budget or data.dp_budget < data.dp_epsilon:
            raise InvalidArgument(
                f"must be between dp_epsilon and {privacy.max_dp_budget}",
                field="request.dp_budget",
                articles=(privacy.article,),
            )

        content = self._published_content(session, entry)
        facts = ShareRequestFacts(
            consumer=DepartmentFacts(
                code=consumer.code, region=consumer.region, level=consumer.level
            ),
            entry=self._entry_facts(content),
            fields=tuple(data.fields),
            methods=tuple(data.methods),
            purpose=purpose,
            scenario=scenario,
            legal_basis=legal_basis,
            today=self.today(),
        )
        # CAT-2: a conditional entry without conditions is decided as unconditional.
        if content.get("effective_share_type", content["share_type"]) != content["share_type"]:
            facts = ShareRequestFacts(
                consumer=facts.consumer,
                entry=EntryFacts(
                    **{**facts.entry.__dict__, "share_type": content["effective_share_type"]}
                ),
                fields=facts.fields,
                methods=facts.methods,
                purpose=facts.purpose,
                scenario=facts.scenario,
                legal_basis=facts.legal_basis,
                today=facts.today,
            )
        decision = decide_share_request(self.policy, facts, locale=self.settings.locale)
        now = self.now()
        request = ShareRequest(
            id=str(uuid.uuid4()),
            consumer=consumer.code,
            provider=entry.provider,
            entry_code=entry.code,
            entry_version=entry.current_version,
            fields=list(data.fields),
            methods=list(data.methods),
            purpose=purpose,
            scenario=scenario,
            legal_basis=legal_basis,
            regions=regions,
            validity_days=validity,
            quota=quota,
            dp_epsilon=data.dp_epsilon,
            dp_budget=data.dp_budget,
            status=decision.outcome,
            decision=_decision_dict(decision),
            created_at=now,
        )
        session.add(request)
        if decision.outcome == "pending_provider_review":
            rule = self.policy.deadline("conditional_share_review")
            request.due_date = self._start_deadline(
                session, kind=rule.kind, subject=request.id, responsible=entry.provider
            )
        elif decision.outcome == "approved":
            request.decided_at = now
        session.flush()
        self.ledger.append(
            session,
            kind="share_request.filed",
            actor=caller,
            subject=request.id,
            payload={
                "entry_code": entry.code,
                "entry_version": entry.current_version,
                "fields": list(data.fields),
                "methods": list(data.methods),
                "purpose": purpose,
                "decision": request.decision,
                "due_date": request.due_date.isoformat() if request.due_date else None,
            },
        )
        if decision.outcome == "approved":
            self._issue_grant(session, request, consumer)
        elif decision.outcome not in ("pending_provider_review", "refused"):
            raise FailedPrecondition(f"policy returned an unexpected outcome {decision.outcome!r}")
        return request

    def _start_deadline(
        self, session: Session, *, kind: str, subject: str, responsible: str
    ) -> dt.date:
        """Start the policy's working-day clock ``kind`` today; return its due date (SUP-1)."""
        rule = self.policy.deadline(kind)
        started = self.today()
        try:
            due = self.calendar.due_date(started, rule.working_days)
        except UnknownYearError as exc:
            raise FailedPrecondition(
                f"cannot set the {rule.working_days}-working-day deadline: {exc}",
                articles=(rule.article,),
            ) from None
        session.add(
            Deadline(
                kind=kind,
                subject=subject,
                responsible=responsible,
                article=rule.article,
                working_days=rule.working_days,
                started_on=started,
                due_on=due,
            )
        )
        return due

    def _close_deadline(self, session: Session, *, kind: str, subject: str) -> Deadline | None:
        deadline = session.execute(
            select(Deadline).where(
                Deadline.kind == kind, Deadline.subject == subject, Deadline.closed_on.is_(None)
            )
        ).scalar_one_or_none()
        if deadline is not None:
            deadline.closed_on = self.today()
            deadline.closed_late = deadline.closed_on > deadline.due_on
        return deadline

    def list_share_requests(
        self, session: Session, caller: str, role: str, status: str = ""
    ) -> Sequence[ShareRequest]:
        """The caller's inbox (``role="provider"``) or its own requests (``role="consumer"``)."""
        self.require_registered(session, caller)
        if role not in ("provider", "consumer"):
            raise InvalidArgument("must be 'provider' or 'consumer'", field="role")
        column = ShareRequest.provider if role == "provider" else ShareRequest.consumer
        query = select(ShareRequest).where(column == caller).order_by(ShareRequest.created_at)
        if status:
            query = query.where(ShareRequest.status == status)
        return session.execute(query).scalars().all()

    def get_share_request(self, session: Session, request_id: str) -> ShareRequest:
        request = session.get(ShareRequest, v.identifier(request_id, "id"))
        if request is None:
            raise NotFound(f"no share request {request_id!r}", field="id")
        return request

    def decide_share_request(
        self, session: Session, caller: str, request_id: str, approve: bool, reason: str
    ) -> ShareRequest:
        """The provider approves or refuses a conditional request in its inbox (Art.22)."""
        request = self.get_share_request(session, request_id)
        if request.provider != caller:
            raise PermissionDenied("only the entry's provider may decide this request", field="id")
        if request.status != "pending_provider_review":
            raise FailedPrecondition(f"request is already {request.status}", field="id")
        reason = v.text(reason, "reason", required=False)
        decision = decide_provider_review(
            self.policy,
            approve=approve,
            reason=reason,
            locale=self.settings.locale,
            today=self.today(),
        )
        if decision.outcome == "invalid":
            raise InvalidArgument(decision.reason, field="reason", articles=decision.articles)
        now = self.now()
        request.status = decision.outcome
        request.decision = _decision_dict(decision)
        request.decided_at = now
        deadline = self._close_deadline(
            session, kind="conditional_share_review", subject=request.id
        )
        self.ledger.append(
            session,
            kind="share_request.decided",
            actor=caller,
            subject=request.id,
            payload={
                "decision": request.decision,
                "closed_late": bool(deadline and deadline.closed_late),
            },
        )
        if decision.outcome == "approved":
            self._issue_grant(session, request, self._department(session, request.consumer))
        return request

    def _issue_grant(self, session: Session, request: ShareRequest, consumer: Department) -> Grant:
        now = self.now()
        grant_id = str(uuid.uuid4())
        expires = now + dt.timedelta(days=request.validity_days)
        claims = GrantClaims(
            grant_id=grant_id,
            issuer=self.settings.issuer,
            consumer=request.consumer,
            provider=request.provider,
            entry_code=request.entry_code,
            entry_version=request.entry_version,
            fields=tuple(request.fields),
            methods=tuple(request.methods),
            purpose=request.purpose,
            regions=tuple(request.regions),
            issued_at=int(now.timestamp()),
            expires_at=int(expires.timestamp()),
            quota=request.quota,
            consumer_encryption_key=b64url_encode(consumer.encryption_public_key),
            dp_epsilon_milli=round(request.dp_epsilon * 1000),
            dp_budget_milli=round(request.dp_budget * 1000),
        )
        grant = Grant(
            id=grant_id,
            share_request_id=request.id,
            consumer=request.consumer,
            provider=request.provider,
            entry_code=request.entry_code,
            entry_version=request.entry_version,
            fields=list(request.fields),
            methods=list(request.methods),
            purpose=request.purpose,
            regions=list(request.regions),
            issued_at=now,
            expires_at=expires,
            quota=request.quota,
            dp_epsilon=request.dp_epsilon,
            dp_budget=request.dp_budget,
            used=0,
            status="active",
            token=issue_grant_token(claims, self.signing_key),
        )
        session.add(grant)
        request.grant_id = grant_id
        self.ledger.append(
            session,
            kind="grant.issued",
            actor=self.settings.issuer,
            subject=grant_id,
            payload={
                "share_request_id": request.id,
                "consumer": grant.consumer,
                "provider": grant.provider,
                "entry_code": grant.entry_code,
                "entry_version": grant.entry_version,
                "fields": grant.fields,
                "methods": grant.methods,
                "purpose": grant.purpose,
                "expires_at": expires.isoformat(),
                "quota": grant.quota,
                "token_sha256": hashlib.sha256(grant.token.encode()).hexdigest(),
            },
        )
        return grant

    def get_grant(self, session: Session, caller: str, grant_id: str) -> Grant:
        """A grant, visible to its consumer, its provider and the authority."""
        grant = session.get(Grant, v.identifier(grant_id, "id"))
        if grant is None:
            raise NotFound(f"no grant {grant_id!r}", field="id")
        if caller not in (grant.consumer, grant.provider, AUTHORITY):
            self.require_authority(session, caller)
        return grant

    # ------------------------------------------------------------------ query relay
    def _validate_query(self, query: RelayedQuery) -> None:
        if not query.grant_token:
            raise InvalidArgument("is required", field="grant_token")
        canonical_request_id(query.request_id)
        if query.method not in METHODS:
            raise InvalidArgument("is not a known query method", field="method")
        v.text(query.purpose, "purpose", max_len=500)
        v.field_names(query.fields, "fields")
        if not query.sealed_query:
            raise InvalidArgument("is required", field="sealed_query")
        if len(query.sealed_query) > MAX_SEALED_QUERY_BYTES:
            raise InvalidArgument(
                f"is larger than {MAX_SEALED_QUERY_BYTES} bytes", field="sealed_query"
            )

    def _prepare_relay(
        self, sessions: sessionmaker[Session], caller: str, query: RelayedQuery
    ) -> tuple[str, str, bytes]:
        """Check the grant is the caller's and live; return (grant id, endpoint, provider key)."""
        self._validate_query(query)
        with sessions.begin() as session:
            grant = session.execute(
                select(Grant).where(Grant.token == query.grant_token)
            ).scalar_one_or_none()
            if grant is None:
                # The broker only relays tokens it issued; a forged or altered token is also
                # refused by the node itself (it never trusts the relay).
                raise PermissionDenied(
                    "grant token was not issued by this broker", field="grant_token"
                )
            if grant.consumer != caller:
                raise PermissionDenied(
                    "the grant was issued to another department", field="grant_token"
                )
            self._check_live(grant, query)
            entry = session.get(CatalogueEntry, grant.entry_code)
            if entry is not None:
                self._check_in_force(entry)
            if entry is not None and entry.current_version > grant.entry_version:
                # CAT-7: a data item removed in a later version is never served to an old grant
                current = {i["name"] for i in self._published_content(session, entry)["data_items"]}
                withdrawn = [f for f in query.fields if f not in current]
                if withdrawn:
                    raise PermissionDenied(
                        f"data item {withdrawn[0]!r} was withdrawn in version "
                        f"{entry.current_version} of the entry",
                        field="fields",
                        articles=(self.policy.deadline("catalogue_update").article,),
                    )
            provider = self._department(session, grant.provider)
            if not provider.node_endpoint:
                raise FailedPrecondition(
                    f"provider {provider.code!r} has no node endpoint registered"
                )
            return grant.id, provider.node_endpoint, provider.signing_public_key

    @staticmethod
    def _base_payload(grant_id: str, query: RelayedQuery) -> dict[str, Any]:
        return {
            "grant_id": grant_id,
            "request_id": canonical_request_id(query.request_id),
            "method": query.method,
            "fields": list(query.fields),
            "purpose": query.purpose,
            "sealed_query_bytes": len(query.sealed_query),
            "sealed_query_sha256": hashlib.sha256(query.sealed_query).hexdigest(),
            "token_sha256": hashlib.sha256(query.grant_token.encode()).hexdigest(),
        }

    def _call_node(
        self,
        sessions: sessionmaker[Session],
        caller: str,
        query: RelayedQuery,
        gateway: NodeGateway,
        grant_id: str,
        endpoint: str,
        provider_key: bytes,
    ) -> tuple[QueryAnswer, int]:
        """Relay one prepared query and record exactly one complete ledger entry for it."""
        base_payload = self._base_payload(grant_id, query)
        try:
            answer = gateway.query(endpoint, query)
        except (Unavailable, NodeRefused) as exc:
            code_name = exc.code_name if isinstance(exc, NodeRefused) else "UNAVAILABLE"
            self._record_failed(sessions, caller, grant_id, base_payload, code_name, str(exc))
            raise
        receipt_ok = self._receipt_valid(answer, query, grant_id, provider_key)
        sequence = self._record_answered(
            sessions,
            caller,
            grant_id,
            answer.receipt,
            receipt_ok,
            {
                **base_payload,
                "sealed_result_bytes": len(answer.sealed_result),
                "ciphertexts": len(answer.ciphertexts),
                "suppressed": answer.suppressed,
            },
        )
        return answer, sequence

    def _record_failed(
        self,
        sessions: sessionmaker[Session],
        caller: str,
        grant_id: str,
        payload: dict[str, Any],
        status: str,
        message: str,
    ) -> None:
        """The one ledger entry of a relayed call that did not answer (no use is counted)."""
        with sessions.begin() as session:
            self.ledger.append(
                session,
                kind="query.failed",
                actor=caller,
                subject=grant_id,
                payload={**payload, "status": status, "message": message},
            )

    def _record_answered(
        self,
        sessions: sessionmaker[Session],
        caller: str,
        grant_id: str,
        receipt: Receipt,
        receipt_ok: bool,
        payload: dict[str, Any],
    ) -> int:
        """The one ledger entry of an answered call, with the node's receipt; a verified
        receipt counts one use of the grant.

        Returns:
            The entry's ledger sequence.

        Raises:
            Unavailable: the receipt does not verify (recorded as ``query.bad_receipt`` first).
        """
        with sessions.begin() as session:
            grant = session.get(Grant, grant_id, with_for_update=True)
            assert grant is not None
            if receipt_ok:
                grant.used += 1
                grant.last_used_at = self.now()
            entry = self.ledger.append(
                session,
                kind="query.relayed" if receipt_ok else "query.bad_receipt",
                actor=caller,
                subject=grant_id,
                payload={
                    **payload,
                    "result_sha256": receipt.result_digest.hex(),
                    "record_count": receipt.record_count,
                    "answered_at": receipt.answered_at,
                    "receipt_signature": receipt.signature.hex(),
                    "receipt_verified": receipt_ok,
                },
            )
            sequence = entry.sequence
        if not receipt_ok:
            raise Unavailable("the provider's node returned a receipt that does not verify")
        return sequence

    def relay_query(
        self,
        sessions: sessionmaker[Session],
        caller: str,
        query: RelayedQuery,
        gateway: NodeGateway,
    ) -> tuple[QueryAnswer, int]:
        """Check the grant's live status, relay the sealed query to the node, record the call.

        Two short transactions surround the node call, so no database lock is held while the
        node works. The ledger gets exactly one complete entry per relayed call: the receipt on
        success, the node's refusal or unavailability otherwise; the grant's use count moves only
        on success.

        Returns:
            The node's answer and the ledger sequence number of the call.
        """
        if query.method == "aggregate":
            raise InvalidArgument(
                "aggregates go through Aggregate, which adds the nodes' answers", field="method"
            )
        if query.method in STREAM_METHODS:
            raise InvalidArgument(
                f"method {query.method!r} runs as a streamed query (QueryStream)", field="method"
            )
        grant_id, endpoint, provider_key = self._prepare_relay(sessions, caller, query)
        return self._call_node(sessions, caller, query, gateway, grant_id, endpoint, provider_key)

    def relay_stream(
        self,
        sessions: sessionmaker[Session],
        caller: str,
        query: RelayedQuery,
        chunks: Iterator[bytes],
        gateway: NodeGateway,
        *,
        consumer_gone: Callable[[], bool] = lambda: False,
    ) -> Iterator[bytes | tuple[Receipt, int]]:
        """Relay a streamed query (PSI, intersection-sum): chunks both ways, then the receipt.

        The broker checks the grant exactly as for :meth:`relay_query`, passes sealed chunks
        through without reading them, keeps a digest of what the node sent, and records one
        complete ledger entry when the stream ends — relayed (the node's receipt names the digest
        the broker computed), refused, unavailable or abandoned by the consumer.

        Args:
            consumer_gone: says whether the consumer has left (a node error that follows is
                recorded as the consumer's cancellation, not as the node's refusal).

        Yields:
            The node's sealed chunks, then ``(receipt, ledger sequence)``.

        Raises:
            InvalidArgument: not a streamed method.
            PermissionDenied / NotFound / FailedPrecondition: as :meth:`relay_query`.
            Unavailable: the node is down, or its receipt does not verify.
            NodeRefused: the node's own refusal, with its status.
        """
        if query.method not in STREAM_METHODS:
            raise InvalidArgument(
                f"method {query.method!r} is not a streamed query; use Query", field="method"
            )
        grant_id, endpoint, provider_key = self._prepare_relay(sessions, caller, query)
        up, down = StreamDigest(), StreamDigest()

        def counted() -> Iterator[bytes]:
            for chunk in chunks:
                up.update(chunk)
                yield chunk

        def stats() -> dict[str, Any]:
            payload = self._base_payload(grant_id, query)
            payload["sealed_query_bytes"] += up.bytes
            return {
                **payload,
                "stream": True,
                "chunks_to_provider": up.chunks,
                "chunks_to_consumer": down.chunks,
                "sealed_result_bytes": down.bytes,
            }

        def failed(status: str, message: str) -> None:
            self._record_failed(sessions, caller, grant_id, stats(), status, message)

        receipt: Receipt | None = None
        relay = gateway.query_stream(endpoint, query, counted())
        try:
            for item in relay:
                if isinstance(item, Receipt):
                    receipt = item
                    break
                down.update(item)
                yield item
        except (Unavailable, NodeRefused) as exc:
            if consumer_gone():
                failed("CANCELLED", "the consumer left before the stream ended")
            else:
                failed(exc.code_name if isinstance(exc, NodeRefused) else "UNAVAILABLE", str(exc))
            raise
        except GeneratorExit:
            failed("CANCELLED", "the consumer left before the stream ended")
            raise
        finally:
            relay.close()
        if receipt is None:
            failed("UNAVAILABLE", "the node ended the stream without a receipt")
            raise Unavailable("the provider's node ended the stream without a receipt")
        receipt_ok = self._receipt_signature_valid(
            receipt, query.request_id, grant_id, down.digest(), provider_key
        )
        sequence = self._record_answered(sessions, caller, grant_id, receipt, receipt_ok, stats())
        yield receipt, sequence

    def relay_aggregate(
        self,
        sessions: sessionmaker[Session],
        caller: str,
        parts: Sequence[RelayedQuery],
        public_key_bytes: bytes,
        gateway: NodeGateway,
    ) -> tuple[list[bytes], list[tuple[QueryAnswer, str]], int]:
        """Fan an aggregate out to every part's node and add their ciphertexts (PRIV-5).

        The broker holds only the consumer's Paillier public key; it validates every ciphertext
        (range and gcd) before adding, and records one ledger entry per node plus the total.

        Returns:
            (encrypted totals, [(answer, provider)], ledger sequence of the aggregate entry).
        """
        from concurrent.futures import ThreadPoolExecutor

        from tongdao.crypto.paillier import Evaluator, InvalidCiphertext, PaillierPublicKey

        if not 1 <= len(parts) <= 64:
            raise InvalidArgument("must hold 1 to 64 parts", field="parts")
        try:
            public_key = PaillierPublicKey.from_bytes(public_key_bytes)
        except InvalidCiphertext:
            raise InvalidArgument(
                "is not a Paillier public key", field="paillier_public_key"
            ) from None
        for q in parts:
            if q.method != "aggregate":
                raise InvalidArgument(
                    "every part must use the aggregate method", field="parts.method"
                )
        prepared = [self._prepare_relay(sessions, caller, q) for q in parts]
        providers = set()
        with sessions.begin() as session:
            for grant_id, _, _ in prepared:
                grant = session.get(Grant, grant_id)
                assert grant is not None
                if grant.provider in providers:
                    raise InvalidArgument(
                        f"provider {grant.provider!r} appears twice", field="parts"
                    )
                providers.add(grant.provider)
        with ThreadPoolExecutor(max_workers=min(8, len(parts))) as pool:
            futures = [
                pool.submit(self._call_node, sessions, caller, q, gateway, *prep)
                for q, prep in zip(parts, prepared, strict=True)
            ]
            answers = [f.result()[0] for f in futures]
        widths = {len(a.ciphertexts) for a in answers}
        if len(widths) != 1 or 0 in widths:
            raise FailedPrecondition("nodes returned different numbers of ciphertexts")
        evaluator = Evaluator(public_key)
        try:
            columns = [
                [public_key.ciphertext(a.ciphertexts[i]) for a in answers]
                for i in range(widths.pop())
            ]
        except InvalidCiphertext as exc:
            raise FailedPrecondition(f"a node returned an invalid ciphertext: {exc}") from None
        totals = [evaluator.sum(col).to_bytes() for col in columns]
        with sessions.begin() as session:
            entry = self.ledger.append(
                session,
                kind="aggregate.combined",
                actor=caller,
                subject=canonical_request_id(parts[0].request_id),
                payload={
                    "grants": [p[0] for p in prepared],
                    "nodes": len(parts),
                    "suppressed": sum(a.suppressed for a in answers),
                    "total_sha256": hashlib.sha256(b"".join(totals)).hexdigest(),
                },
            )
            sequence = entry.sequence
        return totals, [(a, a.receipt.provider) for a in answers], sequence

    def _check_live(self, grant: Grant, query: RelayedQuery) -> None:
        now = self.now()
        if grant.status != "active":
            raise PermissionDenied(f"grant is {grant.status}", field="grant_token")
        expires = (
            grant.expires_at if grant.expires_at.tzinfo else grant.expires_at.replace(tzinfo=dt.UTC)
        )
        if now >= expires:
            raise PermissionDenied("grant has expired", field="grant_token")
        if grant.used >= grant.quota:
            raise PermissionDenied(
                f"grant quota of {grant.quota} queries is used up", field="grant_token"
            )
        if query.method not in grant.methods:
            raise PermissionDenied(f"method {query.method!r} is not in the grant", field="method")
        if query.purpose.strip() != grant.purpose:
            raise PermissionDenied(
                "purpose differs from the grant's purpose",
                field="purpose",
                articles=(self.policy.sharing.purpose_binding_article,),
            )
        outside = [f for f in query.fields if f not in grant.fields]
        if outside:
            raise PermissionDenied(
                f"data item {outside[0]!r} is outside the grant",
                field="fields",
                articles=(self.policy.sharing.purpose_binding_article,),
            )

    @staticmethod
    def _receipt_valid(
        answer: QueryAnswer, query: RelayedQuery, grant_id: str, provider_key: bytes
    ) -> bool:
        return BrokerServices._receipt_signature_valid(
            answer.receipt,
            query.request_id,
            grant_id,
            result_digest(answer.sealed_result + b"".join(answer.ciphertexts)),
            provider_key,
        )

    @staticmethod
    def _receipt_signature_valid(
        r: Receipt, request_id: str, grant_id: str, digest: bytes, provider_key: bytes
    ) -> bool:
        if r.request_id != request_id or r.grant_id != grant_id or r.result_digest != digest:
            return False
        try:
            VerifyKey(provider_key).verify(
                r.signature,
                receipt_signing_bytes(
                    request_id=r.request_id,
                    grant_id=r.grant_id,
                    provider=r.provider,
                    result_digest=r.result_digest,
                    record_count=r.record_count,
                    answered_at=r.answered_at,
                ),
            )
        except SignatureError:
            return False
        return True

    # ------------------------------------------------------------------ deadlines
    def list_deadlines(
        self,
        session: Session,
        caller: str,
        *,
        overdue_only: bool = False,
        include_closed: bool = False,
    ) -> list[tuple[Deadline, int]]:
        """Time-limited items with their remaining working days (SUP-1).

        The authority sees every item; a department sees the items it is responsible for.

        Returns:
            (deadline, remaining working days) pairs; remaining < 0 means overdue.
        """
        query = select(Deadline).order_by(Deadline.due_on, Deadline.id)
        if caller != AUTHORITY:
            dept = self.require_registered(session, caller)
            if not dept.is_authority:
                query = query.where(Deadline.responsible == caller)
        if not include_closed:
            query = query.where(Deadline.closed_on.is_(None))
        today = self.today()
        out = []
        for deadline in session.execute(query).scalars():
            remaining = self.calendar.working_days_between(today, deadline.due_on)
            overdue = deadline.closed_late if deadline.closed_on else today > deadline.due_on
            if overdue_only and not overdue:
                continue
            out.append((deadline, remaining))
        return out
