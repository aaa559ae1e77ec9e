from tongdao.v1 import query_pb2 as _query_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NodeQueryResponse(_message.Message):
    __slots__ = ("sealed_result", "receipt", "ciphertexts", "suppressed")
    SEALED_RESULT_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    CIPHERTEXTS_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSED_FIELD_NUMBER: _ClassVar[int]
    sealed_result: bytes
    receipt: _query_pb2.Receipt
    ciphertexts: _containers.RepeatedScalarFieldContainer[bytes]
    suppressed: bool
    def __init__(self, sealed_result: _Optional[bytes] = ..., receipt: _Optional[_Union[_query_pb2.Receipt, _Mapping]] = ..., ciphertexts: _Optional[_Iterable[bytes]] = ..., suppressed: _Optional[bool] = ...) -> None: ...

class ListServedEntriesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ServedEntry(_message.Message):
    __slots__ = ("entry_code", "fields", "record_count")
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    RECORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    entry_code: str
    fields: _containers.RepeatedScalarFieldContainer[str]
    record_count: int
    def __init__(self, entry_code: _Optional[str] = ..., fields: _Optional[_Iterable[str]] = ..., record_count: _Optional[int] = ...) -> None: ...

class ListServedEntriesResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[ServedEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[ServedEntry, _Mapping]]] = ...) -> None: ...
