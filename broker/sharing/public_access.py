"""Public requesters (OPN-4, Art.43): a person or organisation found misusing open data has its
access suspended until it has corrected the misuse.

A public requester is named on the open-data requests filed for it (``requester``). The
authority suspends it citing the rule file's ground ``public_misuse`` (Art.43) with a reason; from
then on every open-data request naming it is refused (``PERMISSION_DENIED requester``, recorded
as a refusal), whoever files it. The authority reinstates it once it states what was corrected.
Both steps are ledger entries (``public_access.suspended``, ``public_access.reinstated``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.context import ContextService
from tongdao.broker.kernel.paging import Page
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.sharing.models import PublicAccessSuspension
from tongdao.policies.i18n import msg
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, PermissionDenied

GROUND = "public_misuse"


def requester_key(name: str) -> str:
    """A requester's name as compared: NFKC, case-folded, white space collapsed (so a full-width
    or differently spaced spelling names the same requester)."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


class PublicAccessMixin(ContextService):
    """Public requesters' access to open data (part of the sharing service)."""

    ledger: Ledger
    directory: DirectoryService

    def _public_rule(self) -> tuple[str, str]:
        rule = self.policy.grant_status.grounds[GROUND]
        return GROUND, rule.article

    def change_public_access(
        self, session: Session, caller: str, requester: str, change: str, reason: str
    ) -> PublicAccessSuspension:
        """Suspend (``reason``: the misuse) or reinstate (``reason``: what was corrected).

        Raises:
            PermissionDenied: the caller is not the authority.
            InvalidArgument: unknown change, empty requester or reason.
            FailedPrecondition: already suspended, or not suspended.
        """
        ground, article = self._public_rule()
        try:
            self.directory.require_authority(session, caller)
        except PermissionDenied:
            raise PermissionDenied(
                msg("only the authority suspends or reinstates a public requester"),
                field="requester",
                articles=(article,),
            ) from None
        if change not in ("suspend", "reinstate"):
            raise InvalidArgument(msg("must be suspend or reinstate"), field="change")
        requester = requester_key(v.text(requester, "requester", max_len=200))
        reason = v.text(reason, "reason", max_len=v.MAX_TEXT)
        row = session.get(PublicAccessSuspension, requester, with_for_update=True)
        suspended = row is not None and row.status == "suspended"
        if change == "suspend" and suspended:
            raise FailedPrecondition(msg("requester is already suspended"), field="requester")
        if change == "reinstate" and not suspended:
            raise FailedPrecondition(msg("requester is not suspended"), field="requester")
        now = self.now()
        if row is None:
            row = PublicAccessSuspension(requester=requester)
            session.add(row)
        row.status = "suspended" if change == "suspend" else "reinstated"
        row.ground, row.article, row.changed_by, row.changed_at = ground, article, caller, now
        if change == "suspend":
            row.reason, row.correction = reason, ""
        else:
            row.correction = reason
        session.flush()
        self.ledger.append(
            session,
            kind=f"public_access.{row.status}",
            actor=caller,
            subject=requester,
            payload={
                "ground": ground,
                "articles": [article],
                "reason": row.reason,
                "correction": row.correction,
            },
        )
        return row

    def check_public_access(self, session: Session, requester: str) -> None:
        """Refuse an open-data request naming a suspended requester.

        Raises:
            PermissionDenied: naming ``requester``, the reason and the article.
        """
        row = session.get(PublicAccessSuspension, requester_key(requester))
        if row is not None and row.status == "suspended":
            raise PermissionDenied(
                msg(
                    "requester's access to open data is suspended until the misuse "
                    "is corrected ({reason})",
                    reason=row.reason,
                ),
                field="requester",
                articles=(row.article,),
            )

    def public_access(
        self, session: Session, caller: str, page: Page | None = None
    ) -> Sequence[PublicAccessSuspension]:
        """Every public requester ever suspended, with its current status (the authority), by
        time of its latest change (one page of them with ``page``)."""
        self.directory.require_authority(session, caller)
        query = select(PublicAccessSuspension)
        if page is not None:
            return page.fetch(
                session, query, PublicAccessSuspension.changed_at, PublicAccessSuspension.requester
            )
        return session.execute(query.order_by(PublicAccessSuspension.changed_at)).scalars().all()
