"""The ledger's per-append SQL, built once: an append runs for every relayed query, and building
a statement anew each time (then its cache key) cost more than running it. Each statement takes
its values as bound parameters at execution. Also the tree's growth by one leaf, in statements."""

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
from tongdao.crypto.merkle import CompactRange, leaf_hash


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
REQUEST_SEQUENCE = select(REQUESTS.c.sequence).where(
    REQUESTS.c.request_id == bindparam("request_id")
)
INSERT_REQUEST = insert(REQUESTS)
RECORDED_ANSWER = (
    select(REQUESTS.c.sequence, ENTRIES.c.payload_json)
    .select_from(REQUESTS.outerjoin(ENTRIES, ENTRIES.c.sequence == REQUESTS.c.sequence))
    .where(REQUESTS.c.request_id == bindparam("request_id"))
)
"""An answer's index row and its entry (no entry: archived, older than the retention)."""


def connection_of(session: Session) -> Connection:
    """The session's connection, for SQL statements run beside its ORM work (what the session
    holds unflushed is flushed first, so the statements see it)."""
    session.flush()
    return session.connection()


def grow_tree(
    session: Session | Connection,
    body: bytes,
    known: tuple[int, bytes] | None = None,
    *,
    store: bool = True,
) -> tuple[int, bytes]:
    """Append one leaf: O(log n) hashes, the finished complete subtrees stored (the caller holds
    the head lock); returns the new edge (size, compact range). ``known``: the edge, if the
    caller has it; ``store``: write the new edge (else the caller does)."""
    row = known if known is not None else session.execute(TREE_EDGE).first()
    size, compact = (row[0], row[1]) if row is not None else (0, b"")
    edge = CompactRange.from_bytes(size, compact)
    nodes = [{"level": lv, "idx": ix, "hash": h} for lv, ix, h in edge.append(leaf_hash(body))]
    if nodes:
        session.execute(INSERT_NODES, nodes)
    grown = (edge.size, edge.to_bytes())
    if not store:
        return grown
    if row is None:
        session.execute(INSERT_TREE, {"id": 1, "size": grown[0], "compact_range": grown[1]})
    else:
        session.execute(MOVE_TREE, {"new_size": grown[0], "new_range": grown[1]})
    return grown
