from tongdao.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ChangePublicAccessRequest(_message.Message):
    __slots__ = ("requester", "change", "reason")
    REQUESTER_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    requester: str
    change: str
    reason: str
    def __init__(self, requester: _Optional[str] = ..., change: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class PublicAccess(_message.Message):
    __slots__ = ("requester", "status", "ground", "article", "reason", "correction", "changed_by", "changed_at")
    REQUESTER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    GROUND_FIELD_NUMBER: _ClassVar[int]
    ARTICLE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CORRECTION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_BY_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    requester: str
    status: str
    ground: str
    article: str
    reason: str
    correction: str
    changed_by: str
    changed_at: str
    def __init__(self, requester: _Optional[str] = ..., status: _Optional[str] = ..., ground: _Optional[str] = ..., article: _Optional[str] = ..., reason: _Optional[str] = ..., correction: _Optional[str] = ..., changed_by: _Optional[str] = ..., changed_at: _Optional[str] = ...) -> None: ...

class ListPublicAccessRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPublicAccessResponse(_message.Message):
    __slots__ = ("requesters", "next_page_token")
    REQUESTERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    requesters: _containers.RepeatedCompositeFieldContainer[PublicAccess]
    next_page_token: str
    def __init__(self, requesters: _Optional[_Iterable[_Union[PublicAccess, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RequestGrantChangeRequest(_message.Message):
    __slots__ = ("grant_id", "kind", "fields", "purpose", "third_party", "reason")
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    THIRD_PARTY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    grant_id: str
    kind: str
    fields: _containers.RepeatedScalarFieldContainer[str]
    purpose: str
    third_party: str
    reason: str
    def __init__(self, grant_id: _Optional[str] = ..., kind: _Optional[str] = ..., fields: _Optional[_Iterable[str]] = ..., purpose: _Optional[str] = ..., third_party: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DecideGrantChangeRequest(_message.Message):
    __slots__ = ("id", "consent", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    consent: bool
    reason: str
    def __init__(self, id: _Optional[str] = ..., consent: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class ListGrantChangesRequest(_message.Message):
    __slots__ = ("role", "grant_id", "page_size", "page_token")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    role: str
    grant_id: str
    page_size: int
    page_token: str
    def __init__(self, role: _Optional[str] = ..., grant_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class GrantChange(_message.Message):
    __slots__ = ("id", "grant_id", "consumer", "provider", "kind", "fields", "purpose", "third_party", "reason", "status", "decision_reason", "result_grant_id", "created_at", "decided_at", "articles")
    ID_FIELD_NUMBER: _ClassVar[int]
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    CONSUMER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    THIRD_PARTY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DECISION_REASON_FIELD_NUMBER: _ClassVar[int]
    RESULT_GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    ARTICLES_FIELD_NUMBER: _ClassVar[int]
    id: str
    grant_id: str
    consumer: str
    provider: str
    kind: str
    fields: _containers.RepeatedScalarFieldContainer[str]
    purpose: str
    third_party: str
    reason: str
    status: str
    decision_reason: str
    result_grant_id: str
    created_at: str
    decided_at: str
    articles: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., grant_id: _Optional[str] = ..., consumer: _Optional[str] = ..., provider: _Optional[str] = ..., kind: _Optional[str] = ..., fields: _Optional[_Iterable[str]] = ..., purpose: _Optional[str] = ..., third_party: _Optional[str] = ..., reason: _Optional[str] = ..., status: _Optional[str] = ..., decision_reason: _Optional[str] = ..., result_grant_id: _Optional[str] = ..., created_at: _Optional[str] = ..., decided_at: _Optional[str] = ..., articles: _Optional[_Iterable[str]] = ...) -> None: ...

class ListGrantChangesResponse(_message.Message):
    __slots__ = ("changes", "next_page_token")
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[GrantChange]
    next_page_token: str
    def __init__(self, changes: _Optional[_Iterable[_Union[GrantChange, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RecordUsageRequest(_message.Message):
    __slots__ = ("grant_id", "record")
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    grant_id: str
    record: UsageRecord
    def __init__(self, grant_id: _Optional[str] = ..., record: _Optional[_Union[UsageRecord, _Mapping]] = ...) -> None: ...

class UsageRecord(_message.Message):
    __slots__ = ("id", "grant_id", "consumer", "provider", "entry_code", "scenario", "outcome", "process", "storage", "destruction", "recorded_at", "retain_until", "sequence")
    ID_FIELD_NUMBER: _ClassVar[int]
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    CONSUMER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    SCENARIO_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    STORAGE_FIELD_NUMBER: _ClassVar[int]
    DESTRUCTION_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    RETAIN_UNTIL_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    id: int
    grant_id: str
    consumer: str
    provider: str
    entry_code: str
    scenario: str
    outcome: str
    process: str
    storage: str
    destruction: str
    recorded_at: str
    retain_until: str
    sequence: int
    def __init__(self, id: _Optional[int] = ..., grant_id: _Optional[str] = ..., consumer: _Optional[str] = ..., provider: _Optional[str] = ..., entry_code: _Optional[str] = ..., scenario: _Optional[str] = ..., outcome: _Optional[str] = ..., process: _Optional[str] = ..., storage: _Optional[str] = ..., destruction: _Optional[str] = ..., recorded_at: _Optional[str] = ..., retain_until: _Optional[str] = ..., sequence: _Optional[int] = ...) -> None: ...

class ListUsageRequest(_message.Message):
    __slots__ = ("role", "entry_code", "grant_id", "page_size", "page_token")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    role: str
    entry_code: str
    grant_id: str
    page_size: int
    page_token: str
    def __init__(self, role: _Optional[str] = ..., entry_code: _Optional[str] = ..., grant_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class RelayedCall(_message.Message):
    __slots__ = ("sequence", "recorded_at", "kind", "grant_id", "consumer", "method", "fields")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    CONSUMER_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    recorded_at: str
    kind: str
    grant_id: str
    consumer: str
    method: str
    fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, sequence: _Optional[int] = ..., recorded_at: _Optional[str] = ..., kind: _Optional[str] = ..., grant_id: _Optional[str] = ..., consumer: _Optional[str] = ..., method: _Optional[str] = ..., fields: _Optional[_Iterable[str]] = ...) -> None: ...

class ListUsageResponse(_message.Message):
    __slots__ = ("records", "calls", "next_page_token")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    CALLS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[UsageRecord]
    calls: _containers.RepeatedCompositeFieldContainer[RelayedCall]
    next_page_token: str
    def __init__(self, records: _Optional[_Iterable[_Union[UsageRecord, _Mapping]]] = ..., calls: _Optional[_Iterable[_Union[RelayedCall, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PurgeUsageRecordsRequest(_message.Message):
    __slots__ = ("before",)
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    before: str
    def __init__(self, before: _Optional[str] = ...) -> None: ...

class PurgeUsageRecordsResponse(_message.Message):
    __slots__ = ("purged",)
    PURGED_FIELD_NUMBER: _ClassVar[int]
    purged: int
    def __init__(self, purged: _Optional[int] = ...) -> None: ...

class ChangeGrantStatusRequest(_message.Message):
    __slots__ = ("grant_id", "change", "ground", "reason")
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    GROUND_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    grant_id: str
    change: str
    ground: str
    reason: str
    def __init__(self, grant_id: _Optional[str] = ..., change: _Optional[str] = ..., ground: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ShareRequest(_message.Message):
    __slots__ = ("id", "consumer", "entry_code", "entry_version", "fields", "methods", "purpose", "scenario", "legal_basis", "regions", "status", "decision", "grant_id", "created_at", "due_date", "requested_validity_days", "requested_quota", "dp_epsilon", "dp_budget", "due_date_provisional", "delegate")
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
    DUE_DATE_PROVISIONAL_FIELD_NUMBER: _ClassVar[int]
    DELEGATE_FIELD_NUMBER: _ClassVar[int]
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
    due_date_provisional: bool
    delegate: str
    def __init__(self, id: _Optional[str] = ..., consumer: _Optional[str] = ..., entry_code: _Optional[str] = ..., entry_version: _Optional[int] = ..., fields: _Optional[_Iterable[str]] = ..., methods: _Optional[_Iterable[_Union[_common_pb2.QueryMethod, str]]] = ..., purpose: _Optional[str] = ..., scenario: _Optional[str] = ..., legal_basis: _Optional[str] = ..., regions: _Optional[_Iterable[str]] = ..., status: _Optional[str] = ..., decision: _Optional[_Union[_common_pb2.Decision, _Mapping]] = ..., grant_id: _Optional[str] = ..., created_at: _Optional[str] = ..., due_date: _Optional[str] = ..., requested_validity_days: _Optional[int] = ..., requested_quota: _Optional[int] = ..., dp_epsilon: _Optional[float] = ..., dp_budget: _Optional[float] = ..., due_date_provisional: _Optional[bool] = ..., delegate: _Optional[str] = ...) -> None: ...

class FileShareRequestRequest(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ShareRequest
    def __init__(self, request: _Optional[_Union[ShareRequest, _Mapping]] = ...) -> None: ...

class ListShareRequestsRequest(_message.Message):
    __slots__ = ("role", "status", "page_size", "page_token")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    role: str
    status: str
    page_size: int
    page_token: str
    def __init__(self, role: _Optional[str] = ..., status: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListShareRequestsResponse(_message.Message):
    __slots__ = ("requests", "next_page_token")
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[ShareRequest]
    next_page_token: str
    def __init__(self, requests: _Optional[_Iterable[_Union[ShareRequest, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("id", "share_request_id", "consumer", "provider", "entry_code", "entry_version", "fields", "methods", "purpose", "expires_at", "quota", "used", "status", "token", "entry_sunset_on", "status_ground", "status_article", "status_reason", "status_changed_by", "status_changed_at", "last_used_at", "regions", "delegate", "return_flow_id")
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
    STATUS_GROUND_FIELD_NUMBER: _ClassVar[int]
    STATUS_ARTICLE_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    STATUS_CHANGED_BY_FIELD_NUMBER: _ClassVar[int]
    STATUS_CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_AT_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    DELEGATE_FIELD_NUMBER: _ClassVar[int]
    RETURN_FLOW_ID_FIELD_NUMBER: _ClassVar[int]
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
    status_ground: str
    status_article: str
    status_reason: str
    status_changed_by: str
    status_changed_at: str
    last_used_at: str
    regions: _containers.RepeatedScalarFieldContainer[str]
    delegate: str
    return_flow_id: str
    def __init__(self, id: _Optional[str] = ..., share_request_id: _Optional[str] = ..., consumer: _Optional[str] = ..., provider: _Optional[str] = ..., entry_code: _Optional[str] = ..., entry_version: _Optional[int] = ..., fields: _Optional[_Iterable[str]] = ..., methods: _Optional[_Iterable[_Union[_common_pb2.QueryMethod, str]]] = ..., purpose: _Optional[str] = ..., expires_at: _Optional[str] = ..., quota: _Optional[int] = ..., used: _Optional[int] = ..., status: _Optional[str] = ..., token: _Optional[str] = ..., entry_sunset_on: _Optional[str] = ..., status_ground: _Optional[str] = ..., status_article: _Optional[str] = ..., status_reason: _Optional[str] = ..., status_changed_by: _Optional[str] = ..., status_changed_at: _Optional[str] = ..., last_used_at: _Optional[str] = ..., regions: _Optional[_Iterable[str]] = ..., delegate: _Optional[str] = ..., return_flow_id: _Optional[str] = ...) -> None: ...

class GetGrantRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ServiceRequest(_message.Message):
    __slots__ = ("id", "kind", "requester", "provider", "subject", "data_items", "scenario", "legal_basis", "description", "record_key", "status", "decision", "due_date", "fulfilled_by", "created_at", "due_date_provisional", "urgent", "urgent_handler", "urgent_due_date", "urgent_outcome", "sealed_correction", "correction_id", "correction_receipt", "cross_check_run", "sealed_record_key")
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
    DUE_DATE_PROVISIONAL_FIELD_NUMBER: _ClassVar[int]
    URGENT_FIELD_NUMBER: _ClassVar[int]
    URGENT_HANDLER_FIELD_NUMBER: _ClassVar[int]
    URGENT_DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    URGENT_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    SEALED_CORRECTION_FIELD_NUMBER: _ClassVar[int]
    CORRECTION_ID_FIELD_NUMBER: _ClassVar[int]
    CORRECTION_RECEIPT_FIELD_NUMBER: _ClassVar[int]
    CROSS_CHECK_RUN_FIELD_NUMBER: _ClassVar[int]
    SEALED_RECORD_KEY_FIELD_NUMBER: _ClassVar[int]
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
    due_date_provisional: bool
    urgent: bool
    urgent_handler: str
    urgent_due_date: str
    urgent_outcome: str
    sealed_correction: bytes
    correction_id: str
    correction_receipt: _common_pb2.CorrectionReceipt
    cross_check_run: str
    sealed_record_key: bytes
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[str] = ..., requester: _Optional[str] = ..., provider: _Optional[str] = ..., subject: _Optional[str] = ..., data_items: _Optional[_Iterable[str]] = ..., scenario: _Optional[str] = ..., legal_basis: _Optional[str] = ..., description: _Optional[str] = ..., record_key: _Optional[str] = ..., status: _Optional[str] = ..., decision: _Optional[_Union[_common_pb2.Decision, _Mapping]] = ..., due_date: _Optional[str] = ..., fulfilled_by: _Optional[str] = ..., created_at: _Optional[str] = ..., due_date_provisional: _Optional[bool] = ..., urgent: _Optional[bool] = ..., urgent_handler: _Optional[str] = ..., urgent_due_date: _Optional[str] = ..., urgent_outcome: _Optional[str] = ..., sealed_correction: _Optional[bytes] = ..., correction_id: _Optional[str] = ..., correction_receipt: _Optional[_Union[_common_pb2.CorrectionReceipt, _Mapping]] = ..., cross_check_run: _Optional[str] = ..., sealed_record_key: _Optional[bytes] = ...) -> None: ...

class CrossCheckSide(_message.Message):
    __slots__ = ("entry_code", "item", "sealed_check")
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    SEALED_CHECK_FIELD_NUMBER: _ClassVar[int]
    entry_code: str
    item: str
    sealed_check: bytes
    def __init__(self, entry_code: _Optional[str] = ..., item: _Optional[str] = ..., sealed_check: _Optional[bytes] = ...) -> None: ...

class CrossCheckNotice(_message.Message):
    __slots__ = ("key_digest", "sealed_record_keys")
    KEY_DIGEST_FIELD_NUMBER: _ClassVar[int]
    SEALED_RECORD_KEYS_FIELD_NUMBER: _ClassVar[int]
    key_digest: bytes
    sealed_record_keys: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, key_digest: _Optional[bytes] = ..., sealed_record_keys: _Optional[_Iterable[bytes]] = ...) -> None: ...

class RunCrossVerificationRequest(_message.Message):
    __slots__ = ("run_id", "sides", "notices", "description")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SIDES_FIELD_NUMBER: _ClassVar[int]
    NOTICES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    sides: _containers.RepeatedCompositeFieldContainer[CrossCheckSide]
    notices: _containers.RepeatedCompositeFieldContainer[CrossCheckNotice]
    description: str
    def __init__(self, run_id: _Optional[str] = ..., sides: _Optional[_Iterable[_Union[CrossCheckSide, _Mapping]]] = ..., notices: _Optional[_Iterable[_Union[CrossCheckNotice, _Mapping]]] = ..., description: _Optional[str] = ...) -> None: ...

class CrossVerification(_message.Message):
    __slots__ = ("run_id", "checked", "matched", "mismatched", "missing", "notice_ids", "mismatched_key_digests", "articles")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKED_FIELD_NUMBER: _ClassVar[int]
    MATCHED_FIELD_NUMBER: _ClassVar[int]
    MISMATCHED_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    NOTICE_IDS_FIELD_NUMBER: _ClassVar[int]
    MISMATCHED_KEY_DIGESTS_FIELD_NUMBER: _ClassVar[int]
    ARTICLES_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    checked: int
    matched: int
    mismatched: int
    missing: int
    notice_ids: _containers.RepeatedScalarFieldContainer[str]
    mismatched_key_digests: _containers.RepeatedScalarFieldContainer[bytes]
    articles: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, run_id: _Optional[str] = ..., checked: _Optional[int] = ..., matched: _Optional[int] = ..., mismatched: _Optional[int] = ..., missing: _Optional[int] = ..., notice_ids: _Optional[_Iterable[str]] = ..., mismatched_key_digests: _Optional[_Iterable[bytes]] = ..., articles: _Optional[_Iterable[str]] = ...) -> None: ...

class RecordUrgentHandlingRequest(_message.Message):
    __slots__ = ("id", "outcome")
    ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    id: str
    outcome: str
    def __init__(self, id: _Optional[str] = ..., outcome: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("role", "kind", "page_size", "page_token")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    role: str
    kind: str
    page_size: int
    page_token: str
    def __init__(self, role: _Optional[str] = ..., kind: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListServiceRequestsResponse(_message.Message):
    __slots__ = ("requests", "next_page_token")
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[ServiceRequest]
    next_page_token: str
    def __init__(self, requests: _Optional[_Iterable[_Union[ServiceRequest, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Territory(_message.Message):
    __slots__ = ("region", "department")
    REGION_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    region: str
    department: str
    def __init__(self, region: _Optional[str] = ..., department: _Optional[str] = ...) -> None: ...

class RegionalSplit(_message.Message):
    __slots__ = ("id", "entry_code", "provider", "territories", "reason", "status", "reviewer", "decision_reason", "filed_at", "decided_at", "article")
    ID_FIELD_NUMBER: _ClassVar[int]
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    TERRITORIES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_FIELD_NUMBER: _ClassVar[int]
    DECISION_REASON_FIELD_NUMBER: _ClassVar[int]
    FILED_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    ARTICLE_FIELD_NUMBER: _ClassVar[int]
    id: str
    entry_code: str
    provider: str
    territories: _containers.RepeatedCompositeFieldContainer[Territory]
    reason: str
    status: str
    reviewer: str
    decision_reason: str
    filed_at: str
    decided_at: str
    article: str
    def __init__(self, id: _Optional[str] = ..., entry_code: _Optional[str] = ..., provider: _Optional[str] = ..., territories: _Optional[_Iterable[_Union[Territory, _Mapping]]] = ..., reason: _Optional[str] = ..., status: _Optional[str] = ..., reviewer: _Optional[str] = ..., decision_reason: _Optional[str] = ..., filed_at: _Optional[str] = ..., decided_at: _Optional[str] = ..., article: _Optional[str] = ...) -> None: ...

class FileRegionalSplitRequest(_message.Message):
    __slots__ = ("entry_code", "territories", "reason")
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    TERRITORIES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    entry_code: str
    territories: _containers.RepeatedCompositeFieldContainer[Territory]
    reason: str
    def __init__(self, entry_code: _Optional[str] = ..., territories: _Optional[_Iterable[_Union[Territory, _Mapping]]] = ..., reason: _Optional[str] = ...) -> None: ...

class DecideRegionalSplitRequest(_message.Message):
    __slots__ = ("id", "approve", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    APPROVE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    approve: bool
    reason: str
    def __init__(self, id: _Optional[str] = ..., approve: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class WithdrawRegionalSplitRequest(_message.Message):
    __slots__ = ("id", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ListRegionalSplitsRequest(_message.Message):
    __slots__ = ("entry_code", "status", "page_size", "page_token")
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entry_code: str
    status: str
    page_size: int
    page_token: str
    def __init__(self, entry_code: _Optional[str] = ..., status: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRegionalSplitsResponse(_message.Message):
    __slots__ = ("splits", "next_page_token")
    SPLITS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    splits: _containers.RepeatedCompositeFieldContainer[RegionalSplit]
    next_page_token: str
    def __init__(self, splits: _Optional[_Iterable[_Union[RegionalSplit, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ReturnFlow(_message.Message):
    __slots__ = ("id", "entry_code", "provider", "territories", "grant_ids", "status", "published_at", "withdrawn_at", "withdrawal_reason", "article", "on_withdrawal")
    ID_FIELD_NUMBER: _ClassVar[int]
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    TERRITORIES_FIELD_NUMBER: _ClassVar[int]
    GRANT_IDS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_AT_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWN_AT_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWAL_REASON_FIELD_NUMBER: _ClassVar[int]
    ARTICLE_FIELD_NUMBER: _ClassVar[int]
    ON_WITHDRAWAL_FIELD_NUMBER: _ClassVar[int]
    id: str
    entry_code: str
    provider: str
    territories: _containers.RepeatedCompositeFieldContainer[Territory]
    grant_ids: _containers.RepeatedScalarFieldContainer[str]
    status: str
    published_at: str
    withdrawn_at: str
    withdrawal_reason: str
    article: str
    on_withdrawal: str
    def __init__(self, id: _Optional[str] = ..., entry_code: _Optional[str] = ..., provider: _Optional[str] = ..., territories: _Optional[_Iterable[_Union[Territory, _Mapping]]] = ..., grant_ids: _Optional[_Iterable[str]] = ..., status: _Optional[str] = ..., published_at: _Optional[str] = ..., withdrawn_at: _Optional[str] = ..., withdrawal_reason: _Optional[str] = ..., article: _Optional[str] = ..., on_withdrawal: _Optional[str] = ...) -> None: ...

class PublishReturnFlowRequest(_message.Message):
    __slots__ = ("entry_code", "territories")
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    TERRITORIES_FIELD_NUMBER: _ClassVar[int]
    entry_code: str
    territories: _containers.RepeatedCompositeFieldContainer[Territory]
    def __init__(self, entry_code: _Optional[str] = ..., territories: _Optional[_Iterable[_Union[Territory, _Mapping]]] = ...) -> None: ...

class WithdrawReturnFlowRequest(_message.Message):
    __slots__ = ("id", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ListReturnFlowsRequest(_message.Message):
    __slots__ = ("entry_code", "status", "page_size", "page_token")
    ENTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entry_code: str
    status: str
    page_size: int
    page_token: str
    def __init__(self, entry_code: _Optional[str] = ..., status: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListReturnFlowsResponse(_message.Message):
    __slots__ = ("flows", "next_page_token")
    FLOWS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    flows: _containers.RepeatedCompositeFieldContainer[ReturnFlow]
    next_page_token: str
    def __init__(self, flows: _Optional[_Iterable[_Union[ReturnFlow, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
