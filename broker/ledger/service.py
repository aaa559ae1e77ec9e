"""Ledger context: reading, proving, exporting and verifying the ledger (PRIV-7).

Every context appends through :class:`tongdao.broker.ledger.chain.Ledger`; this service serves
pages of it and its export to the authority, inclusion and consistency proofs, and verifies every
entry, the Merkle tree, the checkpoints and their witnesses' cosignatures. Plain Python over a
caller-owned session.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.kernel.paging import Page, Paged
from tongdao.broker.ledger import chain
from tongdao.broker.ledger.chain import Ledger, Verification, read_head, verify_ledger
from tongdao.broker.ledger.export import entries_after, entry_line, header_lines
from tongdao.broker.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerHead
from tongdao.crypto.errors import ProofError
from tongdao.crypto.signing import VerifyKey
from tongdao.policies.i18n import msg
from tongdao.policies.model import LedgerRules
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, NotFound


@dataclass(kw_only=True)
class LedgerService:
    """Pages, export and proofs of the ledger; verification for anyone."""

    chain: Ledger
    directory: DirectoryService
    verify_key: VerifyKey
    rules: LedgerRules | None = None

    def pages(self, size: int, token: str, *, kind: str = "ledger") -> Page:
        """The page of the ledger (or of its export) a caller asks for (``[limits]
        ledger_page_size`` / ``ledger_page_max``)."""
        return self.directory.page(kind, size, token, pages="ledger")

    def page(
        self, session: Session, caller: str, from_sequence: int, page: Page | int
    ) -> tuple[Paged[LedgerEntry], LedgerHead]:
        """One page of entries from ``from_sequence`` on (the first page) or after the page's
        cursor, by sequence, and the signed head (authority only). An integer ``page`` is the
        first page of that size."""
        self.directory.require_authority(session, caller)
        if isinstance(page, int):
            page = self.pages(page, "")
        query = select(LedgerEntry).where(LedgerEntry.sequence >= max(from_sequence, 1))
        return page.fetch(session, query, LedgerEntry.sequence), read_head(session)

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

    def export(self, session: Session, caller: str, page: Page) -> Iterator[tuple[str, str]]:
        """One call's part of the self-contained archive of the ledger (authority only), as
        (line, next page token) pairs: the token is on the last line when more entries follow.

        The first page is the header, the checkpoints and the first entries; each next page
        continues the same export (the head it was taken at) with entry lines only, so the
        pages written one after another are one export (docs/ledger.md).

        Raises:
            FailedPrecondition: (``page_token``) entries of this export were archived since
                its first page.
        """
        self.directory.require_authority(session, caller)
        rules = self.rules
        stored_from = chain.archived_up_to(session)
        if page.after is None:
            after, last = stored_from, read_head(session).length
            yield from (
                (line, "")
                for line in header_lines(
                    session,
                    origin=rules.origin if rules else "",
                    witnesses=self.witnesses(session),
                    witnesses_required=rules.witness_cosignatures if rules else 0,
                    broker_key=self.verify_key,
                    last=last,
                )
            )
        else:
            after, last = (int(value) for value in page.after)
            if after < stored_from:
                raise FailedPrecondition(
                    msg("entries of this export were archived since its first page; export again"),
                    field="page_token",
                )
        rows = page.split(
            entries_after(session, after, last, page.size + 1), lambda e: (e.sequence, last)
        )
        for number, entry in enumerate(rows, start=1):
            yield entry_line(entry), rows.next_page_token if number == len(rows) else ""

    def prove_inclusion(
        self, session: Session, caller: str, sequence: int, tree_size: int
    ) -> tuple[LedgerEntry, int, list[bytes], str]:
        """(entry, size, audit path, cosigned checkpoint note or '') — authority only, as the
        entry's contents are shown."""
        self.directory.require_authority(session, caller)
        entry = session.get(LedgerEntry, sequence)
        if entry is None:
            raise NotFound(
                msg("no entry {sequence} (archived or not yet recorded)", sequence=sequence),
                field="sequence",
            )
        if tree_size == 0:
            latest = chain.latest_checkpoint(session)
            if latest is None:
                raise InvalidArgument(
                    msg("no checkpoint signed yet; give a size"), field="tree_size"
                )
            tree_size = latest.size
        if tree_size < sequence:
            raise InvalidArgument(
                msg(
                    "entry {sequence} is after size {tree_size}: not covered yet",
                    sequence=sequence,
                    tree_size=tree_size,
                ),
                field="tree_size",
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
            raise InvalidArgument(msg("must be between 0 and new_size"), field="old_size")
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
