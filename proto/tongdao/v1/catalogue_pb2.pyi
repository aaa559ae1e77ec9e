from tongdao.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

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
    __slots__ = ("provider", "status", "page_size", "page_token")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    provider: str
    status: str
    page_size: int
    page_token: str
    def __init__(self, provider: _Optional[str] = ..., status: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCatalogueEntriesResponse(_message.Message):
    __slots__ = ("entries", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[CatalogueEntry]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[CatalogueEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("format", "provider", "status", "page_size", "page_token")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    format: str
    provider: str
    status: str
    page_size: int
    page_token: str
    def __init__(self, format: _Optional[str] = ..., provider: _Optional[str] = ..., status: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ExportCatalogueResponse(_message.Message):
    __slots__ = ("content", "next_page_token")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    next_page_token: str
    def __init__(self, content: _Optional[bytes] = ..., next_page_token: _Optional[str] = ...) -> None: ...
