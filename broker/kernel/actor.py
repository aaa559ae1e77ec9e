"""Who the current call acts as: the party named by its certificate, and the person whose login
session it carries (SEC-3, Art.37 "who uses is responsible").

The broker's access interceptor sets it for the duration of each call; the ledger and decisions
read it, so every record names the department and the person without each handler passing them.
Outside a call (batch jobs, tests calling services directly) there is no current actor and
records name the party's service identity.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

SERVICE_IDENTITY = "service identity"


@dataclass(frozen=True)
class Actor:
    """The caller of one RPC.

    Attributes:
        party: department code or ``authority`` (from the certificate CN).
        person: the logged-in person's account name; "" when the call carries no session.
        roles: the roles the call holds (the person's, or the service identity's).
    """

    party: str
    person: str
    roles: tuple[str, ...]

    @property
    def identity(self) -> str:
        """``person`` or ``service identity``: how the record names who acted."""
        return "person" if self.person else SERVICE_IDENTITY


_current: ContextVar[Actor | None] = ContextVar("tongdao_actor", default=None)


def current_actor() -> Actor | None:
    """The actor of the call being served, or None outside a call."""
    return _current.get()


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Make ``actor`` the current actor for the enclosed block."""
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def responsible(recorded_actor: str) -> dict[str, Any]:
    """Who is responsible for a record made now: the department and the person of the call being
    served (or the department's service identity when the call carries no login session).
    Outside a call, the record's own actor as a service identity."""
    actor = current_actor()
    if actor is None:
        return {"department": recorded_actor, "person": "", "identity": SERVICE_IDENTITY}
    return {"department": actor.party, "person": actor.person, "identity": actor.identity}
