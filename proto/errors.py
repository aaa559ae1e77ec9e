"""Domain errors shared by the broker and the nodes, and how they map to gRPC status codes.

Domain code raises these (plain Python, no grpc import); the one interceptor in
:mod:`proto.transport` turns them into a gRPC status with the message, which names the field
or rule at fault. Messages never contain data values or secrets.

A message made with :func:`tongdao.policies.i18n.msg` is answered in the caller's language
(:meth:`DomainError.status_message`); any other message is looked up in the server catalogue.
"""

from __future__ import annotations

from tongdao.policies.i18n import render


class DomainError(Exception):
    """Base class. ``field`` names the request field at fault, ``articles`` the rule applied."""

    code_name = "UNKNOWN"
    acted_by: object = None
    """Who the refused call acted as (set by the broker's access check, so the refusal's record
    names the person); None when the caller was not resolved."""

    def __init__(
        self, message: str, *, field: str | None = None, articles: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.articles = articles

    def status_message(self, locale: str = "en") -> str:
        """The text sent as the gRPC status details, in ``locale`` (English: what is logged and
        kept in the status's structured details)."""
        message = render(self.message, locale)
        text = f"{self.field}: {message}" if self.field else message
        if self.articles:
            text += f" [{', '.join(self.articles)}]"
        return text


class InvalidArgument(DomainError):
    """A request field is missing, malformed or out of range."""

    code_name = "INVALID_ARGUMENT"


class NotFound(DomainError):
    """A named department, catalogue entry, request or grant does not exist."""

    code_name = "NOT_FOUND"


class AlreadyExists(DomainError):
    """Something with that identity already exists."""

    code_name = "ALREADY_EXISTS"


class PermissionDenied(DomainError):
    """The caller may not do this (scope, purpose, grant, role)."""

    code_name = "PERMISSION_DENIED"


class Unauthenticated(DomainError):
    """The caller presented no verifiable identity."""

    code_name = "UNAUTHENTICATED"


class FailedPrecondition(DomainError):
    """The object is not in a state that allows this (e.g. deciding an already decided request)."""

    code_name = "FAILED_PRECONDITION"


class ResourceExhausted(DomainError):
    """A quota or budget is used up."""

    code_name = "RESOURCE_EXHAUSTED"


class Unavailable(DomainError):
    """A party this call depends on (a node) cannot be reached."""

    code_name = "UNAVAILABLE"


class DeadlineExceeded(DomainError):
    """The caller's deadline passed (or the caller went away) before the work was done."""

    code_name = "DEADLINE_EXCEEDED"
