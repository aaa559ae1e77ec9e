from tongdao.v1 import common_pb2 as _common_pb2
from tongdao.v1 import query_pb2 as _query_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CrossCheckDigestsRequest(_message.Message):
    __slots__ = ("run_id", "entry_code", "sealed_check")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    SEALED_CHECK_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    entry_code: str
    sealed_check: bytes
    def __init__(self, run_id: _Optional[str] = ..., entry_code: _Optional[str] = ..., sealed_check: _Optional[bytes] = ...) -> None: ...

class RecordDigest(_message.Message):
    __slots__ = ("key_digest", "value_digest")
    KEY_DIGEST_FIELD_NUMBER: _ClassVar[int]
    VALUE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    key_digest: bytes
    value_digest: bytes
    def __init__(self, key_digest: _Optional[bytes] = ..., value_digest: _Optional[bytes] = ...) -> None: ...

class CrossCheckDigestsResponse(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[RecordDigest]
    def __init__(self, records: _Optional[_Iterable[_Union[RecordDigest, _Mapping]]] = ...) -> None: ...

class ApplyCorrectionRequest(_message.Message):
    __slots__ = ("request_id", "entry_code", "correction_id", "fields", "sealed_correction")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    CORRECTION_ID_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    SEALED_CORRECTION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    entry_code: str
    correction_id: str
    fields: _containers.RepeatedScalarFieldContainer[str]
    sealed_correction: bytes
    def __init__(self, request_id: _Optional[str] = ..., entry_code: _Optional[str] = ..., correction_id: _Optional[str] = ..., fields: _Optional[_Iterable[str]] = ..., sealed_correction: _Optional[bytes] = ...) -> None: ...

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

class AddCheckpointRequest(_message.Message):
    __slots__ = ("old_size", "proof", "checkpoint")
    OLD_SIZE_FIELD_NUMBER: _ClassVar[int]
    PROOF_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    old_size: int
    proof: _containers.RepeatedScalarFieldContainer[bytes]
    checkpoint: str
    def __init__(self, old_size: _Optional[int] = ..., proof: _Optional[_Iterable[bytes]] = ..., checkpoint: _Optional[str] = ...) -> None: ...

class AddCheckpointResponse(_message.Message):
    __slots__ = ("cosignature", "refusal", "message", "witnessed_size", "witnessed_checkpoint")
    COSIGNATURE_FIELD_NUMBER: _ClassVar[int]
    REFUSAL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    WITNESSED_SIZE_FIELD_NUMBER: _ClassVar[int]
    WITNESSED_CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    cosignature: str
    refusal: str
    message: str
    witnessed_size: int
    witnessed_checkpoint: str
    def __init__(self, cosignature: _Optional[str] = ..., refusal: _Optional[str] = ..., message: _Optional[str] = ..., witnessed_size: _Optional[int] = ..., witnessed_checkpoint: _Optional[str] = ...) -> None: ...

class ListReceiptsRequest(_message.Message):
    __slots__ = ("after", "limit")
    AFTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    after: int
    limit: int
    def __init__(self, after: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class JournaledReceipt(_message.Message):
    __slots__ = ("position", "method", "receipt")
    POSITION_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    position: int
    method: str
    receipt: _query_pb2.Receipt
    def __init__(self, position: _Optional[int] = ..., method: _Optional[str] = ..., receipt: _Optional[_Union[_query_pb2.Receipt, _Mapping]] = ...) -> None: ...

class ListReceiptsResponse(_message.Message):
    __slots__ = ("receipts",)
    RECEIPTS_FIELD_NUMBER: _ClassVar[int]
    receipts: _containers.RepeatedCompositeFieldContainer[JournaledReceipt]
    def __init__(self, receipts: _Optional[_Iterable[_Union[JournaledReceipt, _Mapping]]] = ...) -> None: ...

class ReportReconciliationRequest(_message.Message):
    __slots__ = ("period_start", "period_end")
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    period_start: str
    period_end: str
    def __init__(self, period_start: _Optional[str] = ..., period_end: _Optional[str] = ...) -> None: ...

class EntryHoldings(_message.Message):
    __slots__ = ("entry_code", "record_count", "content_digest")
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    RECORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    entry_code: str
    record_count: int
    content_digest: bytes
    def __init__(self, entry_code: _Optional[str] = ..., record_count: _Optional[int] = ..., content_digest: _Optional[bytes] = ...) -> None: ...

class GrantAnswers(_message.Message):
    __slots__ = ("grant_id", "answered", "request_ids_digest", "request_ids")
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_FIELD_NUMBER: _ClassVar[int]
    REQUEST_IDS_DIGEST_FIELD_NUMBER: _ClassVar[int]
    REQUEST_IDS_FIELD_NUMBER: _ClassVar[int]
    grant_id: str
    answered: int
    request_ids_digest: bytes
    request_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, grant_id: _Optional[str] = ..., answered: _Optional[int] = ..., request_ids_digest: _Optional[bytes] = ..., request_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ReconciliationReport(_message.Message):
    __slots__ = ("department", "period_start", "period_end", "reported_at", "key_id", "entries", "grants", "signature")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    REPORTED_AT_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    department: str
    period_start: str
    period_end: str
    reported_at: str
    key_id: str
    entries: _containers.RepeatedCompositeFieldContainer[EntryHoldings]
    grants: _containers.RepeatedCompositeFieldContainer[GrantAnswers]
    signature: bytes
    def __init__(self, department: _Optional[str] = ..., period_start: _Optional[str] = ..., period_end: _Optional[str] = ..., reported_at: _Optional[str] = ..., key_id: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[EntryHoldings, _Mapping]]] = ..., grants: _Optional[_Iterable[_Union[GrantAnswers, _Mapping]]] = ..., signature: _Optional[bytes] = ...) -> None: ...
