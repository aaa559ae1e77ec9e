from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TypicalCase(_message.Message):
    __slots__ = ("id", "department", "region", "subject", "scenario", "outcome", "data_sources", "grants", "recorded_by", "recorded_on", "article")
    ID_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    SCENARIO_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    DATA_SOURCES_FIELD_NUMBER: _ClassVar[int]
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    RECORDED_BY_FIELD_NUMBER: _ClassVar[int]
    RECORDED_ON_FIELD_NUMBER: _ClassVar[int]
    ARTICLE_FIELD_NUMBER: _ClassVar[int]
    id: int
    department: str
    region: str
    subject: str
    scenario: str
    outcome: str
    data_sources: _containers.RepeatedScalarFieldContainer[str]
    grants: _containers.RepeatedScalarFieldContainer[str]
    recorded_by: str
    recorded_on: str
    article: str
    def __init__(self, id: _Optional[int] = ..., department: _Optional[str] = ..., region: _Optional[str] = ..., subject: _Optional[str] = ..., scenario: _Optional[str] = ..., outcome: _Optional[str] = ..., data_sources: _Optional[_Iterable[str]] = ..., grants: _Optional[_Iterable[str]] = ..., recorded_by: _Optional[str] = ..., recorded_on: _Optional[str] = ..., article: _Optional[str] = ...) -> None: ...

class RecordTypicalCaseRequest(_message.Message):
    __slots__ = ("department", "subject", "scenario", "outcome", "grants", "other_sources")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    SCENARIO_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    OTHER_SOURCES_FIELD_NUMBER: _ClassVar[int]
    department: str
    subject: str
    scenario: str
    outcome: str
    grants: _containers.RepeatedScalarFieldContainer[str]
    other_sources: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, department: _Optional[str] = ..., subject: _Optional[str] = ..., scenario: _Optional[str] = ..., outcome: _Optional[str] = ..., grants: _Optional[_Iterable[str]] = ..., other_sources: _Optional[_Iterable[str]] = ...) -> None: ...

class ListTypicalCasesRequest(_message.Message):
    __slots__ = ("region", "page_size", "page_token")
    REGION_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    region: str
    page_size: int
    page_token: str
    def __init__(self, region: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTypicalCasesResponse(_message.Message):
    __slots__ = ("cases", "next_page_token")
    CASES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    cases: _containers.RepeatedCompositeFieldContainer[TypicalCase]
    next_page_token: str
    def __init__(self, cases: _Optional[_Iterable[_Union[TypicalCase, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ReportTypicalCasesRequest(_message.Message):
    __slots__ = ("region",)
    REGION_FIELD_NUMBER: _ClassVar[int]
    region: str
    def __init__(self, region: _Optional[str] = ...) -> None: ...

class CaseCount(_message.Message):
    __slots__ = ("name", "cases")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CASES_FIELD_NUMBER: _ClassVar[int]
    name: str
    cases: int
    def __init__(self, name: _Optional[str] = ..., cases: _Optional[int] = ...) -> None: ...

class TypicalCaseReport(_message.Message):
    __slots__ = ("region", "level", "total", "by_region", "by_source", "article")
    REGION_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    BY_REGION_FIELD_NUMBER: _ClassVar[int]
    BY_SOURCE_FIELD_NUMBER: _ClassVar[int]
    ARTICLE_FIELD_NUMBER: _ClassVar[int]
    region: str
    level: str
    total: int
    by_region: _containers.RepeatedCompositeFieldContainer[CaseCount]
    by_source: _containers.RepeatedCompositeFieldContainer[CaseCount]
    article: str
    def __init__(self, region: _Optional[str] = ..., level: _Optional[str] = ..., total: _Optional[int] = ..., by_region: _Optional[_Iterable[_Union[CaseCount, _Mapping]]] = ..., by_source: _Optional[_Iterable[_Union[CaseCount, _Mapping]]] = ..., article: _Optional[str] = ...) -> None: ...
