from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Dispute(_message.Message):
    __slots__ = ("id", "subject_kind", "subject_id", "opened_by", "respondent", "claim", "negotiation", "stage", "handler", "routing", "article", "status", "due_on", "outcome", "opened_on", "closed_on")
    ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OPENED_BY_FIELD_NUMBER: _ClassVar[int]
    RESPONDENT_FIELD_NUMBER: _ClassVar[int]
    CLAIM_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    HANDLER_FIELD_NUMBER: _ClassVar[int]
    ROUTING_FIELD_NUMBER: _ClassVar[int]
    ARTICLE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DUE_ON_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    OPENED_ON_FIELD_NUMBER: _ClassVar[int]
    CLOSED_ON_FIELD_NUMBER: _ClassVar[int]
    id: int
    subject_kind: str
    subject_id: str
    opened_by: str
    respondent: str
    claim: str
    negotiation: str
    stage: str
    handler: str
    routing: str
    article: str
    status: str
    due_on: str
    outcome: str
    opened_on: str
    closed_on: str
    def __init__(self, id: _Optional[int] = ..., subject_kind: _Optional[str] = ..., subject_id: _Optional[str] = ..., opened_by: _Optional[str] = ..., respondent: _Optional[str] = ..., claim: _Optional[str] = ..., negotiation: _Optional[str] = ..., stage: _Optional[str] = ..., handler: _Optional[str] = ..., routing: _Optional[str] = ..., article: _Optional[str] = ..., status: _Optional[str] = ..., due_on: _Optional[str] = ..., outcome: _Optional[str] = ..., opened_on: _Optional[str] = ..., closed_on: _Optional[str] = ...) -> None: ...

class OpenDisputeRequest(_message.Message):
    __slots__ = ("subject_kind", "subject_id", "claim", "negotiation")
    SUBJECT_KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    CLAIM_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    subject_kind: str
    subject_id: str
    claim: str
    negotiation: str
    def __init__(self, subject_kind: _Optional[str] = ..., subject_id: _Optional[str] = ..., claim: _Optional[str] = ..., negotiation: _Optional[str] = ...) -> None: ...

class ReferDisputeRequest(_message.Message):
    __slots__ = ("id", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: int
    reason: str
    def __init__(self, id: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class ResolveDisputeRequest(_message.Message):
    __slots__ = ("id", "outcome")
    ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    id: int
    outcome: str
    def __init__(self, id: _Optional[int] = ..., outcome: _Optional[str] = ...) -> None: ...

class WithdrawDisputeRequest(_message.Message):
    __slots__ = ("id", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: int
    reason: str
    def __init__(self, id: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class GetDisputeRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class ListDisputesRequest(_message.Message):
    __slots__ = ("status", "subject_id", "page_size", "page_token")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    status: str
    subject_id: str
    page_size: int
    page_token: str
    def __init__(self, status: _Optional[str] = ..., subject_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDisputesResponse(_message.Message):
    __slots__ = ("disputes", "next_page_token")
    DISPUTES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    disputes: _containers.RepeatedCompositeFieldContainer[Dispute]
    next_page_token: str
    def __init__(self, disputes: _Optional[_Iterable[_Union[Dispute, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
