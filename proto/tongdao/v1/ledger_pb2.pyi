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
    __slots__ = ("from_sequence", "limit", "page_size", "page_token")
    FROM_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    from_sequence: int
    limit: int
    page_size: int
    page_token: str
    def __init__(self, from_sequence: _Optional[int] = ..., limit: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class GetLedgerResponse(_message.Message):
    __slots__ = ("entries", "head_hash", "head_signature", "length", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    HEAD_HASH_FIELD_NUMBER: _ClassVar[int]
    HEAD_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LedgerEntry]
    head_hash: bytes
    head_signature: bytes
    length: int
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[LedgerEntry, _Mapping]]] = ..., head_hash: _Optional[bytes] = ..., head_signature: _Optional[bytes] = ..., length: _Optional[int] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class VerifyLedgerRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LedgerVerification(_message.Message):
    __slots__ = ("ok", "length", "head_hash", "problem", "verified", "unverified", "checkpoint_size", "cosigned_by", "witnesses_required")
    OK_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    HEAD_HASH_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_FIELD_NUMBER: _ClassVar[int]
    UNVERIFIED_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_SIZE_FIELD_NUMBER: _ClassVar[int]
    COSIGNED_BY_FIELD_NUMBER: _ClassVar[int]
    WITNESSES_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    length: int
    head_hash: bytes
    problem: str
    verified: int
    unverified: int
    checkpoint_size: int
    cosigned_by: _containers.RepeatedScalarFieldContainer[str]
    witnesses_required: int
    def __init__(self, ok: _Optional[bool] = ..., length: _Optional[int] = ..., head_hash: _Optional[bytes] = ..., problem: _Optional[str] = ..., verified: _Optional[int] = ..., unverified: _Optional[int] = ..., checkpoint_size: _Optional[int] = ..., cosigned_by: _Optional[_Iterable[str]] = ..., witnesses_required: _Optional[int] = ...) -> None: ...

class ExportLedgerRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ExportLedgerLine(_message.Message):
    __slots__ = ("line", "next_page_token")
    LINE_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    line: str
    next_page_token: str
    def __init__(self, line: _Optional[str] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ProveInclusionRequest(_message.Message):
    __slots__ = ("sequence", "tree_size")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    tree_size: int
    def __init__(self, sequence: _Optional[int] = ..., tree_size: _Optional[int] = ...) -> None: ...

class InclusionProof(_message.Message):
    __slots__ = ("entry", "tree_size", "proof", "checkpoint")
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PROOF_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    entry: LedgerEntry
    tree_size: int
    proof: _containers.RepeatedScalarFieldContainer[bytes]
    checkpoint: str
    def __init__(self, entry: _Optional[_Union[LedgerEntry, _Mapping]] = ..., tree_size: _Optional[int] = ..., proof: _Optional[_Iterable[bytes]] = ..., checkpoint: _Optional[str] = ...) -> None: ...

class ProveConsistencyRequest(_message.Message):
    __slots__ = ("old_size", "new_size")
    OLD_SIZE_FIELD_NUMBER: _ClassVar[int]
    NEW_SIZE_FIELD_NUMBER: _ClassVar[int]
    old_size: int
    new_size: int
    def __init__(self, old_size: _Optional[int] = ..., new_size: _Optional[int] = ...) -> None: ...

class ConsistencyProof(_message.Message):
    __slots__ = ("proof", "old_checkpoint", "new_checkpoint", "old_root", "new_root")
    PROOF_FIELD_NUMBER: _ClassVar[int]
    OLD_CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    NEW_CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    OLD_ROOT_FIELD_NUMBER: _ClassVar[int]
    NEW_ROOT_FIELD_NUMBER: _ClassVar[int]
    proof: _containers.RepeatedScalarFieldContainer[bytes]
    old_checkpoint: str
    new_checkpoint: str
    old_root: bytes
    new_root: bytes
    def __init__(self, proof: _Optional[_Iterable[bytes]] = ..., old_checkpoint: _Optional[str] = ..., new_checkpoint: _Optional[str] = ..., old_root: _Optional[bytes] = ..., new_root: _Optional[bytes] = ...) -> None: ...
