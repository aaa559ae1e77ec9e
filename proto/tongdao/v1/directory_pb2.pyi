from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Department(_message.Message):
    __slots__ = ("code", "name", "region", "level", "node_endpoint", "encryption_public_key", "signing_public_key", "is_authority")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    NODE_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    ENCRYPTION_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    SIGNING_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    IS_AUTHORITY_FIELD_NUMBER: _ClassVar[int]
    code: str
    name: str
    region: str
    level: str
    node_endpoint: str
    encryption_public_key: bytes
    signing_public_key: bytes
    is_authority: bool
    def __init__(self, code: _Optional[str] = ..., name: _Optional[str] = ..., region: _Optional[str] = ..., level: _Optional[str] = ..., node_endpoint: _Optional[str] = ..., encryption_public_key: _Optional[bytes] = ..., signing_public_key: _Optional[bytes] = ..., is_authority: _Optional[bool] = ...) -> None: ...

class RegisterDepartmentRequest(_message.Message):
    __slots__ = ("department", "certificate_pem")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    department: Department
    certificate_pem: bytes
    def __init__(self, department: _Optional[_Union[Department, _Mapping]] = ..., certificate_pem: _Optional[bytes] = ...) -> None: ...

class GetDepartmentRequest(_message.Message):
    __slots__ = ("code",)
    CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    def __init__(self, code: _Optional[str] = ...) -> None: ...

class ListDepartmentsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDepartmentsResponse(_message.Message):
    __slots__ = ("departments", "next_page_token")
    DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    departments: _containers.RepeatedCompositeFieldContainer[Department]
    next_page_token: str
    def __init__(self, departments: _Optional[_Iterable[_Union[Department, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
