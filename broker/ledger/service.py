"""Ledger context: reading and verifying the hash-chained ledger (PRIV-7).

Every context appends through :class:`tongdao.broker.ledger.chain.Ledger`; this service serves
pages of it to the authority and verifies the chain. Plain Python over a caller-owned session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.ledger.chain import Ledger, Verification, read_head, verify_ledger
from tongdao.broker.ledger.models import LedgerEntry, LedgerHead
from tongdao.crypto.signing import VerifyKey


@dataclass(kw_only=True)
class LedgerService:
    """Pages of the ledger for the authority, and verification of the chain for anyone."""

    chain: Ledger
    directory: DirectoryService
    verify_key: VerifyKey

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

    def verify(self, session: Session) -> Verification:
        """Recompute the chain and check the head's signature by the broker's key."""
        return verify_ledger(session, self.verify_key)
