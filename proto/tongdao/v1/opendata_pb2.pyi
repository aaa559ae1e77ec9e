from tongdao.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PublicRequester(_message.Message):
    __slots__ = ("name", "contact", "id_number")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    name: str
    contact: str
    id_number: str
    def __init__(self, name: _Optional[str] = ..., contact: _Optional[str] = ..., id_number: _Optional[str] = ...) -> None: ...

class DownloadOpenDataRequest(_message.Message):
    __slots__ = ("entry_code", "requester", "encryption_key", "offset", "limit", "request_id", "retrieval_token")
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_FIELD_NUMBER: _ClassVar[int]
    ENCRYPTION_KEY_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RETRIEVAL_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entry_code: str
    requester: PublicRequester
    encryption_key: bytes
    offset: int
    limit: int
    request_id: str
    retrieval_token: str
    def __init__(self, entry_code: _Optional[str] = ..., requester: _Optional[_Union[PublicRequester, _Mapping]] = ..., encryption_key: _Optional[bytes] = ..., offset: _Optional[int] = ..., limit: _Optional[int] = ..., request_id: _Optional[str] = ..., retrieval_token: _Optional[str] = ...) -> None: ...

class OpenDataDownload(_message.Message):
    __slots__ = ("entry_code", "entry_version", "fields", "download_id", "query_id", "sealed_result", "record_count", "ledger_sequence", "articles")
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    ENTRY_VERSION_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    DOWNLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    QUERY_ID_FIELD_NUMBER: _ClassVar[int]
    SEALED_RESULT_FIELD_NUMBER: _ClassVar[int]
    RECORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    LEDGER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ARTICLES_FIELD_NUMBER: _ClassVar[int]
    entry_code: str
    entry_version: int
    fields: _containers.RepeatedScalarFieldContainer[str]
    download_id: str
    query_id: str
    sealed_result: bytes
    record_count: int
    ledger_sequence: int
    articles: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, entry_code: _Optional[str] = ..., entry_version: _Optional[int] = ..., fields: _Optional[_Iterable[str]] = ..., download_id: _Optional[str] = ..., query_id: _Optional[str] = ..., sealed_result: _Optional[bytes] = ..., record_count: _Optional[int] = ..., ledger_sequence: _Optional[int] = ..., articles: _Optional[_Iterable[str]] = ...) -> None: ...

class FileOpenDataRequestRequest(_message.Message):
    __slots__ = ("entry_code", "requester", "data_items", "purpose")
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_FIELD_NUMBER: _ClassVar[int]
    DATA_ITEMS_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    entry_code: str
    requester: PublicRequester
    data_items: _containers.RepeatedScalarFieldContainer[str]
    purpose: str
    def __init__(self, entry_code: _Optional[str] = ..., requester: _Optional[_Union[PublicRequester, _Mapping]] = ..., data_items: _Optional[_Iterable[str]] = ..., purpose: _Optional[str] = ...) -> None: ...

class OpenDataRequestTicket(_message.Message):
    __slots__ = ("id", "retrieval_token", "status", "due_on", "decision")
    ID_FIELD_NUMBER: _ClassVar[int]
    RETRIEVAL_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DUE_ON_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    id: str
    retrieval_token: str
    status: str
    due_on: str
    decision: _common_pb2.Decision
    def __init__(self, id: _Optional[str] = ..., retrieval_token: _Optional[str] = ..., status: _Optional[str] = ..., due_on: _Optional[str] = ..., decision: _Optional[_Union[_common_pb2.Decision, _Mapping]] = ...) -> None: ...

class GetOpenDataRequestRequest(_message.Message):
    __slots__ = ("id", "retrieval_token")
    ID_FIELD_NUMBER: _ClassVar[int]
    RETRIEVAL_TOKEN_FIELD_NUMBER: _ClassVar[int]
    id: str
    retrieval_token: str
    def __init__(self, id: _Optional[str] = ..., retrieval_token: _Optional[str] = ...) -> None: ...

class OpenDataRequestStatus(_message.Message):
    __slots__ = ("id", "entry_code", "status", "decision", "due_on", "data_items", "valid_until", "filed_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    DUE_ON_FIELD_NUMBER: _ClassVar[int]
    DATA_ITEMS_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    FILED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    entry_code: str
    status: str
    decision: _common_pb2.Decision
    due_on: str
    data_items: _containers.RepeatedScalarFieldContainer[str]
    valid_until: str
    filed_at: str
    def __init__(self, id: _Optional[str] = ..., entry_code: _Optional[str] = ..., status: _Optional[str] = ..., decision: _Optional[_Union[_common_pb2.Decision, _Mapping]] = ..., due_on: _Optional[str] = ..., data_items: _Optional[_Iterable[str]] = ..., valid_until: _Optional[str] = ..., filed_at: _Optional[str] = ...) -> None: ...

class RequestOpenDataWithdrawalRequest(_message.Message):
    __slots__ = ("entry_code", "reason")
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    entry_code: str
    reason: str
    def __init__(self, entry_code: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DecideOpenDataWithdrawalRequest(_message.Message):
    __slots__ = ("id", "approve", "comment")
    ID_FIELD_NUMBER: _ClassVar[int]
    APPROVE_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    id: str
    approve: bool
    comment: str
    def __init__(self, id: _Optional[str] = ..., approve: _Optional[bool] = ..., comment: _Optional[str] = ...) -> None: ...

class ListOpenDataWithdrawalsRequest(_message.Message):
    __slots__ = ("status", "page_size", "page_token")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    status: str
    page_size: int
    page_token: str
    def __init__(self, status: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class OpenDataWithdrawal(_message.Message):
    __slots__ = ("id", "entry_code", "entry_name", "provider", "reason", "status", "reviewer", "requested_at", "decided_at", "comment", "filed_with", "filed_at", "announced_on", "article")
    ID_FIELD_NUMBER: _ClassVar[int]
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    ENTRY_NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    FILED_WITH_FIELD_NUMBER: _ClassVar[int]
    FILED_AT_FIELD_NUMBER: _ClassVar[int]
    ANNOUNCED_ON_FIELD_NUMBER: _ClassVar[int]
    ARTICLE_FIELD_NUMBER: _ClassVar[int]
    id: str
    entry_code: str
    entry_name: str
    provider: str
    reason: str
    status: str
    reviewer: str
    requested_at: str
    decided_at: str
    comment: str
    filed_with: str
    filed_at: str
    announced_on: str
    article: str
    def __init__(self, id: _Optional[str] = ..., entry_code: _Optional[str] = ..., entry_name: _Optional[str] = ..., provider: _Optional[str] = ..., reason: _Optional[str] = ..., status: _Optional[str] = ..., reviewer: _Optional[str] = ..., requested_at: _Optional[str] = ..., decided_at: _Optional[str] = ..., comment: _Optional[str] = ..., filed_with: _Optional[str] = ..., filed_at: _Optional[str] = ..., announced_on: _Optional[str] = ..., article: _Optional[str] = ...) -> None: ...

class ListOpenDataWithdrawalsResponse(_message.Message):
    __slots__ = ("withdrawals", "next_page_token")
    WITHDRAWALS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    withdrawals: _containers.RepeatedCompositeFieldContainer[OpenDataWithdrawal]
    next_page_token: str
    def __init__(self, withdrawals: _Optional[_Iterable[_Union[OpenDataWithdrawal, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListWithdrawalAnnouncementsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class WithdrawalAnnouncement(_message.Message):
    __slots__ = ("id", "entry_code", "entry_name", "provider", "reason", "announced_on", "approved_by", "filed_with", "article")
    ID_FIELD_NUMBER: _ClassVar[int]
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    ENTRY_NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ANNOUNCED_ON_FIELD_NUMBER: _ClassVar[int]
    APPROVED_BY_FIELD_NUMBER: _ClassVar[int]
    FILED_WITH_FIELD_NUMBER: _ClassVar[int]
    ARTICLE_FIELD_NUMBER: _ClassVar[int]
    id: str
    entry_code: str
    entry_name: str
    provider: str
    reason: str
    announced_on: str
    approved_by: str
    filed_with: str
    article: str
    def __init__(self, id: _Optional[str] = ..., entry_code: _Optional[str] = ..., entry_name: _Optional[str] = ..., provider: _Optional[str] = ..., reason: _Optional[str] = ..., announced_on: _Optional[str] = ..., approved_by: _Optional[str] = ..., filed_with: _Optional[str] = ..., article: _Optional[str] = ...) -> None: ...

class ListWithdrawalAnnouncementsResponse(_message.Message):
    __slots__ = ("announcements", "next_page_token")
    ANNOUNCEMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    announcements: _containers.RepeatedCompositeFieldContainer[WithdrawalAnnouncement]
    next_page_token: str
    def __init__(self, announcements: _Optional[_Iterable[_Union[WithdrawalAnnouncement, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
