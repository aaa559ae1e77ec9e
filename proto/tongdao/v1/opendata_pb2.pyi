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
