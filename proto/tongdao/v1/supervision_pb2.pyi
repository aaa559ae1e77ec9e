from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Deadline(_message.Message):
    __slots__ = ("id", "kind", "subject", "responsible", "article", "working_days", "started_on", "due_on", "remaining_working_days", "overdue", "closed_on", "closed_late", "extensions")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    RESPONSIBLE_FIELD_NUMBER: _ClassVar[int]
    ARTICLE_FIELD_NUMBER: _ClassVar[int]
    WORKING_DAYS_FIELD_NUMBER: _ClassVar[int]
    STARTED_ON_FIELD_NUMBER: _ClassVar[int]
    DUE_ON_FIELD_NUMBER: _ClassVar[int]
    REMAINING_WORKING_DAYS_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    CLOSED_ON_FIELD_NUMBER: _ClassVar[int]
    CLOSED_LATE_FIELD_NUMBER: _ClassVar[int]
    EXTENSIONS_FIELD_NUMBER: _ClassVar[int]
    id: int
    kind: str
    subject: str
    responsible: str
    article: str
    working_days: int
    started_on: str
    due_on: str
    remaining_working_days: int
    overdue: bool
    closed_on: str
    closed_late: bool
    extensions: int
    def __init__(self, id: _Optional[int] = ..., kind: _Optional[str] = ..., subject: _Optional[str] = ..., responsible: _Optional[str] = ..., article: _Optional[str] = ..., working_days: _Optional[int] = ..., started_on: _Optional[str] = ..., due_on: _Optional[str] = ..., remaining_working_days: _Optional[int] = ..., overdue: _Optional[bool] = ..., closed_on: _Optional[str] = ..., closed_late: _Optional[bool] = ..., extensions: _Optional[int] = ...) -> None: ...

class ListDeadlinesRequest(_message.Message):
    __slots__ = ("overdue_only", "include_closed")
    OVERDUE_ONLY_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_CLOSED_FIELD_NUMBER: _ClassVar[int]
    overdue_only: bool
    include_closed: bool
    def __init__(self, overdue_only: _Optional[bool] = ..., include_closed: _Optional[bool] = ...) -> None: ...

class ExtendDeadlineRequest(_message.Message):
    __slots__ = ("id", "basis")
    ID_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    id: int
    basis: str
    def __init__(self, id: _Optional[int] = ..., basis: _Optional[str] = ...) -> None: ...

class ListDeadlinesResponse(_message.Message):
    __slots__ = ("deadlines",)
    DEADLINES_FIELD_NUMBER: _ClassVar[int]
    deadlines: _containers.RepeatedCompositeFieldContainer[Deadline]
    def __init__(self, deadlines: _Optional[_Iterable[_Union[Deadline, _Mapping]]] = ...) -> None: ...
