from tongdao.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Department(_message.Message):
    __slots__ = ("code", "name", "region", "level", "node_endpoint", "encryption_public_key", "signing_public_key", "is_authority")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    NODE_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    ENCRYPTION_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    SIGNING_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    IS_AUTHORITY_FIELD_NUMBER: _ClassVar[int]
    code: str
    name: str
    region: str
    level: str
    node_endpoint: str
    encryption_public_key: bytes
    signing_public_key: bytes
    is_authority: bool
    def __init__(self, code: _Optional[str] = ..., name: _Optional[str] = ..., region: _Optional[str] = ..., level: _Optional[str] = ..., node_endpoint: _Optional[str] = ..., encryption_public_key: _Optional[bytes] = ..., signing_public_key: _Optional[bytes] = ..., is_authority: _Optional[bool] = ...) -> None: ...

class RegisterDepartmentRequest(_message.Message):
    __slots__ = ("department",)
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    department: Department
    def __init__(self, department: _Optional[_Union[Department, _Mapping]] = ...) -> None: ...

class GetDepartmentRequest(_message.Message):
    __slots__ = ("code",)
    CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    def __init__(self, code: _Optional[str] = ...) -> None: ...

class ListDepartmentsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListDepartmentsResponse(_message.Message):
    __slots__ = ("departments",)
    DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    departments: _containers.RepeatedCompositeFieldContainer[Department]
    def __init__(self, departments: _Optional[_Iterable[_Union[Department, _Mapping]]] = ...) -> None: ...

class DataItem(_message.Message):
    __slots__ = ("name", "type", "description", "sensitivity", "classification")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SENSITIVITY_FIELD_NUMBER: _ClassVar[int]
    CLASSIFICATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    description: str
    sensitivity: str
    classification: str
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., description: _Optional[str] = ..., sensitivity: _Optional[str] = ..., classification: _Optional[str] = ...) -> None: ...

class CatalogueEntry(_message.Message):
    __slots__ = ("code", "version", "name", "description", "provider", "data_items", "key_field", "data_format", "update_frequency", "share_type", "share_scope_departments", "share_scope_levels", "share_scope_regions", "permitted_purposes", "legal_basis", "open_type", "open_conditions", "status", "classification", "grade", "effective_share_type", "validation", "aggregation_mode", "tags", "subject_consent", "contains_trade_secret", "reviewer", "sunset_on", "review_comments", "obtainable_by_sharing", "revocation_reason")
    CODE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    DATA_ITEMS_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_FIELD_NUMBER: _ClassVar[int]
    DATA_FORMAT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    SHARE_TYPE_FIELD_NUMBER: _ClassVar[int]
    SHARE_SCOPE_DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    SHARE_SCOPE_LEVELS_FIELD_NUMBER: _ClassVar[int]
    SHARE_SCOPE_REGIONS_FIELD_NUMBER: _ClassVar[int]
    PERMITTED_PURPOSES_FIELD_NUMBER: _ClassVar[int]
    LEGAL_BASIS_FIELD_NUMBER: _ClassVar[int]
    OPEN_TYPE_FIELD_NUMBER: _ClassVar[int]
    OPEN_CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CLASSIFICATION_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_SHARE_TYPE_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_FIELD_NUMBER: _ClassVar[int]
    AGGREGATION_MODE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_CONSENT_FIELD_NUMBER: _ClassVar[int]
    CONTAINS_TRADE_SECRET_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_FIELD_NUMBER: _ClassVar[int]
    SUNSET_ON_FIELD_NUMBER: _ClassVar[int]
    REVIEW_COMMENTS_FIELD_NUMBER: _ClassVar[int]
    OBTAINABLE_BY_SHARING_FIELD_NUMBER: _ClassVar[int]
    REVOCATION_REASON_FIELD_NUMBER: _ClassVar[int]
    code: str
    version: int
    name: str
    description: str
    provider: str
    data_items: _containers.RepeatedCompositeFieldContainer[DataItem]
    key_field: str
    data_format: str
    update_frequency: str
    share_type: _common_pb2.ShareType
    share_scope_departments: _containers.RepeatedScalarFieldContainer[str]
    share_scope_levels: _containers.RepeatedScalarFieldContainer[str]
    share_scope_regions: _containers.RepeatedScalarFieldContainer[str]
    permitted_purposes: _containers.RepeatedScalarFieldContainer[str]
    legal_basis: str
    open_type: _common_pb2.OpenType
    open_conditions: str
    status: str
    classification: str
    grade: str
    effective_share_type: _common_pb2.ShareType
    validation: _common_pb2.Decision
    aggregation_mode: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    subject_consent: bool
    contains_trade_secret: bool
    reviewer: str
    sunset_on: str
    review_comments: str
    obtainable_by_sharing: _containers.RepeatedCompositeFieldContainer[SharingHint]
    revocation_reason: str
    def __init__(self, code: _Optional[str] = ..., version: _Optional[int] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., provider: _Optional[str] = ..., data_items: _Optional[_Iterable[_Union[DataItem, _Mapping]]] = ..., key_field: _Optional[str] = ..., data_format: _Optional[str] = ..., update_frequency: _Optional[str] = ..., share_type: _Optional[_Union[_common_pb2.ShareType, str]] = ..., share_scope_departments: _Optional[_Iterable[str]] = ..., share_scope_levels: _Optional[_Iterable[str]] = ..., share_scope_regions: _Optional[_Iterable[str]] = ..., permitted_purposes: _Optional[_Iterable[str]] = ..., legal_basis: _Optional[str] = ..., open_type: _Optional[_Union[_common_pb2.OpenType, str]] = ..., open_conditions: _Optional[str] = ..., status: _Optional[str] = ..., classification: _Optional[str] = ..., grade: _Optional[str] = ..., effective_share_type: _Optional[_Union[_common_pb2.ShareType, str]] = ..., validation: _Optional[_Union[_common_pb2.Decision, _Mapping]] = ..., aggregation_mode: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., subject_consent: _Optional[bool] = ..., contains_trade_secret: _Optional[bool] = ..., reviewer: _Optional[str] = ..., sunset_on: _Optional[str] = ..., review_comments: _Optional[str] = ..., obtainable_by_sharing: _Optional[_Iterable[_Union[SharingHint, _Mapping]]] = ..., revocation_reason: _Optional[str] = ...) -> None: ...

class SharingHint(_message.Message):
    __slots__ = ("entry_code", "provider", "name", "items")
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    entry_code: str
    provider: str
    name: str
    items: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, entry_code: _Optional[str] = ..., provider: _Optional[str] = ..., name: _Optional[str] = ..., items: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateCatalogueEntryRequest(_message.Message):
    __slots__ = ("entry",)
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    entry: CatalogueEntry
    def __init__(self, entry: _Optional[_Union[CatalogueEntry, _Mapping]] = ...) -> None: ...

class SubmitCatalogueEntryRequest(_message.Message):
    __slots__ = ("code",)
    CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    def __init__(self, code: _Optional[str] = ...) -> None: ...

class PublishCatalogueEntryRequest(_message.Message):
    __slots__ = ("code", "comment")
    CODE_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    code: str
    comment: str
    def __init__(self, code: _Optional[str] = ..., comment: _Optional[str] = ...) -> None: ...

class GetCatalogueEntryRequest(_message.Message):
    __slots__ = ("code", "version")
    CODE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    code: str
    version: int
    def __init__(self, code: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class ReturnCatalogueEntryRequest(_message.Message):
    __slots__ = ("code", "comments")
    CODE_FIELD_NUMBER: _ClassVar[int]
    COMMENTS_FIELD_NUMBER: _ClassVar[int]
    code: str
    comments: str
    def __init__(self, code: _Optional[str] = ..., comments: _Optional[str] = ...) -> None: ...

class ReviseCatalogueEntryRequest(_message.Message):
    __slots__ = ("entry",)
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    entry: CatalogueEntry
    def __init__(self, entry: _Optional[_Union[CatalogueEntry, _Mapping]] = ...) -> None: ...

class RequireCatalogueUpdateRequest(_message.Message):
    __slots__ = ("code", "basis")
    CODE_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    code: str
    basis: str
    def __init__(self, code: _Optional[str] = ..., basis: _Optional[str] = ...) -> None: ...

class ListCatalogueEntriesRequest(_message.Message):
    __slots__ = ("provider", "status")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    provider: str
    status: str
    def __init__(self, provider: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class ListCatalogueEntriesResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[CatalogueEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[CatalogueEntry, _Mapping]]] = ...) -> None: ...

class RequestCatalogueRevocationRequest(_message.Message):
    __slots__ = ("code", "reason")
    CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    code: str
    reason: str
    def __init__(self, code: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DecideCatalogueRevocationRequest(_message.Message):
    __slots__ = ("code", "approve", "comment")
    CODE_FIELD_NUMBER: _ClassVar[int]
    APPROVE_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    code: str
    approve: bool
    comment: str
    def __init__(self, code: _Optional[str] = ..., approve: _Optional[bool] = ..., comment: _Optional[str] = ...) -> None: ...

class WithdrawDueEntriesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WithdrawDueEntriesResponse(_message.Message):
    __slots__ = ("codes",)
    CODES_FIELD_NUMBER: _ClassVar[int]
    codes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, codes: _Optional[_Iterable[str]] = ...) -> None: ...

class SearchFilters(_message.Message):
    __slots__ = ("provider", "region", "share_type", "open_type", "tag", "grade")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    SHARE_TYPE_FIELD_NUMBER: _ClassVar[int]
    OPEN_TYPE_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    provider: str
    region: str
    share_type: _common_pb2.ShareType
    open_type: _common_pb2.OpenType
    tag: str
    grade: str
    def __init__(self, provider: _Optional[str] = ..., region: _Optional[str] = ..., share_type: _Optional[_Union[_common_pb2.ShareType, str]] = ..., open_type: _Optional[_Union[_common_pb2.OpenType, str]] = ..., tag: _Optional[str] = ..., grade: _Optional[str] = ...) -> None: ...

class SearchCatalogueRequest(_message.Message):
    __slots__ = ("query", "filters", "limit", "offset")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    query: str
    filters: SearchFilters
    limit: int
    offset: int
    def __init__(self, query: _Optional[str] = ..., filters: _Optional[_Union[SearchFilters, _Mapping]] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class SearchHit(_message.Message):
    __slots__ = ("code", "version", "name", "provider", "region", "share_type", "open_type", "status", "sunset_on", "tags", "score", "matched_items")
    CODE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    SHARE_TYPE_FIELD_NUMBER: _ClassVar[int]
    OPEN_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SUNSET_ON_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    MATCHED_ITEMS_FIELD_NUMBER: _ClassVar[int]
    code: str
    version: int
    name: str
    provider: str
    region: str
    share_type: _common_pb2.ShareType
    open_type: _common_pb2.OpenType
    status: str
    sunset_on: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    score: int
    matched_items: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, code: _Optional[str] = ..., version: _Optional[int] = ..., name: _Optional[str] = ..., provider: _Optional[str] = ..., region: _Optional[str] = ..., share_type: _Optional[_Union[_common_pb2.ShareType, str]] = ..., open_type: _Optional[_Union[_common_pb2.OpenType, str]] = ..., status: _Optional[str] = ..., sunset_on: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., score: _Optional[int] = ..., matched_items: _Optional[_Iterable[str]] = ...) -> None: ...

class SearchCatalogueResponse(_message.Message):
    __slots__ = ("hits", "has_more")
    HITS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[SearchHit]
    has_more: bool
    def __init__(self, hits: _Optional[_Iterable[_Union[SearchHit, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...

class MatchCatalogueRequest(_message.Message):
    __slots__ = ("need", "items", "filters", "limit")
    NEED_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    need: str
    items: _containers.RepeatedScalarFieldContainer[str]
    filters: SearchFilters
    limit: int
    def __init__(self, need: _Optional[str] = ..., items: _Optional[_Iterable[str]] = ..., filters: _Optional[_Union[SearchFilters, _Mapping]] = ..., limit: _Optional[int] = ...) -> None: ...

class GetOpenCatalogueRequest(_message.Message):
    __slots__ = ("provider", "limit", "offset")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    provider: str
    limit: int
    offset: int
    def __init__(self, provider: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class OpenCatalogueEntry(_message.Message):
    __slots__ = ("code", "version", "name", "description", "provider", "open_type", "open_conditions", "data_format", "update_frequency", "data_items", "tags", "sunset_on")
    CODE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    OPEN_TYPE_FIELD_NUMBER: _ClassVar[int]
    OPEN_CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    DATA_FORMAT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    DATA_ITEMS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    SUNSET_ON_FIELD_NUMBER: _ClassVar[int]
    code: str
    version: int
    name: str
    description: str
    provider: str
    open_type: _common_pb2.OpenType
    open_conditions: str
    data_format: str
    update_frequency: str
    data_items: _containers.RepeatedCompositeFieldContainer[DataItem]
    tags: _containers.RepeatedScalarFieldContainer[str]
    sunset_on: str
    def __init__(self, code: _Optional[str] = ..., version: _Optional[int] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., provider: _Optional[str] = ..., open_type: _Optional[_Union[_common_pb2.OpenType, str]] = ..., open_conditions: _Optional[str] = ..., data_format: _Optional[str] = ..., update_frequency: _Optional[str] = ..., data_items: _Optional[_Iterable[_Union[DataItem, _Mapping]]] = ..., tags: _Optional[_Iterable[str]] = ..., sunset_on: _Optional[str] = ...) -> None: ...

class OpenCatalogue(_message.Message):
    __slots__ = ("entries", "has_more")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[OpenCatalogueEntry]
    has_more: bool
    def __init__(self, entries: _Optional[_Iterable[_Union[OpenCatalogueEntry, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...

class ImportCatalogueRequest(_message.Message):
    __slots__ = ("format", "content", "publish")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_FIELD_NUMBER: _ClassVar[int]
    format: str
    content: bytes
    publish: bool
    def __init__(self, format: _Optional[str] = ..., content: _Optional[bytes] = ..., publish: _Optional[bool] = ...) -> None: ...

class ImportProblem(_message.Message):
    __slots__ = ("line", "column", "problem")
    LINE_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    line: int
    column: str
    problem: str
    def __init__(self, line: _Optional[int] = ..., column: _Optional[str] = ..., problem: _Optional[str] = ...) -> None: ...

class ImportCatalogueProgress(_message.Message):
    __slots__ = ("checked", "total", "done", "imported", "problems")
    CHECKED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    IMPORTED_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    checked: int
    total: int
    done: bool
    imported: int
    problems: _containers.RepeatedCompositeFieldContainer[ImportProblem]
    def __init__(self, checked: _Optional[int] = ..., total: _Optional[int] = ..., done: _Optional[bool] = ..., imported: _Optional[int] = ..., problems: _Optional[_Iterable[_Union[ImportProblem, _Mapping]]] = ...) -> None: ...

class ExportCatalogueRequest(_message.Message):
    __slots__ = ("format", "provider", "status")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    format: str
    provider: str
    status: str
    def __init__(self, format: _Optional[str] = ..., provider: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class ExportCatalogueResponse(_message.Message):
    __slots__ = ("content",)
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    def __init__(self, content: _Optional[bytes] = ...) -> None: ...

class ShareRequest(_message.Message):
    __slots__ = ("id", "consumer", "entry_code", "entry_version", "fields", "methods", "purpose", "scenario", "legal_basis", "regions", "status", "decision", "grant_id", "created_at", "due_date", "requested_validity_days", "requested_quota", "dp_epsilon", "dp_budget")
    ID_FIELD_NUMBER: _ClassVar[int]
    CONSUMER_FIELD_NUMBER: _ClassVar[int]
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    ENTRY_VERSION_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    METHODS_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    SCENARIO_FIELD_NUMBER: _ClassVar[int]
    LEGAL_BASIS_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_VALIDITY_DAYS_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_QUOTA_FIELD_NUMBER: _ClassVar[int]
    DP_EPSILON_FIELD_NUMBER: _ClassVar[int]
    DP_BUDGET_FIELD_NUMBER: _ClassVar[int]
    id: str
    consumer: str
    entry_code: str
    entry_version: int
    fields: _containers.RepeatedScalarFieldContainer[str]
    methods: _containers.RepeatedScalarFieldContainer[_common_pb2.QueryMethod]
    purpose: str
    scenario: str
    legal_basis: str
    regions: _containers.RepeatedScalarFieldContainer[str]
    status: str
    decision: _common_pb2.Decision
    grant_id: str
    created_at: str
    due_date: str
    requested_validity_days: int
    requested_quota: int
    dp_epsilon: float
    dp_budget: float
    def __init__(self, id: _Optional[str] = ..., consumer: _Optional[str] = ..., entry_code: _Optional[str] = ..., entry_version: _Optional[int] = ..., fields: _Optional[_Iterable[str]] = ..., methods: _Optional[_Iterable[_Union[_common_pb2.QueryMethod, str]]] = ..., purpose: _Optional[str] = ..., scenario: _Optional[str] = ..., legal_basis: _Optional[str] = ..., regions: _Optional[_Iterable[str]] = ..., status: _Optional[str] = ..., decision: _Optional[_Union[_common_pb2.Decision, _Mapping]] = ..., grant_id: _Optional[str] = ..., created_at: _Optional[str] = ..., due_date: _Optional[str] = ..., requested_validity_days: _Optional[int] = ..., requested_quota: _Optional[int] = ..., dp_epsilon: _Optional[float] = ..., dp_budget: _Optional[float] = ...) -> None: ...

class FileShareRequestRequest(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ShareRequest
    def __init__(self, request: _Optional[_Union[ShareRequest, _Mapping]] = ...) -> None: ...

class ListShareRequestsRequest(_message.Message):
    __slots__ = ("role", "status")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    role: str
    status: str
    def __init__(self, role: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class ListShareRequestsResponse(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[ShareRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[ShareRequest, _Mapping]]] = ...) -> None: ...

class GetShareRequestRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DecideShareRequestRequest(_message.Message):
    __slots__ = ("id", "approve", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    APPROVE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    approve: bool
    reason: str
    def __init__(self, id: _Optional[str] = ..., approve: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class Grant(_message.Message):
    __slots__ = ("id", "share_request_id", "consumer", "provider", "entry_code", "entry_version", "fields", "methods", "purpose", "expires_at", "quota", "used", "status", "token", "entry_sunset_on")
    ID_FIELD_NUMBER: _ClassVar[int]
    SHARE_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONSUMER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    ENTRY_VERSION_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    METHODS_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    ENTRY_SUNSET_ON_FIELD_NUMBER: _ClassVar[int]
    id: str
    share_request_id: str
    consumer: str
    provider: str
    entry_code: str
    entry_version: int
    fields: _containers.RepeatedScalarFieldContainer[str]
    methods: _containers.RepeatedScalarFieldContainer[_common_pb2.QueryMethod]
    purpose: str
    expires_at: str
    quota: int
    used: int
    status: str
    token: str
    entry_sunset_on: str
    def __init__(self, id: _Optional[str] = ..., share_request_id: _Optional[str] = ..., consumer: _Optional[str] = ..., provider: _Optional[str] = ..., entry_code: _Optional[str] = ..., entry_version: _Optional[int] = ..., fields: _Optional[_Iterable[str]] = ..., methods: _Optional[_Iterable[_Union[_common_pb2.QueryMethod, str]]] = ..., purpose: _Optional[str] = ..., expires_at: _Optional[str] = ..., quota: _Optional[int] = ..., used: _Optional[int] = ..., status: _Optional[str] = ..., token: _Optional[str] = ..., entry_sunset_on: _Optional[str] = ...) -> None: ...

class GetGrantRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ServiceRequest(_message.Message):
    __slots__ = ("id", "kind", "requester", "provider", "subject", "data_items", "scenario", "legal_basis", "description", "record_key", "status", "decision", "due_date", "fulfilled_by", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    DATA_ITEMS_FIELD_NUMBER: _ClassVar[int]
    SCENARIO_FIELD_NUMBER: _ClassVar[int]
    LEGAL_BASIS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    RECORD_KEY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    FULFILLED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: str
    requester: str
    provider: str
    subject: str
    data_items: _containers.RepeatedScalarFieldContainer[str]
    scenario: str
    legal_basis: str
    description: str
    record_key: str
    status: str
    decision: _common_pb2.Decision
    due_date: str
    fulfilled_by: str
    created_at: str
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[str] = ..., requester: _Optional[str] = ..., provider: _Optional[str] = ..., subject: _Optional[str] = ..., data_items: _Optional[_Iterable[str]] = ..., scenario: _Optional[str] = ..., legal_basis: _Optional[str] = ..., description: _Optional[str] = ..., record_key: _Optional[str] = ..., status: _Optional[str] = ..., decision: _Optional[_Union[_common_pb2.Decision, _Mapping]] = ..., due_date: _Optional[str] = ..., fulfilled_by: _Optional[str] = ..., created_at: _Optional[str] = ...) -> None: ...

class FileServiceRequestRequest(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ServiceRequest
    def __init__(self, request: _Optional[_Union[ServiceRequest, _Mapping]] = ...) -> None: ...

class DecideServiceRequestRequest(_message.Message):
    __slots__ = ("id", "approve", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    APPROVE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    approve: bool
    reason: str
    def __init__(self, id: _Optional[str] = ..., approve: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class FulfilDataNeedRequest(_message.Message):
    __slots__ = ("id", "entry_code")
    ID_FIELD_NUMBER: _ClassVar[int]
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    id: str
    entry_code: str
    def __init__(self, id: _Optional[str] = ..., entry_code: _Optional[str] = ...) -> None: ...

class ListServiceRequestsRequest(_message.Message):
    __slots__ = ("role", "kind")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    role: str
    kind: str
    def __init__(self, role: _Optional[str] = ..., kind: _Optional[str] = ...) -> None: ...

class ListServiceRequestsResponse(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[ServiceRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[ServiceRequest, _Mapping]]] = ...) -> None: ...

class QueryRequest(_message.Message):
    __slots__ = ("grant_token", "request_id", "method", "purpose", "fields", "sealed_query")
    GRANT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    SEALED_QUERY_FIELD_NUMBER: _ClassVar[int]
    grant_token: str
    request_id: str
    method: _common_pb2.QueryMethod
    purpose: str
    fields: _containers.RepeatedScalarFieldContainer[str]
    sealed_query: bytes
    def __init__(self, grant_token: _Optional[str] = ..., request_id: _Optional[str] = ..., method: _Optional[_Union[_common_pb2.QueryMethod, str]] = ..., purpose: _Optional[str] = ..., fields: _Optional[_Iterable[str]] = ..., sealed_query: _Optional[bytes] = ...) -> None: ...

class Receipt(_message.Message):
    __slots__ = ("request_id", "grant_id", "provider", "result_digest", "record_count", "answered_at", "signature")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    RESULT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    RECORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_AT_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    grant_id: str
    provider: str
    result_digest: bytes
    record_count: int
    answered_at: str
    signature: bytes
    def __init__(self, request_id: _Optional[str] = ..., grant_id: _Optional[str] = ..., provider: _Optional[str] = ..., result_digest: _Optional[bytes] = ..., record_count: _Optional[int] = ..., answered_at: _Optional[str] = ..., signature: _Optional[bytes] = ...) -> None: ...

class QueryResponse(_message.Message):
    __slots__ = ("sealed_result", "receipt", "ledger_sequence")
    SEALED_RESULT_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    LEDGER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    sealed_result: bytes
    receipt: Receipt
    ledger_sequence: int
    def __init__(self, sealed_result: _Optional[bytes] = ..., receipt: _Optional[_Union[Receipt, _Mapping]] = ..., ledger_sequence: _Optional[int] = ...) -> None: ...

class QueryStreamRequest(_message.Message):
    __slots__ = ("open", "chunk")
    OPEN_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    open: QueryRequest
    chunk: bytes
    def __init__(self, open: _Optional[_Union[QueryRequest, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class QueryStreamEnd(_message.Message):
    __slots__ = ("receipt", "ledger_sequence")
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    LEDGER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    receipt: Receipt
    ledger_sequence: int
    def __init__(self, receipt: _Optional[_Union[Receipt, _Mapping]] = ..., ledger_sequence: _Optional[int] = ...) -> None: ...

class QueryStreamResponse(_message.Message):
    __slots__ = ("chunk", "end")
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    chunk: bytes
    end: QueryStreamEnd
    def __init__(self, chunk: _Optional[bytes] = ..., end: _Optional[_Union[QueryStreamEnd, _Mapping]] = ...) -> None: ...

class AggregateRequest(_message.Message):
    __slots__ = ("parts", "paillier_public_key")
    PARTS_FIELD_NUMBER: _ClassVar[int]
    PAILLIER_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    parts: _containers.RepeatedCompositeFieldContainer[QueryRequest]
    paillier_public_key: bytes
    def __init__(self, parts: _Optional[_Iterable[_Union[QueryRequest, _Mapping]]] = ..., paillier_public_key: _Optional[bytes] = ...) -> None: ...

class AggregatePart(_message.Message):
    __slots__ = ("provider", "receipt", "suppressed")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSED_FIELD_NUMBER: _ClassVar[int]
    provider: str
    receipt: Receipt
    suppressed: bool
    def __init__(self, provider: _Optional[str] = ..., receipt: _Optional[_Union[Receipt, _Mapping]] = ..., suppressed: _Optional[bool] = ...) -> None: ...

class AggregateResponse(_message.Message):
    __slots__ = ("ciphertexts", "parts", "ledger_sequence")
    CIPHERTEXTS_FIELD_NUMBER: _ClassVar[int]
    PARTS_FIELD_NUMBER: _ClassVar[int]
    LEDGER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ciphertexts: _containers.RepeatedScalarFieldContainer[bytes]
    parts: _containers.RepeatedCompositeFieldContainer[AggregatePart]
    ledger_sequence: int
    def __init__(self, ciphertexts: _Optional[_Iterable[bytes]] = ..., parts: _Optional[_Iterable[_Union[AggregatePart, _Mapping]]] = ..., ledger_sequence: _Optional[int] = ...) -> None: ...

class Deadline(_message.Message):
    __slots__ = ("id", "kind", "subject", "responsible", "article", "working_days", "started_on", "due_on", "remaining_working_days", "overdue", "closed_on", "closed_late", "extensions")
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
    def __init__(self, id: _Optional[int] = ..., kind: _Optional[str] = ..., subject: _Optional[str] = ..., responsible: _Optional[str] = ..., article: _Optional[str] = ..., working_days: _Optional[int] = ..., started_on: _Optional[str] = ..., due_on: _Optional[str] = ..., remaining_working_days: _Optional[int] = ..., overdue: _Optional[bool] = ..., closed_on: _Optional[str] = ..., closed_late: _Optional[bool] = ..., extensions: _Optional[int] = ...) -> None: ...

class ListDeadlinesRequest(_message.Message):
    __slots__ = ("overdue_only", "include_closed")
    OVERDUE_ONLY_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_CLOSED_FIELD_NUMBER: _ClassVar[int]
    overdue_only: bool
    include_closed: bool
    def __init__(self, overdue_only: _Optional[bool] = ..., include_closed: _Optional[bool] = ...) -> None: ...

class ExtendDeadlineRequest(_message.Message):
    __slots__ = ("id", "basis")
    ID_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    id: int
    basis: str
    def __init__(self, id: _Optional[int] = ..., basis: _Optional[str] = ...) -> None: ...

class ListDeadlinesResponse(_message.Message):
    __slots__ = ("deadlines",)
    DEADLINES_FIELD_NUMBER: _ClassVar[int]
    deadlines: _containers.RepeatedCompositeFieldContainer[Deadline]
    def __init__(self, deadlines: _Optional[_Iterable[_Union[Deadline, _Mapping]]] = ...) -> None: ...

class LedgerEntry(_message.Message):
    __slots__ = ("sequence", "recorded_at", "kind", "actor", "subject", "payload_json", "previous_hash", "entry_hash")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_HASH_FIELD_NUMBER: _ClassVar[int]
    ENTRY_HASH_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    recorded_at: str
    kind: str
    actor: str
    subject: str
    payload_json: str
    previous_hash: bytes
    entry_hash: bytes
    def __init__(self, sequence: _Optional[int] = ..., recorded_at: _Optional[str] = ..., kind: _Optional[str] = ..., actor: _Optional[str] = ..., subject: _Optional[str] = ..., payload_json: _Optional[str] = ..., previous_hash: _Optional[bytes] = ..., entry_hash: _Optional[bytes] = ...) -> None: ...

class GetLedgerRequest(_message.Message):
    __slots__ = ("from_sequence", "limit")
    FROM_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    from_sequence: int
    limit: int
    def __init__(self, from_sequence: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class GetLedgerResponse(_message.Message):
    __slots__ = ("entries", "head_hash", "head_signature", "length")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    HEAD_HASH_FIELD_NUMBER: _ClassVar[int]
    HEAD_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LedgerEntry]
    head_hash: bytes
    head_signature: bytes
    length: int
    def __init__(self, entries: _Optional[_Iterable[_Union[LedgerEntry, _Mapping]]] = ..., head_hash: _Optional[bytes] = ..., head_signature: _Optional[bytes] = ..., length: _Optional[int] = ...) -> None: ...

class VerifyLedgerRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LedgerVerification(_message.Message):
    __slots__ = ("ok", "length", "head_hash", "problem")
    OK_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    HEAD_HASH_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    length: int
    head_hash: bytes
    problem: str
    def __init__(self, ok: _Optional[bool] = ..., length: _Optional[int] = ..., head_hash: _Optional[bytes] = ..., problem: _Optional[str] = ...) -> None: ...
