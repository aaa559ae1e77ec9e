"""The tamper-evident ledger (PRIV-7): a hash chain with a broker-signed head.

Each entry's hash is ``SHA-256(previous_hash || canonical JSON of its contents)``; the head row
holds the length and last hash, signed by the broker's Ed25519 key. Altering any stored entry
breaks its own hash or the next entry's link; altering the last entry *and* the head breaks the
head signature, which only the broker's key can make.

Payloads hold identifiers, sizes and digests — never a relayed query's or result's contents.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongdao.broker.ledger.models import LedgerEntry, LedgerHead
from tongdao.crypto.errors import SignatureError
from tongdao.crypto.signing import SigningKey, VerifyKey

GENESIS_HASH = bytes(32)
HEAD_DOMAIN = b"tongdao/v1 ledger head"


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
    body = json.dumps(
        {
            "sequence": sequence,
            "recorded_at": recorded_at,
            "kind": kind,
            "actor": actor,
            "subject": subject,
            "payload": payload_json,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    return hashlib.sha256(previous_hash + body).digest()


def head_signing_bytes(length: int, head_hash: bytes) -> bytes:
    """What the broker signs for the head."""
    return HEAD_DOMAIN + length.to_bytes(8, "big") + head_hash


@dataclass(frozen=True)
class Verification:
    """The result of verifying a ledger."""

    ok: bool
    length: int
    head_hash: bytes
    problem: str = ""


class Ledger:
    """Appends to and verifies the ledger, within the caller's session and transaction."""

    def __init__(
        self,
        signing_key: SigningKey,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._key = signing_key
        self._clock = clock

    def append(
        self, session: Session, *, kind: str, actor: str, subject: str, payload: dict[str, Any]
    ) -> LedgerEntry:
        """Append one entry and re-sign the head, in the caller's transaction.

        The head row is locked for update so concurrent appenders (threads or broker replicas)
        queue; the entry becomes visible only when the caller commits.

        Returns:
            The new entry (its ``sequence`` is final once the transaction commits).
        """
        head = session.execute(
            select(LedgerHead).where(LedgerHead.id == 1).with_for_update()
        ).scalar_one()
        sequence = head.length + 1
        recorded_at = self._clock().astimezone(dt.UTC).isoformat(timespec="microseconds")
        payload_json = json.dumps(
            payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        digest = entry_hash(
            head.head_hash,
            sequence=sequence,
            recorded_at=recorded_at,
            kind=kind,
            actor=actor,
            subject=subject,
            payload_json=payload_json,
        )
        entry = LedgerEntry(
            sequence=sequence,
            recorded_at=recorded_at,
            kind=kind,
            actor=actor,
            subject=subject,
            payload_json=payload_json,
            previous_hash=head.head_hash,
            entry_hash=digest,
        )
        session.add(entry)
        head.length = sequence
        head.head_hash = digest
        head.signature = self._key.sign(head_signing_bytes(sequence, digest))
        session.flush()
        return entry


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


def verify_ledger(session: Session, broker_key: VerifyKey, *, batch: int = 1000) -> Verification:
    """Verify the whole stored ledger, streaming entries in batches (bounded memory)."""
    head = read_head(session)
    head_length, head_hash, head_signature = head.length, head.head_hash, head.signature

    def stream() -> Iterable[LedgerEntry]:
        last = 0
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

    return verify_entries(
        stream(),
        length=head_length,
        head_hash=head_hash,
        head_signature=head_signature,
        broker_key=broker_key,
    )
