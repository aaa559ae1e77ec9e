"""The one place the broker decides who may call which RPC: a gRPC server interceptor over the
rule file's role table (``[access.rpcs]``; GB/T 39477, 等保 separation of duties).

For every call under ``/tongdao.v1.`` it resolves the caller — the certificate CN must name the
authority or a department in the directory (an unregistered certificate reaches nothing but
health and reflection), and a ``tongdao-session`` metadata value must be a live session of a
person of that party — then checks the call's roles against the table and refuses with
PERMISSION_DENIED naming the role it needed. It then makes the caller the current
:class:`~tongdao.broker.kernel.actor.Actor` for the handler, so records name the person.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from contextlib import nullcontext
from typing import Any

import grpc
from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.directory.accounts import AccountService
from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.kernel.actor import Actor, acting_as
from tongdao.broker.kernel.context import AUTHORITY
from tongdao.broker.kernel.db import handing_on_read, read_only
from tongdao.policies.access import ANY_REGISTERED, AccessRules
from tongdao.policies.i18n import msg
from tongdao.proto.errors import DomainError, PermissionDenied, Unauthenticated
from tongdao.proto.transport import SESSION_METADATA, peer_common_name

GOVERNED_PREFIX = "/tongdao.v1."
"""Methods the role table governs; everything else (health, reflection) needs only mTLS."""


def session_token(context: grpc.ServicerContext) -> str:
    """The ``tongdao-session`` metadata value of the call, or ""."""
    for key, value in context.invocation_metadata() or ():
        if key == SESSION_METADATA:
            return value if isinstance(value, str) else value.decode()
    return ""


class AccessInterceptor(grpc.ServerInterceptor):
    """Resolves the caller and enforces the role table before any handler runs.

    Placed after :class:`tongdao.proto.transport.DomainErrorInterceptor`, so its refusals are
    mapped to status codes like any handler's.
    """

    def __init__(
        self,
        rules: AccessRules,
        sessions: sessionmaker[Session],
        directory: DirectoryService,
        accounts: AccountService,
        *,
        hand_on: Collection[str] = (),
    ) -> None:
        """
        Args:
            hand_on: unary methods whose handler reads first: their first read-only session
                goes on with the snapshot the caller was resolved in (one read transaction
                for the call's checks, not two).
        """
        self.rules = rules
        self.sessions = sessions
        self.directory = directory
        self.accounts = accounts
        self.hand_on = frozenset(hand_on)

    def resolve(
        self, method: str, context: grpc.ServicerContext, session: Session | None = None
    ) -> Actor:
        """The actor of a call to ``method``, or a refusal (read in ``session`` if given, else
        in a read-only session of its own).

        Raises:
            Unauthenticated: no certificate, or a session that is unknown, expired or not this
                party's.
            PermissionDenied: an unregistered certificate, an RPC the table does not name, or
                a role outside the table's.
        """
        cn = peer_common_name(context)
        if not cn:
            raise Unauthenticated(msg("no verified client certificate"))
        required = self.rules.required(method)
        articles = self.rules.articles
        if required is None:
            raise PermissionDenied(
                msg("{method} is not in the role table", method=method), articles=articles
            )
        token = session_token(context)
        if session is None:
            # reads alone: on SQLite a WAL snapshot that never queues for the write lock
            with read_only(self.sessions) as own:
                return self._resolved(method, required, cn, token, own)
        return self._resolved(method, required, cn, token, session)

    def _resolved(
        self, method: str, required: Collection[str], cn: str, token: str, session: Session
    ) -> Actor:
        articles = self.rules.articles
        found = "authority" if cn == AUTHORITY else self.directory.party_kind(session, cn)
        if found is None:
            raise PermissionDenied(
                msg(
                    "certificate {cn!r} names no registered department: only "
                    "health answers it (ask the authority to register it)",
                    cn=cn,
                ),
                articles=articles,
            )
        kind: str = found
        if token:
            account = self.accounts.resolve_session(session, cn, token)
            actor = Actor(cn, account.username, (account.role,))
        else:
            founded = kind in self.rules.bootstrap and self.accounts.has_administrator(session, cn)
            actor = Actor(cn, "", self.rules.certificate_roles(kind, has_administrator=founded))
        if ANY_REGISTERED in required or set(actor.roles) & set(required):
            return actor
        name = method.rsplit("/", 1)[-1]
        needed: str = _role(required[-1])
        if len(required) > 1:
            needed = msg("{roles} or {last}", roles=_roles(required[:-1]), last=needed)
        if actor.person:
            who = msg("{person} ({cn})", person=actor.person, cn=cn)
            hint = msg("log in as a person who holds {needed}", needed=needed)
        else:
            who = msg("{cn}'s service identity (its certificate without a login)", cn=cn)
            hint = msg(
                "log in as a person who holds {needed} (`tongdao login --as {cn}`)",
                needed=needed,
                cn=cn,
            )
        refusal = PermissionDenied(
            msg(
                "{name} needs the role {needed}; {who} holds {roles}: {hint}",
                name=name,
                needed=needed,
                who=who,
                roles=_roles(actor.roles),
                hint=hint,
            ),
            articles=articles,
        )
        refusal.acted_by = actor  # its ledger entry names the person as well as the party
        raise refusal

    def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or not method.startswith(GOVERNED_PREFIX):
            return handler
        resolve = self.resolve
        sessions, hands_on = self.sessions, method in self.hand_on

        # a refusal raised by the handler carries the actor, so its ledger entry names the person
        def guard(behaviour: Callable[..., Any]) -> Callable[..., Any]:
            def unary(request, context):  # type: ignore[no-untyped-def]
                # a method that hands on its read resolves the caller in the handler's snapshot
                with (
                    handing_on_read(sessions) if hands_on else nullcontext() as session,
                    acting_as(resolve(method, context, session)) as actor,
                ):
                    try:
                        return behaviour(request, context)
                    except DomainError as exc:
                        exc.acted_by = actor
                        raise

            return unary

        def guard_stream(behaviour: Callable[..., Any]) -> Callable[..., Any]:
            def streaming(request, context):  # type: ignore[no-untyped-def]
                with acting_as(resolve(method, context)) as actor:
                    try:
                        yield from behaviour(request, context)
                    except DomainError as exc:
                        exc.acted_by = actor
                        raise

            return streaming

        kinds = (
            ("unary_unary", grpc.unary_unary_rpc_method_handler, guard),
            ("unary_stream", grpc.unary_stream_rpc_method_handler, guard_stream),
            ("stream_unary", grpc.stream_unary_rpc_method_handler, guard),
            ("stream_stream", grpc.stream_stream_rpc_method_handler, guard_stream),
        )
        for attribute, make, wrap in kinds:
            behaviour = getattr(handler, attribute)
            if behaviour is not None:
                return make(
                    wrap(behaviour),
                    request_deserializer=handler.request_deserializer,
                    response_serializer=handler.response_serializer,
                )
        return handler


def _role(role: str) -> str:
    """A role as words of the message catalogue (said in each reader's language)."""
    words = {
        "administrator": msg("administrator"),
        "operator": msg("operator"),
        "auditor": msg("auditor"),
    }
    return words.get(role, role)


def _roles(roles: Sequence[str]) -> str:
    """Roles listed in the reader's language ("no role" for none)."""
    if not roles:
        return msg("no role")
    said = _role(roles[0])
    for role in roles[1:]:
        said = msg("{first}, {next}", first=said, next=_role(role))
    return said
