from tongdao.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class QueryRequest(_message.Message):
    __slots__ = ("grant_token", "request_id", "method", "purpose", "fields", "sealed_query", "status_ticket", "filter_shape")
    GRANT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    SEALED_QUERY_FIELD_NUMBER: _ClassVar[int]
    STATUS_TICKET_FIELD_NUMBER: _ClassVar[int]
    FILTER_SHAPE_FIELD_NUMBER: _ClassVar[int]
    grant_token: str
    request_id: str
    method: _common_pb2.QueryMethod
    purpose: str
    fields: _containers.RepeatedScalarFieldContainer[str]
    sealed_query: bytes
    status_ticket: str
    filter_shape: str
    def __init__(self, grant_token: _Optional[str] = ..., request_id: _Optional[str] = ..., method: _Optional[_Union[_common_pb2.QueryMethod, str]] = ..., purpose: _Optional[str] = ..., fields: _Optional[_Iterable[str]] = ..., sealed_query: _Optional[bytes] = ..., status_ticket: _Optional[str] = ..., filter_shape: _Optional[str] = ...) -> None: ...

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
