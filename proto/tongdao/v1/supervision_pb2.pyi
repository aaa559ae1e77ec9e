from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Deadline(_message.Message):
    __slots__ = ("id", "kind", "subject", "responsible", "article", "working_days", "started_on", "due_on", "remaining_working_days", "overdue", "closed_on", "closed_late", "extensions", "provisional", "provisional_note")
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
    PROVISIONAL_FIELD_NUMBER: _ClassVar[int]
    PROVISIONAL_NOTE_FIELD_NUMBER: _ClassVar[int]
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
    provisional: bool
    provisional_note: str
    def __init__(self, id: _Optional[int] = ..., kind: _Optional[str] = ..., subject: _Optional[str] = ..., responsible: _Optional[str] = ..., article: _Optional[str] = ..., working_days: _Optional[int] = ..., started_on: _Optional[str] = ..., due_on: _Optional[str] = ..., remaining_working_days: _Optional[int] = ..., overdue: _Optional[bool] = ..., closed_on: _Optional[str] = ..., closed_late: _Optional[bool] = ..., extensions: _Optional[int] = ..., provisional: _Optional[bool] = ..., provisional_note: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("deadlines", "warnings")
    DEADLINES_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    deadlines: _containers.RepeatedCompositeFieldContainer[Deadline]
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, deadlines: _Optional[_Iterable[_Union[Deadline, _Mapping]]] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...

class LoadHolidayScheduleRequest(_message.Message):
    __slots__ = ("schedule_toml", "file_name")
    SCHEDULE_TOML_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    schedule_toml: str
    file_name: str
    def __init__(self, schedule_toml: _Optional[str] = ..., file_name: _Optional[str] = ...) -> None: ...

class RecomputedDeadline(_message.Message):
    __slots__ = ("id", "kind", "subject", "announced_due_on", "computed_due_on", "due_on", "kept_announced")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    ANNOUNCED_DUE_ON_FIELD_NUMBER: _ClassVar[int]
    COMPUTED_DUE_ON_FIELD_NUMBER: _ClassVar[int]
    DUE_ON_FIELD_NUMBER: _ClassVar[int]
    KEPT_ANNOUNCED_FIELD_NUMBER: _ClassVar[int]
    id: int
    kind: str
    subject: str
    announced_due_on: str
    computed_due_on: str
    due_on: str
    kept_announced: bool
    def __init__(self, id: _Optional[int] = ..., kind: _Optional[str] = ..., subject: _Optional[str] = ..., announced_due_on: _Optional[str] = ..., computed_due_on: _Optional[str] = ..., due_on: _Optional[str] = ..., kept_announced: _Optional[bool] = ...) -> None: ...

class LoadHolidayScheduleResponse(_message.Message):
    __slots__ = ("year", "holidays", "workdays", "recomputed")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    HOLIDAYS_FIELD_NUMBER: _ClassVar[int]
    WORKDAYS_FIELD_NUMBER: _ClassVar[int]
    RECOMPUTED_FIELD_NUMBER: _ClassVar[int]
    year: int
    holidays: int
    workdays: int
    recomputed: _containers.RepeatedCompositeFieldContainer[RecomputedDeadline]
    def __init__(self, year: _Optional[int] = ..., holidays: _Optional[int] = ..., workdays: _Optional[int] = ..., recomputed: _Optional[_Iterable[_Union[RecomputedDeadline, _Mapping]]] = ...) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SupervisionStatus(_message.Message):
    __slots__ = ("policy_source", "policy_valid_from", "policy_valid_until", "warnings", "official_years", "provisional_years")
    POLICY_SOURCE_FIELD_NUMBER: _ClassVar[int]
    POLICY_VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    POLICY_VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    OFFICIAL_YEARS_FIELD_NUMBER: _ClassVar[int]
    PROVISIONAL_YEARS_FIELD_NUMBER: _ClassVar[int]
    policy_source: str
    policy_valid_from: str
    policy_valid_until: str
    warnings: _containers.RepeatedScalarFieldContainer[str]
    official_years: _containers.RepeatedScalarFieldContainer[int]
    provisional_years: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, policy_source: _Optional[str] = ..., policy_valid_from: _Optional[str] = ..., policy_valid_until: _Optional[str] = ..., warnings: _Optional[_Iterable[str]] = ..., official_years: _Optional[_Iterable[int]] = ..., provisional_years: _Optional[_Iterable[int]] = ...) -> None: ...
