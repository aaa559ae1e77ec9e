from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RectificationOrder(_message.Message):
    __slots__ = ("id", "grant_id", "issuer", "consumer", "provider", "ground", "article", "requirement", "findings", "status", "due_on", "terminate_on", "answer", "decision_reason", "issued_on")
    ID_FIELD_NUMBER: _ClassVar[int]
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    CONSUMER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    GROUND_FIELD_NUMBER: _ClassVar[int]
    ARTICLE_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENT_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DUE_ON_FIELD_NUMBER: _ClassVar[int]
    TERMINATE_ON_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    DECISION_REASON_FIELD_NUMBER: _ClassVar[int]
    ISSUED_ON_FIELD_NUMBER: _ClassVar[int]
    id: int
    grant_id: str
    issuer: str
    consumer: str
    provider: str
    ground: str
    article: str
    requirement: str
    findings: _containers.RepeatedScalarFieldContainer[int]
    status: str
    due_on: str
    terminate_on: str
    answer: str
    decision_reason: str
    issued_on: str
    def __init__(self, id: _Optional[int] = ..., grant_id: _Optional[str] = ..., issuer: _Optional[str] = ..., consumer: _Optional[str] = ..., provider: _Optional[str] = ..., ground: _Optional[str] = ..., article: _Optional[str] = ..., requirement: _Optional[str] = ..., findings: _Optional[_Iterable[int]] = ..., status: _Optional[str] = ..., due_on: _Optional[str] = ..., terminate_on: _Optional[str] = ..., answer: _Optional[str] = ..., decision_reason: _Optional[str] = ..., issued_on: _Optional[str] = ...) -> None: ...

class IssueRectificationOrderRequest(_message.Message):
    __slots__ = ("grant_id", "ground", "requirement", "findings")
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    GROUND_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENT_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    grant_id: str
    ground: str
    requirement: str
    findings: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, grant_id: _Optional[str] = ..., ground: _Optional[str] = ..., requirement: _Optional[str] = ..., findings: _Optional[_Iterable[int]] = ...) -> None: ...

class AnswerRectificationOrderRequest(_message.Message):
    __slots__ = ("id", "changes")
    ID_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    id: int
    changes: str
    def __init__(self, id: _Optional[int] = ..., changes: _Optional[str] = ...) -> None: ...

class DecideRectificationOrderRequest(_message.Message):
    __slots__ = ("id", "accept", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: int
    accept: bool
    reason: str
    def __init__(self, id: _Optional[int] = ..., accept: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class ListRectificationOrdersRequest(_message.Message):
    __slots__ = ("grant_id", "enforce", "page_size", "page_token")
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    ENFORCE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    grant_id: str
    enforce: bool
    page_size: int
    page_token: str
    def __init__(self, grant_id: _Optional[str] = ..., enforce: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRectificationOrdersResponse(_message.Message):
    __slots__ = ("orders", "next_page_token")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[RectificationOrder]
    next_page_token: str
    def __init__(self, orders: _Optional[_Iterable[_Union[RectificationOrder, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListFindingsRequest(_message.Message):
    __slots__ = ("detect", "kind", "grant_id", "page_size", "page_token")
    DETECT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    detect: bool
    kind: str
    grant_id: str
    page_size: int
    page_token: str
    def __init__(self, detect: _Optional[bool] = ..., kind: _Optional[str] = ..., grant_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class Finding(_message.Message):
    __slots__ = ("id", "kind", "grant_id", "consumer", "provider", "article", "evidence", "detail", "found_on", "sequence")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    CONSUMER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    ARTICLE_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    FOUND_ON_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    id: int
    kind: str
    grant_id: str
    consumer: str
    provider: str
    article: str
    evidence: _containers.RepeatedScalarFieldContainer[int]
    detail: str
    found_on: str
    sequence: int
    def __init__(self, id: _Optional[int] = ..., kind: _Optional[str] = ..., grant_id: _Optional[str] = ..., consumer: _Optional[str] = ..., provider: _Optional[str] = ..., article: _Optional[str] = ..., evidence: _Optional[_Iterable[int]] = ..., detail: _Optional[str] = ..., found_on: _Optional[str] = ..., sequence: _Optional[int] = ...) -> None: ...

class ListFindingsResponse(_message.Message):
    __slots__ = ("findings", "new_findings", "next_page_token")
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    NEW_FINDINGS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    findings: _containers.RepeatedCompositeFieldContainer[Finding]
    new_findings: int
    next_page_token: str
    def __init__(self, findings: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ..., new_findings: _Optional[int] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Deadline(_message.Message):
    __slots__ = ("id", "kind", "subject", "responsible", "article", "working_days", "started_on", "due_on", "remaining_working_days", "overdue", "closed_on", "closed_late", "extensions", "provisional", "provisional_note")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    RESPONSIBLE_FIELD_NUMBER: _ClassVar[int]
    ARTICLE_FIELD_NUMBER: _ClassVar[int]
    WORKING_DAYS_FIELD_NUMBER: _ClassVar[int]
    STARTED_ON_FIELD_NUMBER: _ClassVar[int]
    DUE_ON_FIELD_NUMBER: _ClassVar[int]
    REMAINING_WORKING_DAYS_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    CLOSED_ON_FIELD_NUMBER: _ClassVar[int]
    CLOSED_LATE_FIELD_NUMBER: _ClassVar[int]
    EXTENSIONS_FIELD_NUMBER: _ClassVar[int]
    PROVISIONAL_FIELD_NUMBER: _ClassVar[int]
    PROVISIONAL_NOTE_FIELD_NUMBER: _ClassVar[int]
    id: int
    kind: str
    subject: str
    responsible: str
    article: str
    working_days: int
    started_on: str
    due_on: str
    remaining_working_days: int
    overdue: bool
    closed_on: str
    closed_late: bool
    extensions: int
    provisional: bool
    provisional_note: str
    def __init__(self, id: _Optional[int] = ..., kind: _Optional[str] = ..., subject: _Optional[str] = ..., responsible: _Optional[str] = ..., article: _Optional[str] = ..., working_days: _Optional[int] = ..., started_on: _Optional[str] = ..., due_on: _Optional[str] = ..., remaining_working_days: _Optional[int] = ..., overdue: _Optional[bool] = ..., closed_on: _Optional[str] = ..., closed_late: _Optional[bool] = ..., extensions: _Optional[int] = ..., provisional: _Optional[bool] = ..., provisional_note: _Optional[str] = ...) -> None: ...

class ListDeadlinesRequest(_message.Message):
    __slots__ = ("overdue_only", "include_closed", "page_size", "page_token")
    OVERDUE_ONLY_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_CLOSED_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    overdue_only: bool
    include_closed: bool
    page_size: int
    page_token: str
    def __init__(self, overdue_only: _Optional[bool] = ..., include_closed: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ExtendDeadlineRequest(_message.Message):
    __slots__ = ("id", "basis")
    ID_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    id: int
    basis: str
    def __init__(self, id: _Optional[int] = ..., basis: _Optional[str] = ...) -> None: ...

class ListDeadlinesResponse(_message.Message):
    __slots__ = ("deadlines", "warnings", "next_page_token")
    DEADLINES_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    deadlines: _containers.RepeatedCompositeFieldContainer[Deadline]
    warnings: _containers.RepeatedScalarFieldContainer[str]
    next_page_token: str
    def __init__(self, deadlines: _Optional[_Iterable[_Union[Deadline, _Mapping]]] = ..., warnings: _Optional[_Iterable[str]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class LoadHolidayScheduleRequest(_message.Message):
    __slots__ = ("schedule_toml", "file_name")
    SCHEDULE_TOML_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    schedule_toml: str
    file_name: str
    def __init__(self, schedule_toml: _Optional[str] = ..., file_name: _Optional[str] = ...) -> None: ...

class RecomputedDeadline(_message.Message):
    __slots__ = ("id", "kind", "subject", "announced_due_on", "computed_due_on", "due_on", "kept_announced")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    ANNOUNCED_DUE_ON_FIELD_NUMBER: _ClassVar[int]
    COMPUTED_DUE_ON_FIELD_NUMBER: _ClassVar[int]
    DUE_ON_FIELD_NUMBER: _ClassVar[int]
    KEPT_ANNOUNCED_FIELD_NUMBER: _ClassVar[int]
    id: int
    kind: str
    subject: str
    announced_due_on: str
    computed_due_on: str
    due_on: str
    kept_announced: bool
    def __init__(self, id: _Optional[int] = ..., kind: _Optional[str] = ..., subject: _Optional[str] = ..., announced_due_on: _Optional[str] = ..., computed_due_on: _Optional[str] = ..., due_on: _Optional[str] = ..., kept_announced: _Optional[bool] = ...) -> None: ...

class LoadHolidayScheduleResponse(_message.Message):
    __slots__ = ("year", "holidays", "workdays", "recomputed")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    HOLIDAYS_FIELD_NUMBER: _ClassVar[int]
    WORKDAYS_FIELD_NUMBER: _ClassVar[int]
    RECOMPUTED_FIELD_NUMBER: _ClassVar[int]
    year: int
    holidays: int
    workdays: int
    recomputed: _containers.RepeatedCompositeFieldContainer[RecomputedDeadline]
    def __init__(self, year: _Optional[int] = ..., holidays: _Optional[int] = ..., workdays: _Optional[int] = ..., recomputed: _Optional[_Iterable[_Union[RecomputedDeadline, _Mapping]]] = ...) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SupervisionStatus(_message.Message):
    __slots__ = ("policy_source", "policy_valid_from", "policy_valid_until", "warnings", "official_years", "provisional_years")
    POLICY_SOURCE_FIELD_NUMBER: _ClassVar[int]
    POLICY_VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    POLICY_VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    OFFICIAL_YEARS_FIELD_NUMBER: _ClassVar[int]
    PROVISIONAL_YEARS_FIELD_NUMBER: _ClassVar[int]
    policy_source: str
    policy_valid_from: str
    policy_valid_until: str
    warnings: _containers.RepeatedScalarFieldContainer[str]
    official_years: _containers.RepeatedScalarFieldContainer[int]
    provisional_years: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, policy_source: _Optional[str] = ..., policy_valid_from: _Optional[str] = ..., policy_valid_until: _Optional[str] = ..., warnings: _Optional[_Iterable[str]] = ..., official_years: _Optional[_Iterable[int]] = ..., provisional_years: _Optional[_Iterable[int]] = ...) -> None: ...

class ReconcileRequest(_message.Message):
    __slots__ = ("day", "run")
    DAY_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    day: str
    run: bool
    def __init__(self, day: _Optional[str] = ..., run: _Optional[bool] = ...) -> None: ...

class EntryReconciliation(_message.Message):
    __slots__ = ("entry_code", "record_count", "content_digest", "previous_record_count", "changed", "catalogue_version", "catalogue_updated")
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    RECORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_RECORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    CATALOGUE_VERSION_FIELD_NUMBER: _ClassVar[int]
    CATALOGUE_UPDATED_FIELD_NUMBER: _ClassVar[int]
    entry_code: str
    record_count: int
    content_digest: str
    previous_record_count: int
    changed: bool
    catalogue_version: int
    catalogue_updated: bool
    def __init__(self, entry_code: _Optional[str] = ..., record_count: _Optional[int] = ..., content_digest: _Optional[str] = ..., previous_record_count: _Optional[int] = ..., changed: _Optional[bool] = ..., catalogue_version: _Optional[int] = ..., catalogue_updated: _Optional[bool] = ...) -> None: ...

class GrantReconciliation(_message.Message):
    __slots__ = ("grant_id", "consumer", "node_answered", "ledger_relayed", "ledger_late", "usage_records", "answered_not_relayed", "relayed_not_answered")
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    CONSUMER_FIELD_NUMBER: _ClassVar[int]
    NODE_ANSWERED_FIELD_NUMBER: _ClassVar[int]
    LEDGER_RELAYED_FIELD_NUMBER: _ClassVar[int]
    LEDGER_LATE_FIELD_NUMBER: _ClassVar[int]
    USAGE_RECORDS_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_NOT_RELAYED_FIELD_NUMBER: _ClassVar[int]
    RELAYED_NOT_ANSWERED_FIELD_NUMBER: _ClassVar[int]
    grant_id: str
    consumer: str
    node_answered: int
    ledger_relayed: int
    ledger_late: int
    usage_records: int
    answered_not_relayed: _containers.RepeatedScalarFieldContainer[str]
    relayed_not_answered: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, grant_id: _Optional[str] = ..., consumer: _Optional[str] = ..., node_answered: _Optional[int] = ..., ledger_relayed: _Optional[int] = ..., ledger_late: _Optional[int] = ..., usage_records: _Optional[int] = ..., answered_not_relayed: _Optional[_Iterable[str]] = ..., relayed_not_answered: _Optional[_Iterable[str]] = ...) -> None: ...

class NodeReconciliation(_message.Message):
    __slots__ = ("node", "status", "message", "sequence", "entries", "grants", "findings")
    NODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    node: str
    status: str
    message: str
    sequence: int
    entries: _containers.RepeatedCompositeFieldContainer[EntryReconciliation]
    grants: _containers.RepeatedCompositeFieldContainer[GrantReconciliation]
    findings: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, node: _Optional[str] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., sequence: _Optional[int] = ..., entries: _Optional[_Iterable[_Union[EntryReconciliation, _Mapping]]] = ..., grants: _Optional[_Iterable[_Union[GrantReconciliation, _Mapping]]] = ..., findings: _Optional[_Iterable[int]] = ...) -> None: ...

class ReconcileResponse(_message.Message):
    __slots__ = ("period_start", "period_end", "article", "nodes", "reconciled")
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    ARTICLE_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    RECONCILED_FIELD_NUMBER: _ClassVar[int]
    period_start: str
    period_end: str
    article: str
    nodes: _containers.RepeatedCompositeFieldContainer[NodeReconciliation]
    reconciled: int
    def __init__(self, period_start: _Optional[str] = ..., period_end: _Optional[str] = ..., article: _Optional[str] = ..., nodes: _Optional[_Iterable[_Union[NodeReconciliation, _Mapping]]] = ..., reconciled: _Optional[int] = ...) -> None: ...
