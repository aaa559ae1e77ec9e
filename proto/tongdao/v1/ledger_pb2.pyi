from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

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
