"""Keeping the log honest with the departments: checkpoints cosigned by witnesses, and the
nodes' receipt journals reconciled with the log.

* :meth:`LedgerKeeper.publish_and_collect` signs a checkpoint of the current tree and asks each
  witness node to cosign it, sending the consistency proof from the size that witness cosigned
  last. A refusal (rollback, fork, rewrite, or a node holding a larger tree) is recorded in the
  log as ``ledger.witness_refused`` with the witness's evidence, and logged.
* :meth:`LedgerKeeper.reconcile` reads each node's journal of signed receipts after the position
  reconciled last and records every answered query the log lacks as ``query.relayed_late``
  (with ``"late": true``): a broker that died between the node's answer and its ledger write
  loses nothing.

Plain Python over caller-owned sessions; the node calls go through a :class:`LedgerNodes` port.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.ledger import chain as ledger_mod
from tongdao.broker.ledger.models import (
    LedgerCosignature,
    LedgerHead,
    LedgerJournalCursor,
    LedgerRequestIndex,
)
from tongdao.crypto.errors import NoteError, ProofError, SignatureError
from tongdao.crypto.query_binding import receipt_signing_bytes
from tongdao.crypto.signing import VerifyKey
from tongdao.policies.model import LedgerRules
from tongdao.proto.query import Receipt

log = logging.getLogger("tongdao.broker.ledger")
PAGE = 1000


@dataclass(frozen=True)
class WitnessNode:
    """A department whose node witnesses the log and journals receipts."""

    code: str
    endpoint: str
    key: VerifyKey


@dataclass(frozen=True)
class CosignReply:
    """A node's answer to AddCheckpoint."""

    cosignature: str = ""
    refusal: str = ""
    message: str = ""
    witnessed_size: int = 0
    witnessed_checkpoint: str = ""


@dataclass(frozen=True)
class JournalLine:
    """One line of a node's receipt journal."""

    position: int
    method: str
    receipt: Receipt


class LedgerNodes(Protocol):
    """The node calls the keeper needs (gRPC in the broker, direct objects in tests)."""

    def add_checkpoint(
        self, endpoint: str, old_size: int, proof: Sequence[bytes], note: str
    ) -> CosignReply: ...

    def list_receipts(self, endpoint: str, after: int, limit: int) -> list[JournalLine]: ...


@dataclass
class WitnessReport:
    """What one witness did with a checkpoint."""

    witness: str
    size: int
    cosigned: bool
    refusal: str = ""
    message: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)


def receipt_verifies(receipt: Receipt, key: VerifyKey) -> bool:
    """Whether ``receipt`` is signed by ``key``."""
    try:
        key.verify(
            receipt.signature,
            receipt_signing_bytes(
                request_id=receipt.request_id,
                grant_id=receipt.grant_id,
                provider=receipt.provider,
                result_digest=receipt.result_digest,
                record_count=receipt.record_count,
                answered_at=receipt.answered_at,
            ),
        )
    except SignatureError:
        return False
    return True


class LedgerKeeper:
    """Publishes checkpoints, collects cosignatures, reconciles receipt journals."""

    def __init__(
        self,
        ledger: ledger_mod.Ledger,
        rules: LedgerRules,
        nodes: LedgerNodes,
        *,
        on_late: Callable[[Session, Receipt], str] | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.ledger = ledger
        self.rules = rules
        self.nodes = nodes
        self.on_late = on_late
        self.clock = clock

    # ------------------------------------------------------------------ witnesses
    def publish_and_collect(
        self, sessions: sessionmaker[Session], witnesses: Sequence[WitnessNode]
    ) -> list[WitnessReport]:
        """Sign a checkpoint of the current tree and ask every witness to cosign it."""
        with sessions.begin() as session:
            checkpoint = self.ledger.publish_checkpoint(session, self.rules.origin)
            size, note = checkpoint.size, checkpoint.note
        return [self._collect(sessions, w, size, note) for w in witnesses]

    def _collect(
        self, sessions: sessionmaker[Session], w: WitnessNode, size: int, note: str
    ) -> WitnessReport:
        with sessions.begin() as session:
            old = session.execute(
                select(func.max(LedgerCosignature.size)).where(LedgerCosignature.witness == w.code)
            ).scalar_one_or_none()
        old = min(old or 0, size)
        try:
            reply = self._ask(sessions, w, old, size, note)
            if reply.refusal == "conflict" and 0 <= reply.witnessed_size <= size:
                # the witness holds another size than we remembered: prove from its size
                reply = self._ask(sessions, w, reply.witnessed_size, size, note)
        except ConnectionError as exc:
            return WitnessReport(w.code, size, False, "unavailable", str(exc))
        if reply.cosignature:
            try:
                with sessions.begin() as session:
                    checkpoint = session.get(ledger_mod.LedgerCheckpoint, size)
                    assert checkpoint is not None
                    ledger_mod.add_cosignature(
                        session, checkpoint, w.code, w.key, reply.cosignature
                    )
            except NoteError as exc:
                return WitnessReport(w.code, size, False, "bad_cosignature", str(exc))
            return WitnessReport(w.code, size, True)
        evidence = {
            "witness": w.code,
            "reason": reply.refusal,
            "message": reply.message,
            "witnessed_size": reply.witnessed_size,
            "witnessed_checkpoint": reply.witnessed_checkpoint,
            "offered_size": size,
            "offered_checkpoint": note,
        }
        log.error(
            "witness %s refused checkpoint %d: %s (%s); it holds size %d",
            w.code,
            size,
            reply.refusal,
            reply.message,
            reply.witnessed_size,
        )
        with sessions.begin() as session:
            self.ledger.append(
                session,
                kind="ledger.witness_refused",
                actor=w.code,
                subject=str(size),
                payload=evidence,
            )
        return WitnessReport(w.code, size, False, reply.refusal, reply.message, evidence)

    def _ask(
        self, sessions: sessionmaker[Session], w: WitnessNode, old: int, size: int, note: str
    ) -> CosignReply:
        with sessions.begin() as session:
            try:
                proof = ledger_mod.prove_consistency(session, old, size)
            except ProofError:
                proof = []
        return self.nodes.add_checkpoint(w.endpoint, old, proof, note)

    # ------------------------------------------------------------------ reconciliation
    def reconcile(
        self,
        sessions: sessionmaker[Session],
        nodes: Sequence[WitnessNode],
        *,
        answered_before: dt.datetime | None = None,
    ) -> int:
        """Record every journaled receipt the log lacks, marked late.

        Args:
            answered_before: leave receipts answered after this for the live relay to record
                (at start-up: the start time; later: now minus the longest a relay takes between
                the node's answer and its ledger write). Default: now.

        Returns:
            How many late entries were recorded.
        """
        late = 0
        cutoff = answered_before or self.clock()
        for node in nodes:
            try:
                late += self._reconcile_node(sessions, node, cutoff)
            except ConnectionError as exc:
                log.warning("cannot reconcile the receipts of %s: %s", node.code, exc)
        return late

    def _reconcile_node(
        self, sessions: sessionmaker[Session], node: WitnessNode, cutoff: dt.datetime
    ) -> int:
        late = 0
        with sessions.begin() as session:
            cursor = session.get(LedgerJournalCursor, node.code)
            after = cursor.position if cursor else 0
        while True:
            lines = self.nodes.list_receipts(node.endpoint, after, PAGE)
            if not lines:
                return late
            with sessions.begin() as session:
                # the head lock first: a concurrent relay or replica cannot record the same
                # request between our check and our append
                session.execute(
                    select(LedgerHead).where(LedgerHead.id == 1).with_for_update()
                ).scalar_one()
                done = after
                for line in lines:
                    if _answered_after(line.receipt, cutoff):
                        break
                    done = line.position
                    if session.get(LedgerRequestIndex, line.receipt.request_id) is not None:
                        continue
                    self._record_late(session, node, line)
                    late += 1
                cursor = session.get(LedgerJournalCursor, node.code)
                if cursor is None:
                    session.add(LedgerJournalCursor(node=node.code, position=done))
                else:
                    cursor.position = done
            if done != lines[-1].position:
                return late
            after = done

    def _record_late(self, session: Session, node: WitnessNode, line: JournalLine) -> None:
        r = line.receipt
        verified = r.provider == node.code and receipt_verifies(r, node.key)
        actor = self.on_late(session, r) if verified and self.on_late else node.code
        self.ledger.append(
            session,
            kind="query.relayed_late",
            actor=actor,
            subject=r.grant_id,
            payload={
                "grant_id": r.grant_id,
                "request_id": r.request_id,
                "method": line.method,
                "provider": r.provider,
                "result_sha256": r.result_digest.hex(),
                "record_count": r.record_count,
                "answered_at": r.answered_at,
                "receipt_signature": r.signature.hex(),
                "receipt_verified": verified,
                "journal_position": line.position,
                "late": True,
            },
        )
        log.warning(
            "recorded late: %s request %s grant %s answered by %s at %s",
            line.method,
            r.request_id,
            r.grant_id,
            r.provider,
            r.answered_at,
        )


def _answered_after(receipt: Receipt, cutoff: dt.datetime) -> bool:
    try:
        answered = dt.datetime.fromisoformat(receipt.answered_at)
    except ValueError:
        return False
    if answered.tzinfo is None:
        answered = answered.replace(tzinfo=dt.UTC)
    # receipts say the second only: one answered in the cutoff's own second may have come after
    # it, so it is left to the live relay (and to the next scheduled round, if the relay died)
    return answered >= cutoff.replace(microsecond=0)
