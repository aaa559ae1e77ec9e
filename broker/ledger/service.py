"""Ledger context: reading, proving, exporting and verifying the ledger (PRIV-7).

Every context appends through :class:`tongdao.broker.ledger.chain.Ledger`; this service serves
pages of it and its export to the authority, inclusion and consistency proofs, and verifies every
entry, the Merkle tree, the checkpoints and their witnesses' cosignatures. Plain Python over a
caller-owned session.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.ledger import chain
from tongdao.broker.ledger.chain import Ledger, Verification, read_head, verify_ledger
from tongdao.broker.ledger.export import export_lines
from tongdao.broker.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerHead
from tongdao.crypto.errors import ProofError
from tongdao.crypto.signing import VerifyKey
from tongdao.policies.model import LedgerRules
from tongdao.proto.errors import InvalidArgument, NotFound


@dataclass(kw_only=True)
class LedgerService:
    """Pages, export and proofs of the ledger; verification for anyone."""

    chain: Ledger
    directory: DirectoryService
    verify_key: VerifyKey
    rules: LedgerRules | None = None

    def page(
        self, session: Session, caller: str, from_sequence: int, limit: int
    ) -> tuple[Sequence[LedgerEntry], LedgerHead]:
        """Up to ``limit`` entries from ``from_sequence`` on, the signed head (authority only)."""
        self.directory.require_authority(session, caller)
        rows = (
            session.execute(
                select(LedgerEntry)
                .where(LedgerEntry.sequence >= max(from_sequence, 1))
                .order_by(LedgerEntry.sequence)
                .limit(limit)
            )
            .scalars()
            .all()
        )
        return rows, read_head(session)

    def witnesses(self, session: Session) -> dict[str, VerifyKey]:
        """The departments that run a node: the log's witnesses, with their signing keys."""
        return {
            d.code: VerifyKey(d.signing_public_key)
            for d in self.directory.list_departments(session)
            if d.node_endpoint
        }

    def verify(self, session: Session) -> Verification:
        """Every entry, the tree, the checkpoints and their cosignatures, the signed head."""
        rules = self.rules
        return verify_ledger(
            session,
            self.verify_key,
            origin=rules.origin if rules else "",
            witnesses=self.witnesses(session),
            witnesses_required=rules.witness_cosignatures if rules else 0,
        )

    def export(self, session: Session, caller: str) -> Iterator[str]:
        """The self-contained archive of the ledger, line by line (authority only)."""
        self.directory.require_authority(session, caller)
        rules = self.rules
        return export_lines(
            session,
            origin=rules.origin if rules else "",
            witnesses=self.witnesses(session),
            witnesses_required=rules.witness_cosignatures if rules else 0,
            broker_key=self.verify_key,
        )

    def prove_inclusion(
        self, session: Session, caller: str, sequence: int, tree_size: int
    ) -> tuple[LedgerEntry, int, list[bytes], str]:
        """(entry, size, audit path, cosigned checkpoint note or '') — authority only, as the
        entry's contents are shown."""
        self.directory.require_authority(session, caller)
        entry = session.get(LedgerEntry, sequence)
        if entry is None:
            raise NotFound(f"no entry {sequence} (archived or not yet recorded)", field="sequence")
        if tree_size == 0:
            latest = chain.latest_checkpoint(session)
            if latest is None:
                raise InvalidArgument("no checkpoint signed yet; give a size", field="tree_size")
            tree_size = latest.size
        if tree_size < sequence:
            raise InvalidArgument(
                f"entry {sequence} is after size {tree_size}: not covered yet", field="tree_size"
            )
        try:
            proof = chain.prove_inclusion(session, sequence, tree_size)
        except ProofError as exc:
            raise InvalidArgument(str(exc), field="tree_size") from None
        return entry, tree_size, proof, self._note(session, tree_size)

    def prove_consistency(
        self, session: Session, caller: str, old_size: int, new_size: int
    ) -> tuple[list[bytes], str, str, bytes, bytes]:
        """(proof, old checkpoint note, new checkpoint note, old root, new root) for any
        registered department: only hashes and signed checkpoints are shown."""
        self.directory.require_registered(session, caller)
        if not 0 <= old_size <= new_size:
            raise InvalidArgument("must be between 0 and new_size", field="old_size")
        try:
            proof = chain.prove_consistency(session, old_size, new_size)
            old_root, new_root = chain.root_at(session, old_size), chain.root_at(session, new_size)
        except ProofError as exc:
            raise InvalidArgument(str(exc), field="new_size") from None
        return (
            proof,
            self._note(session, old_size),
            self._note(session, new_size),
            old_root,
            new_root,
        )

    @staticmethod
    def _note(session: Session, size: int) -> str:
        row = session.get(LedgerCheckpoint, size)
        return chain.cosigned_note(session, row) if row is not None else ""
