"""Auditing the ledger: every entry, the Merkle tree and the signed, cosigned checkpoints.

Pure code over entries and notes (no database, no network), so the broker, the CLI reading a
store and an auditor holding only an export and the broker's public key run the same checks:

* each entry's hash and its link to the previous entry (the hash chain);
* the Merkle root at every checkpoint's size equals the checkpoint's root (the tree over the
  entries' canonical bytes, RFC 9162), and a checkpoint beyond the last entry is reached by a
  consistency proof;
* each checkpoint is signed by the broker's key for the log's origin, and carries valid
  cosignatures of enough distinct witnesses (the rule file says how many).

An entry after the last checkpoint is *reported*, never counted as verified.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from tongdao.crypto.checkpoint import (
    Checkpoint,
    CosignatureVerifier,
    NoteVerifier,
    SignedNote,
    open_checkpoint,
)
from tongdao.crypto.errors import NoteError, ProofError
from tongdao.crypto.merkle import CompactRange, leaf_hash, verify_consistency
from tongdao.crypto.signing import VerifyKey

GENESIS_HASH = bytes(32)


class EntryLike(Protocol):
    sequence: int
    recorded_at: str
    kind: str
    actor: str
    subject: str
    payload_json: str
    previous_hash: bytes
    entry_hash: bytes


def entry_body(
    *, sequence: int, recorded_at: str, kind: str, actor: str, subject: str, payload_json: str
) -> bytes:
    """The canonical bytes of one entry: the Merkle leaf's data and the hash chain's input."""
    return json.dumps(
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


def body_of(entry: EntryLike) -> bytes:
    return entry_body(
        sequence=entry.sequence,
        recorded_at=entry.recorded_at,
        kind=entry.kind,
        actor=entry.actor,
        subject=entry.subject,
        payload_json=entry.payload_json,
    )


@dataclass(frozen=True)
class Audit:
    """What an audit found.

    Attributes:
        ok: no entry, link, root, signature or proof failed (an unwitnessed or uncovered tail
            is not a failure: see ``unverified`` and ``witnessed``).
        entries: entries read.
        first: the first entry's sequence (after an archived prefix, > 1).
        verified: entries covered by a checkpoint that verifies.
        unverified: entries after the last verifying checkpoint (reported, not verified).
        checkpoint_size: the largest checkpoint that verifies (0: none).
        cosigned_by: the distinct witnesses whose cosignature on it verifies.
        witnesses_required: how many the rule file asks for.
        problems: what failed, first first.
        last_hash: the last entry's hash (the chain head).
    """

    ok: bool
    entries: int
    first: int
    verified: int
    unverified: int
    checkpoint_size: int
    cosigned_by: tuple[str, ...]
    witnesses_required: int
    problems: tuple[str, ...] = ()
    last_hash: bytes = GENESIS_HASH

    @property
    def witnessed(self) -> bool:
        return self.checkpoint_size > 0 and len(self.cosigned_by) >= self.witnesses_required

    def summary(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "first_sequence": self.first,
            "verified": self.verified,
            "unverified": self.unverified,
            "checkpoint_size": self.checkpoint_size,
            "cosigned_by": list(self.cosigned_by),
            "witnesses_required": self.witnesses_required,
            "witnessed": self.witnessed,
            "problems": list(self.problems),
        }


@dataclass
class _Claim:
    checkpoint: Checkpoint
    note: SignedNote
    cosigned_by: tuple[str, ...]
    verified: bool = False
    problems: list[str] = field(default_factory=list)


def audit(
    entries: Iterable[EntryLike],
    *,
    checkpoints: Sequence[str],
    log_key: VerifyKey,
    log_name: str,
    origin: str,
    witnesses: Mapping[str, VerifyKey],
    witnesses_required: int,
    prefix: CompactRange | None = None,
    proofs: Mapping[int, Sequence[bytes]] | None = None,
) -> Audit:
    """Check entries (in sequence order) against the tree and the checkpoints.

    Args:
        entries: the entries after ``prefix``, in order.
        checkpoints: signed checkpoint notes (with any cosignature lines).
        log_key / log_name / origin: the broker's checkpoint key, its key name, the log's name.
        witnesses: department code → Ed25519 key of the departments that may cosign.
        witnesses_required: cosignatures a checkpoint needs to count as witnessed.
        prefix: the tree's right edge before the first entry (an archived prefix).
        proofs: checkpoint size → consistency proof from the last entry's size to it, for
            checkpoints beyond the entries given.
    """
    prefix = prefix or CompactRange()
    proofs = proofs or {}
    problems: list[str] = []
    log = NoteVerifier(log_name, log_key)
    claims: dict[int, _Claim] = {}
    for text in checkpoints:
        try:
            checkpoint, note = open_checkpoint(text, log, origin)
        except NoteError as exc:
            problems.append(f"checkpoint: {exc}")
            continue
        signers = []
        for name, key in sorted(witnesses.items()):
            try:
                CosignatureVerifier(name, key).verify(note)
            except NoteError:
                continue
            signers.append(name)
        previous = claims.get(checkpoint.size)
        if previous is not None and previous.checkpoint.root_hash != checkpoint.root_hash:
            problems.append(f"two signed checkpoints of size {checkpoint.size} differ: a fork")
        claims[checkpoint.size] = _Claim(checkpoint, note, tuple(signers))

    edge = CompactRange(prefix.size, list(prefix.hashes))
    previous_hash: bytes | None = GENESIS_HASH if prefix.size == 0 else None
    count, first = 0, prefix.size + 1
    for entry in entries:
        count += 1
        expected = prefix.size + count
        if entry.sequence != expected:
            problems.append(f"entry {expected}: sequence gap (found {entry.sequence})")
            break
        if previous_hash is not None and entry.previous_hash != previous_hash:
            problems.append(f"entry {expected}: link to entry {expected - 1} is broken")
            break
        body = body_of(entry)
        if hashlib.sha256(entry.previous_hash + body).digest() != entry.entry_hash:
            problems.append(f"entry {expected}: contents altered")
            break
        previous_hash = entry.entry_hash
        edge.append(leaf_hash(body))
        claim = claims.get(edge.size)
        if claim is not None:
            if edge.root() == claim.checkpoint.root_hash:
                claim.verified = True
            else:
                problems.append(
                    f"checkpoint {edge.size}: its root does not match entries "
                    f"{first}..{edge.size} (the history was rewritten)"
                )
    end = edge.size
    if not problems:
        for size, claim in sorted(claims.items()):
            if size <= end:
                continue
            proof = proofs.get(size)
            if proof is None:
                problems.append(f"checkpoint {size}: no consistency proof from size {end}")
                continue
            try:
                verify_consistency(end, size, edge.root(), claim.checkpoint.root_hash, proof)
            except ProofError as exc:
                problems.append(f"checkpoint {size}: {exc}")
                continue
            claim.verified = True
    good = [c for c in claims.values() if c.verified]
    best = max(good, key=lambda c: c.checkpoint.size) if good else None
    covered = min(best.checkpoint.size, end) if best else prefix.size
    verified = max(0, covered - prefix.size) if not problems else 0
    return Audit(
        ok=not problems,
        entries=count,
        first=first,
        verified=verified,
        unverified=max(0, end - max(covered, prefix.size)) if not problems else count,
        checkpoint_size=best.checkpoint.size if best else 0,
        cosigned_by=best.cosigned_by if best else (),
        witnesses_required=witnesses_required,
        problems=tuple(problems),
        last_hash=previous_hash or GENESIS_HASH,
    )
