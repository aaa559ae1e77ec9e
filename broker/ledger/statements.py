"""The ledger's per-append SQL, built once: an append runs for every relayed query, and building
a statement anew each time (then its cache key) cost more than running it. Each statement takes
its values as bound parameters at execution."""

from __future__ import annotations

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from tongdao.broker.ledger.models import (
    LedgerEntry,
    LedgerHead,
    LedgerRequestIndex,
    LedgerTree,
    LedgerTreeNode,
)


def _table(model: type) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


HEAD = _table(LedgerHead)
ENTRIES = _table(LedgerEntry)
TREE = _table(LedgerTree)
NODES = _table(LedgerTreeNode)
REQUESTS = _table(LedgerRequestIndex)

HEAD_FOR_UPDATE = select(HEAD.c.length, HEAD.c.head_hash).where(HEAD.c.id == 1).with_for_update()
"""The head (length, last hash), locked: appenders in every process queue behind it."""
INSERT_ENTRY = insert(ENTRIES)
MOVE_HEAD = (
    update(HEAD)
    .where(HEAD.c.id == 1)
    .values(length=bindparam("new_length"), head_hash=bindparam("new_hash"))
)
MOVE_SIGNED_HEAD = MOVE_HEAD.values(signature=bindparam("new_signature"))
TREE_EDGE = select(TREE.c.size, TREE.c.compact_range).where(TREE.c.id == 1)
INSERT_NODES = insert(NODES)
INSERT_TREE = insert(TREE)
MOVE_TREE = (
    update(TREE)
    .where(TREE.c.id == 1)
    .values(size=bindparam("new_size"), compact_range=bindparam("new_range"))
)
INSERT_REQUEST = insert(REQUESTS)
INDEXED_REQUESTS = select(REQUESTS.c.request_id).where(
    REQUESTS.c.request_id.in_(bindparam("request_ids", expanding=True))
)
RECORDED_ANSWERS = (
    select(REQUESTS.c.request_id, REQUESTS.c.sequence, ENTRIES.c.payload_json)
    .select_from(REQUESTS.outerjoin(ENTRIES, ENTRIES.c.sequence == REQUESTS.c.sequence))
    .where(REQUESTS.c.request_id.in_(bindparam("request_ids", expanding=True)))
)
"""Answers' index rows and their entries (no entry: archived, older than the retention)."""


def connection_of(session: Session) -> Connection:
    """The session's connection, for SQL statements run beside its ORM work (what the session
    holds unflushed is flushed first, so the statements see it)."""
    session.flush()
    return session.connection()
