"""A grant as the relay reads it for every query, and the count of its uses.

These run once per relayed query, so they are SQL statements (SQLAlchemy Core), not ORM units of
work: one indexed read of the grant's row by its token before the node is called, one ``UPDATE``
of its use count in the transaction that records the answer. Nothing is cached: the row read is
the grant's current status, use count and expiry, so a suspended, terminated, expired or used-up
grant is refused by the very next query, whichever broker process changed it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from tongdao.broker.kernel.context import ContextService
from tongdao.broker.sharing.models import Grant
from tongdao.policies.i18n import msg
from tongdao.proto.errors import PermissionDenied
from tongdao.proto.query import RelayedQuery


def _table(model: type) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


_GRANTS = _table(Grant)
_LIVE_COLUMNS = (
    _GRANTS.c.id,
    _GRANTS.c.token,
    _GRANTS.c.consumer,
    _GRANTS.c.provider,
    _GRANTS.c.entry_code,
    _GRANTS.c.entry_version,
    _GRANTS.c.fields,
    _GRANTS.c.methods,
    _GRANTS.c.purpose,
    _GRANTS.c.expires_at,
    _GRANTS.c.quota,
    _GRANTS.c.used,
    _GRANTS.c.status,
    _GRANTS.c.status_ground,
    _GRANTS.c.status_article,
    _GRANTS.c.status_reason,
)

# built once (the relay runs them for every query); values bound at execution
_BY_TOKEN = select(*_LIVE_COLUMNS).where(_GRANTS.c.token == bindparam("token"))
_COUNT_USE = (
    update(_GRANTS)
    .where(_GRANTS.c.id == bindparam("grant_id"))
    .values(used=_GRANTS.c.used + 1, last_used_at=bindparam("now"))
)
_COUNT_USES = (
    update(_GRANTS)
    .where(_GRANTS.c.id == bindparam("grant_id"))
    .values(used=_GRANTS.c.used + bindparam("uses"), last_used_at=bindparam("now"))
)
_LOCK = select(_GRANTS.c.id).where(_GRANTS.c.id == bindparam("grant_id")).with_for_update()


@dataclass(frozen=True)
class LiveGrant:
    """One grant's row as read for a query: its terms and its current state."""

    id: str
    token: str
    consumer: str
    provider: str
    entry_code: str
    entry_version: int
    fields: list[str]
    methods: list[str]
    purpose: str
    expires_at: dt.datetime
    quota: int
    used: int
    status: str
    status_ground: str | None
    status_article: str | None
    status_reason: str | None


class GrantTerms(Protocol):
    """What :meth:`GrantUseMixin.check_live` reads: a :class:`Grant` or a :class:`LiveGrant`."""

    @property
    def status(self) -> str: ...
    @property
    def status_ground(self) -> str | None: ...
    @property
    def status_article(self) -> str | None: ...
    @property
    def status_reason(self) -> str | None: ...
    @property
    def expires_at(self) -> dt.datetime: ...
    @property
    def used(self) -> int: ...
    @property
    def quota(self) -> int: ...
    @property
    def methods(self) -> list[str]: ...
    @property
    def purpose(self) -> str: ...
    @property
    def fields(self) -> list[str]: ...


class GrantUseMixin(ContextService):
    """The relay's reads and counts of grants; part of
    :class:`~tongdao.broker.sharing.service.SharingService`."""

    def grant_by_token(self, session: Session, token: str) -> LiveGrant | None:
        """The grant this broker issued with ``token`` as it stands now, or None (one indexed
        read: ``ix_grants_token``)."""
        session.flush()  # a Core read on the connection: what the session holds is written first
        row = session.connection().execute(_BY_TOKEN, {"token": token}).first()
        return None if row is None else LiveGrant(**row._mapping)

    def check_live(self, grant: GrantTerms, query: RelayedQuery) -> None:
        """Refuse the query unless the grant is active, unexpired, within its quota and covers
        the query's method, purpose and data items."""
        now = self.now()
        if grant.status != "active":
            raise PermissionDenied(
                f"grant is {grant.status}"
                + (
                    f" ({grant.status_ground}: {grant.status_reason})"
                    if grant.status_ground
                    else ""
                ),
                field="grant_token",
                articles=(grant.status_article,) if grant.status_article else (),
            )
        expires = (
            grant.expires_at if grant.expires_at.tzinfo else grant.expires_at.replace(tzinfo=dt.UTC)
        )
        if now >= expires:
            raise PermissionDenied(msg("grant has expired"), field="grant_token")
        if grant.used >= grant.quota:
            raise PermissionDenied(
                msg("grant quota of {quota} queries is used up", quota=grant.quota),
                field="grant_token",
            )
        if query.method not in grant.methods:
            raise PermissionDenied(
                msg("method {method!r} is not in the grant", method=query.method), field="method"
            )
        if query.purpose.strip() != grant.purpose:
            raise PermissionDenied(
                msg("purpose differs from the grant's purpose"),
                field="purpose",
                articles=(self.policy.sharing.purpose_binding_article,),
            )
        outside = [f for f in query.fields if f not in grant.fields]
        if outside:
            raise PermissionDenied(
                msg("data item {v1!r} is outside the grant", v1=outside[0]),
                field="fields",
                articles=(self.policy.sharing.purpose_binding_article,),
            )

    def count_use(self, session: Session, grant_id: str, *, counted: bool) -> None:
        """Lock the grant's row for the relay's ledger entry; ``counted``: one more use of it
        (``used = used + 1`` in the statement, so concurrent counts never lose one)."""
        if counted:
            self.count_uses(session, {grant_id: 1}, ())
        else:
            self.count_uses(session, {}, (grant_id,))

    def count_uses(self, session: Session, uses: Mapping[str, int], locked: Iterable[str]) -> None:
        """:meth:`count_use` for a group commit's answers: ``uses`` more uses of each grant
        (``used = used + n``, one statement for all), and a lock on each grant in ``locked``
        (answers that counted nothing). The caller holds the ledger head's lock, behind which every
        broker process takes these row locks."""
        now = self.now()
        counted = [{"grant_id": g, "uses": n, "now": now} for g, n in sorted(uses.items()) if n]
        if counted:
            session.connection().execute(_COUNT_USES, counted)
        for grant_id in sorted(set(locked) - {c["grant_id"] for c in counted}):
            session.execute(_LOCK, {"grant_id": grant_id}).one()
        for grant_id in {*uses, *locked}:
            loaded = session.identity_map.get(identity_key(Grant, grant_id))
            if loaded is not None:
                session.expire(loaded)
