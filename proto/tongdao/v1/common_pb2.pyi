from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class ShareType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SHARE_TYPE_UNSPECIFIED: _ClassVar[ShareType]
    SHARE_TYPE_UNCONDITIONAL: _ClassVar[ShareType]
    SHARE_TYPE_CONDITIONAL: _ClassVar[ShareType]
    SHARE_TYPE_NOT_SHARED: _ClassVar[ShareType]

class OpenType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OPEN_TYPE_UNSPECIFIED: _ClassVar[OpenType]
    OPEN_TYPE_NOT_OPEN: _ClassVar[OpenType]
    OPEN_TYPE_CONDITIONAL_OPEN: _ClassVar[OpenType]
    OPEN_TYPE_UNCONDITIONAL_OPEN: _ClassVar[OpenType]

class QueryMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUERY_METHOD_UNSPECIFIED: _ClassVar[QueryMethod]
    QUERY_METHOD_FETCH: _ClassVar[QueryMethod]
    QUERY_METHOD_VERIFY: _ClassVar[QueryMethod]
    QUERY_METHOD_INTERSECTION: _ClassVar[QueryMethod]
    QUERY_METHOD_INTERSECTION_SUM: _ClassVar[QueryMethod]
    QUERY_METHOD_AGGREGATE: _ClassVar[QueryMethod]
    QUERY_METHOD_INTERSECTION_SIZE: _ClassVar[QueryMethod]
    QUERY_METHOD_OPEN_DOWNLOAD: _ClassVar[QueryMethod]
SHARE_TYPE_UNSPECIFIED: ShareType
SHARE_TYPE_UNCONDITIONAL: ShareType
SHARE_TYPE_CONDITIONAL: ShareType
SHARE_TYPE_NOT_SHARED: ShareType
OPEN_TYPE_UNSPECIFIED: OpenType
OPEN_TYPE_NOT_OPEN: OpenType
OPEN_TYPE_CONDITIONAL_OPEN: OpenType
OPEN_TYPE_UNCONDITIONAL_OPEN: OpenType
QUERY_METHOD_UNSPECIFIED: QueryMethod
QUERY_METHOD_FETCH: QueryMethod
QUERY_METHOD_VERIFY: QueryMethod
QUERY_METHOD_INTERSECTION: QueryMethod
QUERY_METHOD_INTERSECTION_SUM: QueryMethod
QUERY_METHOD_AGGREGATE: QueryMethod
QUERY_METHOD_INTERSECTION_SIZE: QueryMethod
QUERY_METHOD_OPEN_DOWNLOAD: QueryMethod

class Decision(_message.Message):
    __slots__ = ("outcome", "articles", "reason", "rule", "department", "person")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ARTICLES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    PERSON_FIELD_NUMBER: _ClassVar[int]
    outcome: str
    articles: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    rule: str
    department: str
    person: str
    def __init__(self, outcome: _Optional[str] = ..., articles: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ..., rule: _Optional[str] = ..., department: _Optional[str] = ..., person: _Optional[str] = ...) -> None: ...

class CorrectionReceipt(_message.Message):
    __slots__ = ("request_id", "department", "entry_code", "correction_id", "fields", "before_digest", "after_digest", "key_id", "decided_at", "refusal", "signature")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    CORRECTION_ID_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    BEFORE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    AFTER_DIGEST_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    REFUSAL_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    department: str
    entry_code: str
    correction_id: str
    fields: _containers.RepeatedScalarFieldContainer[str]
    before_digest: bytes
    after_digest: bytes
    key_id: str
    decided_at: str
    refusal: str
    signature: bytes
    def __init__(self, request_id: _Optional[str] = ..., department: _Optional[str] = ..., entry_code: _Optional[str] = ..., correction_id: _Optional[str] = ..., fields: _Optional[_Iterable[str]] = ..., before_digest: _Optional[bytes] = ..., after_digest: _Optional[bytes] = ..., key_id: _Optional[str] = ..., decided_at: _Optional[str] = ..., refusal: _Optional[str] = ..., signature: _Optional[bytes] = ...) -> None: ...
