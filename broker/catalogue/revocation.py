"""Revocation of catalogue entries (CAT-7, Art.16): requested by the provider, decided by the
reviewing authority; an entry in use is served until its sunset date, then withdrawn."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongdao.broker.catalogue.base import CatalogueBase
from tongdao.broker.catalogue.models import CatalogueEntry
from tongdao.broker.catalogue.search_index import (
    remove_search_row,
    set_search_status,
)
from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.context import add_months
from tongdao.policies.i18n import msg
from tongdao.proto.errors import (
    FailedPrecondition,
    PermissionDenied,
)


class CatalogueRevocation(CatalogueBase):
    """Revocation requests, decisions and withdrawal of due entries."""

    def request_revocation(
        self, session: Session, caller: str, code: str, reason: str
    ) -> CatalogueEntry:
        """The provider asks to revoke a published entry; the authority reviews it (Art.16).

        Raises:
            PermissionDenied: the caller is not the provider.
            FailedPrecondition: the entry is not published (or is mid-review).
        """
        entry = self._entry(session, code)
        if entry.provider != caller:
            raise PermissionDenied(
                msg("only the entry's provider may ask to revoke it"), field="code"
            )
        if entry.status != "published":
            raise FailedPrecondition(
                msg("entry is {status}; only a published entry is revoked", status=entry.status),
                field="code",
            )
        entry.revocation_reason = v.text(reason, "reason")
        entry.reviewer = self.directory.reviewer_for(
            session, self.directory.department(session, entry.provider)
        )
        entry.status = "revoking"
        entry.updated_at = self.now()
        set_search_status(session, code, "revoking")
        article = self.policy.period("revocation_grace").article
        self.ledger.append(
            session,
            kind="catalogue_entry.revocation_requested",
            actor=caller,
            subject=code,
            payload={"reason": entry.revocation_reason, "articles": [article]},
        )
        return entry

    def decide_revocation(
        self, session: Session, caller: str, code: str, approve: bool, comment: str
    ) -> CatalogueEntry:
        """The reviewing authority approves or refuses a revocation (Art.16).

        Approved and in use (active, unexpired grants): the entry is served for the policy's
        grace period (6 months) and shows its sunset date; then it is withdrawn. Approved and
        unused: withdrawn at once. Refused: published again.
        """
        entry = self._entry(session, code)
        self._require_reviewer(session, caller, entry)
        if entry.status != "revoking":
            raise FailedPrecondition(
                msg("entry is {status}, not up for revocation", status=entry.status), field="code"
            )
        comment = v.text(comment, "comment", required=False)
        grace = self.policy.period("revocation_grace")
        now = self.now()
        in_use = self.grants_in_use(session, code, now)
        if not approve:
            entry.status = "published"
            set_search_status(session, code, "in_force")
        elif in_use:
            entry.status = "sunset"
            entry.sunset_on = add_months(self.today(), grace.months or 0)
            set_search_status(session, code, "sunset", entry.sunset_on)
        else:
            entry.status = "withdrawn"
            entry.sunset_on = self.today()
            remove_search_row(session, code)
        entry.updated_at = now
        self.ledger.append(
            session,
            kind="catalogue_entry.revocation_decided",
            actor=caller,
            subject=code,
            payload={
                "approved": approve,
                "comment": comment,
                "grants_in_use": in_use,
                "status": entry.status,
                "sunset_on": entry.sunset_on.isoformat() if entry.sunset_on else None,
                "articles": [grace.article],
            },
        )
        return entry

    def withdraw_due_entries(self, session: Session, caller: str) -> list[str]:
        """Withdraw revoked entries whose sunset date has passed (Art.16); returns their codes.

        Relaying, search and the open catalogue already treat such entries as withdrawn; this
        records the withdrawal in the store and the ledger.
        """
        self.directory.require_authority(session, caller)
        due = session.execute(
            select(CatalogueEntry).where(
                CatalogueEntry.status == "sunset", CatalogueEntry.sunset_on < self.today()
            )
        ).scalars()
        codes = []
        for entry in due:
            entry.status = "withdrawn"
            remove_search_row(session, entry.code)
            self.ledger.append(
                session,
                kind="catalogue_entry.withdrawn",
                actor=caller,
                subject=entry.code,
                payload={"articles": [self.policy.period("revocation_grace").article]},
            )
            codes.append(entry.code)
        return codes
