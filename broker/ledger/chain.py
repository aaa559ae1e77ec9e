"""The tamper-evident ledger (PRIV-7): a Merkle-tree transparency log with a hash chain.

Each entry's canonical bytes (:func:`entry_body`) are a leaf of an RFC 9162 Merkle tree; the
broker signs checkpoints of the tree (C2SP signed notes) and the departments' nodes cosign them as
witnesses, so the broker cannot roll back, fork or rewrite the log unnoticed. Any entry has an
inclusion proof and any two sizes a consistency proof, each O(log n) stored subtree hashes;
appending costs O(log n) (the tree's right edge is kept beside the head).

Each entry's hash is also ``SHA-256(previous_hash || canonical bytes)`` and the head row holds
the length and last hash, signed by the broker's Ed25519 key in every transaction that appends.

Payloads hold identifiers, sizes and digests — never a relayed query's or result's contents.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from tongdao.broker.ledger import statements as sql
from tongdao.broker.ledger.appending import (
    KEPT,
    LOCKED,
    ONE_SIGNATURE,
    NewEntry,
    append_entries,
    head_signing_bytes,
    locked_head,
    new_entry,
    write_head,
)
from tongdao.broker.ledger.audit import GENESIS_HASH, Audit, audit, entry_body
from tongdao.broker.ledger.models import (
    LedgerArchive,
    LedgerCheckpoint,
    LedgerCosignature,
    LedgerEntry,
    LedgerHead,
    LedgerTree,
    LedgerTreeNode,
)
from tongdao.crypto.checkpoint import (
    LOG_KEY_NAME,
    Checkpoint,
    CosignatureVerifier,
    NoteSignature,
    NoteSigner,
    SignedNote,
    sign_checkpoint,
)
from tongdao.crypto.errors import NoteError, ProofError, SignatureError
from tongdao.crypto.merkle import (
    EMPTY_ROOT,
    CompactRange,
    consistency_proof,
    inclusion_proof,
    subtree_hash,
)
from tongdao.crypto.signing import SigningKey, VerifyKey
from tongdao.policies.i18n import msg

__all__ = ["GENESIS_HASH", "Ledger", "verify_ledger"]
T = TypeVar("T")


def entry_hash(
    previous_hash: bytes,
    *,
    sequence: int,
    recorded_at: str,
    kind: str,
    actor: str,
    subject: str,
    payload_json: str,
) -> bytes:
    """The hash of one ledger entry given its predecessor's hash."""
    body = entry_body(
        sequence=sequence,
        recorded_at=recorded_at,
        kind=kind,
        actor=actor,
        subject=subject,
        payload_json=payload_json,
    )
    return hashlib.sha256(previous_hash + body).digest()


@dataclass(frozen=True)
class Verification:
    """The result of verifying a ledger."""

    ok: bool
    length: int
    head_hash: bytes
    problem: str = ""
    audit: Audit | None = None


class Ledger:
    """Appends to and verifies the ledger, within the caller's session and transaction."""

    def __init__(
        self,
        signing_key: SigningKey,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._key = signing_key
        self._clock = clock

    @staticmethod
    def entries(session: Session, kinds: Iterable[str], *, after: int = 0) -> list[LedgerEntry]:
        """The entries of these kinds after sequence ``after``, in order (for supervision)."""
        return list(
            session.execute(
                select(LedgerEntry)
                .where(LedgerEntry.kind.in_(list(kinds)), LedgerEntry.sequence > after)
                .order_by(LedgerEntry.sequence)
            ).scalars()
        )

    def append(
        self, session: Session, *, kind: str, actor: str, subject: str, payload: dict[str, Any]
    ) -> LedgerEntry:
        """Append one entry and re-sign the head (once per :meth:`one_signature` block), in the
        caller's transaction.

        The payload gains ``responsible``: the department and the person whose call made the
        entry, or ``identity: "service identity"`` when the call carried no login session
        (SEC-3, Art.37).

        The head row is locked for update so concurrent appenders (threads or broker replicas)
        queue; the entry becomes visible only when the caller commits.

        Returns:
            The new entry, as a detached row (its ``sequence`` is final once the transaction
            commits).
        """
        made = new_entry(kind=kind, actor=actor, subject=subject, payload=payload)
        return LedgerEntry(**self.append_new(session, [made])[0])

    def append_new(
        self,
        session: Session,
        entries: Sequence[NewEntry],
        *,
        indexed: Collection[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Append entries made by :func:`~tongdao.broker.ledger.appending.new_entry` (in the
        callers' threads, each with its caller's ``responsible``), in order, with one statement
        per table for the lot; returns each entry's row values.

        Args:
            indexed: the request ids already indexed, as :meth:`recorded_answers` found them
                under this transaction's lock (None: looked up here).
        """
        return append_entries(session, self._key, self._clock, entries, indexed=indexed)

    @contextmanager
    def one_signature(self, session: Session) -> Iterator[None]:
        """Appends in this block leave the head and the tree's edge to its end, where they are
        written and the head signed once, in the same transaction (no commit ever holds an
        unsigned head). An error skips that: the caller's transaction then rolls back. Within
        the block the stored head lags the appends."""
        session.info[ONE_SIGNATURE] = True
        try:
            yield
            kept = session.info.pop(KEPT, None)
            if kept is not None:
                write_head(session, self._key, *kept)
        finally:
            for key in (ONE_SIGNATURE, LOCKED, KEPT):
                session.info.pop(key, None)

    @staticmethod
    def lock(session: Session) -> None:
        """Take the head's lock in the caller's transaction (appenders queue behind it): a
        check made after it and the append that follows are one step for every other writer."""
        if session.info.get(LOCKED):
            return  # locked already in this group commit's transaction
        if not session.info.get(ONE_SIGNATURE):
            session.execute(sql.HEAD_FOR_UPDATE).one()
            return
        # held until the block's transaction ends; the block's first append starts from the
        # head and edge read here, not read again
        session.info[LOCKED] = locked_head(session)

    @staticmethod
    def recorded_answer(session: Session, request_id: str) -> tuple[int, str, bool] | None:
        """Lock the head, then say whether an answer to ``request_id`` is already in the log:
        (its sequence, its receipt signature hex, whether that receipt verified), else None.

        Recording an answer is idempotent on the receipt's identity: a relay slower than the
        journal reconciliation's margin finds the answer already recorded late, and adds nothing.
        The caller appends (or not) in the same transaction, under the same lock.
        """
        return Ledger.recorded_answers(session, [request_id]).get(request_id)

    @staticmethod
    def recorded_answers(
        session: Session, request_ids: Sequence[str]
    ) -> dict[str, tuple[int, str, bool]]:
        """:meth:`recorded_answer` for many request ids in one statement: those the log holds."""
        Ledger.lock(session)
        db = sql.connection_of(session)
        found: dict[str, tuple[int, str, bool]] = {}
        for row in db.execute(sql.RECORDED_ANSWERS, {"request_ids": list(set(request_ids))}):
            if row.payload_json is None:
                # its entry was archived (older than the retention period): it was recorded
                found[row.request_id] = (row.sequence, "", True)
                continue
            payload = json.loads(row.payload_json)
            found[row.request_id] = (
                row.sequence,
                str(payload.get("receipt_signature", "")),
                bool(payload.get("receipt_verified", True)),
            )
        return found

    def publish_checkpoint(self, session: Session, origin: str) -> LedgerCheckpoint:
        """Sign a checkpoint of the current tree (or return the latest, if the tree has not
        grown), in the caller's transaction."""
        session.execute(select(LedgerHead).where(LedgerHead.id == 1).with_for_update()).scalar_one()
        tree = _tree(session)
        latest = latest_checkpoint(session)
        if latest is not None and latest.size == tree.size:
            return latest
        now = self._clock().astimezone(dt.UTC).isoformat(timespec="seconds")
        root = CompactRange.from_bytes(tree.size, tree.compact_range).root()
        note = sign_checkpoint(
            Checkpoint(origin, tree.size, root, (f"time {now}",)),
            NoteSigner(LOG_KEY_NAME, self._key),
        )
        row = LedgerCheckpoint(size=tree.size, root_hash=root, note=note.to_text(), signed_at=now)
        session.add(row)
        session.flush()
        return row


def read_head(session: Session) -> LedgerHead:
    """The current head row."""
    return session.execute(select(LedgerHead).where(LedgerHead.id == 1)).scalar_one()


def verify_entries(
    entries: Iterable[LedgerEntry],
    *,
    length: int,
    head_hash: bytes,
    head_signature: bytes,
    broker_key: VerifyKey,
) -> Verification:
    """Verify a chain of entries (in sequence order) against a signed head.

    Works on ORM rows or any objects with the same attributes, so an exported ledger can be
    checked offline with only the broker's public key.
    """
    previous = GENESIS_HASH
    count = 0
    for entry in entries:
        count += 1
        if entry.sequence != count:
            return Verification(False, count - 1, previous, f"entry {count}: sequence gap")
        if entry.previous_hash != previous:
            return Verification(
                False, count - 1, previous, f"entry {count}: link to entry {count - 1} is broken"
            )
        expected = entry_hash(
            previous,
            sequence=entry.sequence,
            recorded_at=entry.recorded_at,
            kind=entry.kind,
            actor=entry.actor,
            subject=entry.subject,
            payload_json=entry.payload_json,
        )
        if expected != entry.entry_hash:
            return Verification(False, count - 1, previous, f"entry {count}: contents altered")
        previous = entry.entry_hash
    if count != length:
        return Verification(False, count, previous, f"head names {length} entries, found {count}")
    if previous != head_hash:
        return Verification(False, count, previous, "head hash does not match the last entry")
    if length:
        try:
            broker_key.verify(head_signature, head_signing_bytes(length, head_hash))
        except SignatureError:
            return Verification(False, count, previous, "head signature does not verify")
    return Verification(True, count, previous)


def verify_ledger(
    session: Session,
    broker_key: VerifyKey,
    *,
    origin: str = "",
    witnesses: Mapping[str, VerifyKey] | None = None,
    witnesses_required: int = 0,
    batch: int = 1000,
) -> Verification:
    """Verify the stored ledger: every entry, its link, the tree at every checkpoint, the
    checkpoints' signatures and cosignatures, and the signed head; streaming entries in batches
    (bounded memory). With no ``origin`` the checkpoints are not checked (none verify)."""
    head = read_head(session)
    head_length, head_hash, head_signature = head.length, head.head_hash, head.signature
    archived = archived_up_to(session)
    prefix = prefix_range(session, archived)
    notes = checkpoint_notes(session) if origin else []
    proofs = {
        cp.size: prove_consistency(session, head_length, cp.size)
        for cp in session.execute(
            select(LedgerCheckpoint).where(LedgerCheckpoint.size > head_length)
        ).scalars()
    }

    def stream() -> Iterable[LedgerEntry]:
        last = archived
        while True:
            rows = (
                session.execute(
                    select(LedgerEntry)
                    .where(LedgerEntry.sequence > last, LedgerEntry.sequence <= head_length)
                    .order_by(LedgerEntry.sequence)
                    .limit(batch)
                )
                .scalars()
                .all()
            )
            if not rows:
                return
            yield from rows
            last = rows[-1].sequence
            session.expunge_all()

    result = audit(
        stream(),
        checkpoints=notes,
        log_key=broker_key,
        log_name=LOG_KEY_NAME,
        origin=origin or "-",
        witnesses=witnesses or {},
        witnesses_required=witnesses_required,
        prefix=prefix,
        proofs=proofs,
    )
    count = archived + result.entries
    if result.problems:
        return Verification(False, count, result.last_hash, result.problems[0], result)
    if count != head_length:
        return Verification(
            False, count, result.last_hash, f"head names {head_length} entries, found {count}"
        )
    if head_length and result.last_hash != head_hash:
        return Verification(False, count, result.last_hash, "head hash does not match", result)
    if head_length:
        try:
            broker_key.verify(head_signature, head_signing_bytes(head_length, head_hash))
        except SignatureError:
            return Verification(False, count, head_hash, "head signature does not verify", result)
    return Verification(True, count, head_hash if head_length else GENESIS_HASH, "", result)


# ---------------------------------------------------------------------- the Merkle tree


def _tree(session: Session) -> LedgerTree:
    tree = session.get(LedgerTree, 1)
    if tree is None:
        tree = LedgerTree(id=1, size=0, compact_range=b"")
        session.add(tree)
    return tree


def tree_size(session: Session) -> int:
    tree = session.get(LedgerTree, 1)
    return tree.size if tree else 0


def node_reader(session: Session) -> Callable[[int, int], bytes]:
    """A NodeReader over the stored complete subtrees (each read cached)."""
    cache: dict[tuple[int, int], bytes] = {}

    def read(level: int, idx: int) -> bytes:
        key = (level, idx)
        if key not in cache:
            row = session.get(LedgerTreeNode, key)
            if row is None:
                raise ProofError(
                    msg(
                        "the store lacks the subtree at level {level} index {idx}",
                        level=level,
                        idx=idx,
                    )
                )
            cache[key] = row.hash
        return cache[key]

    return read


def _from_store(session: Session, compute: Callable[[Callable[[int, int], bytes]], T]) -> T:
    """Run a proof computation with every stored node it needs read in one query: the nodes a
    proof touches depend only on the sizes, so a first pass with placeholder hashes names them."""
    wanted: set[tuple[int, int]] = set()

    def record(level: int, idx: int) -> bytes:
        wanted.add((level, idx))
        return bytes(32)

    compute(record)
    found: dict[tuple[int, int], bytes] = {}
    keys = sorted(wanted)
    for start in range(0, len(keys), 200):
        chunk = keys[start : start + 200]
        rows = session.execute(
            select(LedgerTreeNode.level, LedgerTreeNode.idx, LedgerTreeNode.hash).where(
                or_(
                    *(
                        and_(LedgerTreeNode.level == lv, LedgerTreeNode.idx == ix)
                        for lv, ix in chunk
                    )
                )
            )
        )
        found.update({(lv, ix): h for lv, ix, h in rows})

    def read(level: int, idx: int) -> bytes:
        try:
            return found[(level, idx)]
        except KeyError:
            raise ProofError(
                msg(
                    "the store lacks the subtree at level {level} index {idx}", level=level, idx=idx
                )
            ) from None

    return compute(read)


def root_at(session: Session, size: int) -> bytes:
    """The root of the first ``size`` leaves."""
    if not 0 <= size <= tree_size(session):
        raise ProofError(
            msg("the log has {v1} entries, not {size}", v1=tree_size(session), size=size)
        )
    if size == 0:
        return EMPTY_ROOT
    return _from_store(session, lambda read: subtree_hash(read, 0, size))


def prove_inclusion(session: Session, sequence: int, size: int) -> list[bytes]:
    """The inclusion proof of entry ``sequence`` (1-based) in the tree of ``size`` entries."""
    if not 0 < size <= tree_size(session):
        raise ProofError(
            msg("the log has {v1} entries, not {size}", v1=tree_size(session), size=size)
        )
    return _from_store(session, lambda read: inclusion_proof(read, sequence - 1, size))


def prove_consistency(session: Session, old_size: int, new_size: int) -> list[bytes]:
    """The consistency proof from size ``old_size`` to ``new_size``."""
    if new_size > tree_size(session):
        raise ProofError(
            msg(
                "the log has {v1} entries, not {new_size}", v1=tree_size(session), new_size=new_size
            )
        )
    return _from_store(session, lambda read: consistency_proof(read, old_size, new_size))


def leaf_at(session: Session, sequence: int) -> bytes:
    """The stored leaf hash of entry ``sequence``."""
    return node_reader(session)(0, sequence - 1)


def prefix_range(session: Session, size: int) -> CompactRange:
    """The tree's right edge at ``size`` from stored complete subtrees (archived prefixes)."""
    read = node_reader(session)
    hashes, start = [], 0
    for bit in range(size.bit_length() - 1, -1, -1):
        if size >> bit & 1:
            hashes.append(read(bit, start >> bit))
            start += 1 << bit
    return CompactRange(size, hashes)


# ---------------------------------------------------------------------- checkpoints


def latest_checkpoint(session: Session) -> LedgerCheckpoint | None:
    return session.execute(
        select(LedgerCheckpoint).order_by(LedgerCheckpoint.size.desc()).limit(1)
    ).scalar_one_or_none()


def cosigned_note(session: Session, checkpoint: LedgerCheckpoint) -> str:
    """The checkpoint's note with every stored cosignature line."""
    note = SignedNote.parse(checkpoint.note)
    for row in session.execute(
        select(LedgerCosignature)
        .where(LedgerCosignature.size == checkpoint.size)
        .order_by(LedgerCosignature.witness)
    ).scalars():
        parsed = SignedNote.parse(checkpoint.note.rstrip("\n") + "\n" + row.line + "\n")
        note = note.with_signature(parsed.signatures[-1])
    return note.to_text()


def add_cosignature(
    session: Session, checkpoint: LedgerCheckpoint, witness: str, key: VerifyKey, line: str
) -> None:
    """Store a witness's cosignature line after checking it.

    Raises:
        NoteError: the line is malformed or does not verify under ``key``.
    """
    parsed = SignedNote.parse(checkpoint.note.rstrip("\n") + "\n" + line + "\n")
    signature: NoteSignature = parsed.signatures[-1]
    if signature.name != witness:
        raise NoteError(f"the cosignature is by {signature.name!r}, not {witness!r}")
    CosignatureVerifier(witness, key).verify(SignedNote(parsed.text, (signature,)))
    row = session.get(LedgerCosignature, (checkpoint.size, witness))
    if row is None:
        session.add(LedgerCosignature(size=checkpoint.size, witness=witness, line=line))
    else:
        row.line = line


def checkpoint_notes(session: Session) -> list[str]:
    """Every checkpoint note with its cosignatures, smallest first."""
    rows = session.execute(select(LedgerCheckpoint).order_by(LedgerCheckpoint.size)).scalars()
    return [cosigned_note(session, row) for row in rows]


def archived_up_to(session: Session) -> int:
    """The last archived sequence (0: nothing archived)."""
    row = session.execute(
        select(LedgerArchive).order_by(LedgerArchive.last_sequence.desc()).limit(1)
    ).scalar_one_or_none()
    return row.last_sequence if row else 0
