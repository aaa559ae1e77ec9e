"""The domain errors every context raises; one interceptor (tongdao.proto.transport) maps them
to gRPC status codes. Defined once in :mod:`tongdao.proto.errors`, shared by broker and nodes."""

from tongdao.proto.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
)

__all__ = [
    "AlreadyExists",
    "DomainError",
    "FailedPrecondition",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "Unauthenticated",
    "Unavailable",
]
