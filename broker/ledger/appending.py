"""Appending entries to the ledger in statements: one entry or a group commit's many.

An entry is made in two steps. :func:`new_entry` fixes what the entry says (its payload, with who
is responsible, serialised once) in the caller's thread; :func:`append_entries` gives a run of new
entries their sequences, times and hashes under the head's lock and writes them in one statement
per table — the entries, the Merkle tree's finished subtrees and the request-id index — whatever
the run's length. The head and the tree's edge move once per run (or once per
:meth:`~tongdao.broker.ledger.chain.Ledger.one_signature` block), with one signature.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tongdao.broker.kernel.actor import responsible
from tongdao.broker.ledger import statements as sql
from tongdao.broker.ledger.audit import entry_body
from tongdao.broker.ledger.models import LedgerHead, LedgerTree
from tongdao.crypto.merkle import CompactRange, leaf_hash
from tongdao.crypto.signing import SigningKey

# entries that record a node's answer (its receipt): indexed by request id for reconciliation
ANSWERED_KINDS = frozenset({"query.relayed", "query.bad_receipt", "query.relayed_late"})
HEAD_DOMAIN = b"tongdao/v1 ledger head"

# session.info keys: write and sign the head at the block's end; the head is locked, with the
# (length, hash, tree edge) read when it was; the (length, hash, tree edge) the block's last
# append left
ONE_SIGNATURE, LOCKED, KEPT = "tongdao_one_signature", "tongdao_locked", "tongdao_kept_head"


def head_signing_bytes(length: int, head_hash: bytes) -> bytes:
    """What the broker signs for the head."""
    return HEAD_DOMAIN + length.to_bytes(8, "big") + head_hash


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry's content before it has a place in the log."""

    kind: str
    actor: str
    subject: str
    payload_json: str
    # the answered call's request id, for the index (None: not an answer)
    request_id: str | None


def new_entry(*, kind: str, actor: str, subject: str, payload: dict[str, Any]) -> NewEntry:
    """The entry's content, its payload gaining ``responsible`` from the calling context: the
    department and person whose call made the entry (SEC-3, Art.37)."""
    payload = {**payload, "responsible": responsible(actor)}
    request_id = payload.get("request_id")
    return NewEntry(
        kind=kind,
        actor=actor,
        subject=subject,
        payload_json=json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
        request_id=request_id if kind in ANSWERED_KINDS and isinstance(request_id, str) else None,
    )


def append_entries(
    session: Session,
    key: SigningKey,
    clock: Callable[[], dt.datetime],
    entries: Sequence[NewEntry],
    *,
    indexed: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """Append ``entries`` in order in the caller's transaction; returns each entry's row values.

    The head is locked for update first (appenders in every process queue behind it), unless
    this group commit's block holds it already.

    Args:
        indexed: the answers' request ids the request index already holds, as the caller read
            them under the head's lock in this transaction (None: read them here).
    """
    db = sql.connection_of(session)
    kept = session.info.get(KEPT) or session.info.get(LOCKED)
    if kept is None:
        kept = locked_head(session)
    length, previous, (size, compact) = kept
    edge = CompactRange.from_bytes(size, compact)
    rows: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    answers: dict[str, int] = {}
    for entry in entries:
        length += 1
        recorded_at = clock().astimezone(dt.UTC).isoformat(timespec="microseconds")
        body = entry_body(
            sequence=length,
            recorded_at=recorded_at,
            kind=entry.kind,
            actor=entry.actor,
            subject=entry.subject,
            payload_json=entry.payload_json,
        )
        digest = hashlib.sha256(previous + body).digest()
        rows.append(
            {
                "sequence": length,
                "recorded_at": recorded_at,
                "kind": entry.kind,
                "actor": entry.actor,
                "subject": entry.subject,
                "payload_json": entry.payload_json,
                "previous_hash": previous,
                "entry_hash": digest,
            }
        )
        nodes.extend(
            {"level": lv, "idx": ix, "hash": h} for lv, ix, h in edge.append(leaf_hash(body))
        )
        if entry.request_id is not None:
            answers.setdefault(entry.request_id, length)  # the first answer is the one indexed
        previous = digest
    if not rows:
        return rows
    db.execute(sql.INSERT_ENTRY, rows)
    if nodes:
        db.execute(sql.INSERT_NODES, nodes)
    if answers:
        if indexed is None:
            indexed = set(
                db.execute(sql.INDEXED_REQUESTS, {"request_ids": list(answers)}).scalars()
            )
        missing = [{"request_id": r, "sequence": s} for r, s in answers.items() if r not in indexed]
        if missing:
            db.execute(sql.INSERT_REQUEST, missing)
    grown = (edge.size, edge.to_bytes())
    if session.info.get(ONE_SIGNATURE):
        # group commit: the head and the tree's edge are written, and the head signed, once
        # when the block ends
        session.info[KEPT] = (length, previous, grown)
    else:
        write_head(session, key, length, previous, grown)
    # ORM copies of the head or tree loaded earlier in this session are now stale
    for obj in list(session.identity_map.values()):
        if isinstance(obj, (LedgerHead, LedgerTree)):
            session.expire(obj)
    return rows


def locked_head(session: Session) -> tuple[int, bytes, tuple[int, bytes]]:
    """Lock the head for update and read it, then the tree's edge: (length, last hash, (tree
    size, compact range)).

    Two statements, not one join: on PostgreSQL a row lock that waited re-reads only the locked
    row, so an edge joined to it could predate the appender that held the lock."""
    db = sql.connection_of(session)
    length, head_hash = db.execute(sql.HEAD_FOR_UPDATE).one()
    tree_row = db.execute(sql.TREE_EDGE).first()
    return length, head_hash, (tree_row[0], tree_row[1]) if tree_row is not None else (0, b"")


def write_head(
    session: Session, key: SigningKey, length: int, head_hash: bytes, edge: tuple[int, bytes]
) -> None:
    """Write the signed head and the tree's edge (the caller holds the head's lock)."""
    db = sql.connection_of(session)
    signature = key.sign(head_signing_bytes(length, head_hash))
    db.execute(
        sql.MOVE_SIGNED_HEAD,
        {"new_length": length, "new_hash": head_hash, "new_signature": signature},
    )
    size, compact = edge
    moved = db.execute(sql.MOVE_TREE, {"new_size": size, "new_range": compact})
    if moved.rowcount == 0:  # the log's first entries
        db.execute(sql.INSERT_TREE, {"id": 1, "size": size, "compact_range": compact})
