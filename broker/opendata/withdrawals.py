"""Withdrawing open data (OPN-3, Art.35): the provider asks, the same-level data authority
reviews, the approval is filed with the provincial data authority and announced, with its
date, on the public listener; from then on the entry's open data is neither downloaded nor
requested, and every refusal cites the announcement.

The same-level authority is the data authority of the provider's region (the broker's
operator, the provincial authority, where none is registered). Each step is a ledger entry
(``open_data.withdrawal_requested``, ``open_data.withdrawal_decided``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongdao.broker.catalogue.service import CatalogueService
from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.context import AUTHORITY, ContextService
from tongdao.broker.kernel.paging import Page
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.opendata.models import OpenDataWithdrawal
from tongdao.policies.i18n import msg
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

PENDING, WITHDRAWN, REFUSED = "pending", "withdrawn", "refused"


@dataclass(kw_only=True)
class OpenDataWithdrawals(ContextService):
    """Withdrawals of open data and their announcements."""

    ledger: Ledger
    directory: DirectoryService
    catalogue: CatalogueService

    def _article(self) -> str:
        rules = self.policy.open_data
        return rules.withdrawal_article if rules else "Art.35"

    def request(
        self, session: Session, caller: str, entry_code: str, reason: str
    ) -> OpenDataWithdrawal:
        """The provider asks to withdraw an entry's open data.

        Raises:
            NotFound: no published entry. PermissionDenied: not its provider.
            FailedPrecondition: the entry is not open, or a withdrawal is pending or done.
        """
        entry = self.catalogue.find(session, v.entry_code(entry_code, "entry_code"))
        if entry is None or entry.current_version < 1:
            raise NotFound(
                msg("no published catalogue entry {entry_code!r}", entry_code=entry_code),
                field="entry_code",
            )
        if entry.provider != caller:
            raise PermissionDenied(msg("only the entry's provider asks to withdraw its open data"))
        content = self.catalogue.published_content(session, entry)
        if content.get("open_type", "not_open") == "not_open":
            raise FailedPrecondition(
                msg("entry {code} is not open", code=entry.code), field="entry_code"
            )
        reason = v.text(reason, "reason")
        current = self._current(session, entry.code)
        if current is not None:
            raise FailedPrecondition(
                msg(
                    "a withdrawal of entry {code} is already {status} ({id})",
                    code=entry.code,
                    status=current.status,
                    id=current.id,
                ),
                field="entry_code",
            )
        provider = self.directory.department(session, caller)
        reviewer = self.directory.authority_of_region(session, provider.region)
        if reviewer == caller:  # the provider is its region's authority: the province reviews
            reviewer = AUTHORITY
        row = OpenDataWithdrawal(
            id=str(uuid.uuid4()),
            entry_code=entry.code,
            entry_name=str(content.get("name", "")),
            provider=caller,
            reason=reason,
            status=PENDING,
            requested_by=caller,
            requested_at=self.now(),
            reviewer=reviewer,
            decided_by="",
            comment="",
            filed_with="",
            article=self._article(),
        )
        session.add(row)
        session.flush()
        self.ledger.append(
            session,
            kind="open_data.withdrawal_requested",
            actor=caller,
            subject=row.id,
            payload={
                "entry_code": entry.code,
                "reason": reason,
                "reviewer": reviewer,
                "articles": [row.article],
            },
        )
        return row

    def decide(
        self, session: Session, caller: str, withdrawal_id: str, approve: bool, comment: str
    ) -> OpenDataWithdrawal:
        """The same-level authority approves (then filed and announced) or refuses (a reason).

        Raises:
            PermissionDenied: not its reviewer. FailedPrecondition: already decided.
            InvalidArgument: a refusal without a comment.
        """
        row = self.get(session, caller, withdrawal_id)
        if caller != row.reviewer:
            raise PermissionDenied(
                msg(
                    "the same-level data authority ({reviewer}) reviews this withdrawal",
                    reviewer=row.reviewer,
                ),
                field="id",
                articles=(row.article,),
            )
        if row.status != PENDING:
            raise FailedPrecondition(
                msg("withdrawal is already {status}", status=row.status), field="id"
            )
        comment = v.text(comment, "comment", required=not approve)
        now = self.now()
        row.decided_by, row.decided_at, row.comment = caller, now, comment
        if approve:
            row.status = WITHDRAWN
            row.filed_with, row.filed_at = AUTHORITY, now  # 报省级政务数据主管部门备案
            row.announced_on = self.today()  # 通过数据开放平台进行公告
        else:
            row.status = REFUSED
        session.flush()
        self.ledger.append(
            session,
            kind="open_data.withdrawal_decided",
            actor=caller,
            subject=row.id,
            payload={
                "entry_code": row.entry_code,
                "status": row.status,
                "comment": comment,
                "filed_with": row.filed_with,
                "announced_on": row.announced_on.isoformat() if row.announced_on else "",
                "articles": [row.article],
            },
        )
        return row

    def get(self, session: Session, caller: str, withdrawal_id: str) -> OpenDataWithdrawal:
        row = session.get(OpenDataWithdrawal, v.identifier(withdrawal_id, "id"))
        if row is None or caller not in (row.provider, row.reviewer, AUTHORITY):
            raise NotFound(
                msg("no withdrawal {withdrawal_id!r}", withdrawal_id=withdrawal_id), field="id"
            )
        return row

    def _current(self, session: Session, entry_code: str) -> OpenDataWithdrawal | None:
        query = select(OpenDataWithdrawal).where(
            OpenDataWithdrawal.entry_code == entry_code,
            OpenDataWithdrawal.status.in_((PENDING, WITHDRAWN)),
        )
        return session.execute(query.limit(1)).scalar_one_or_none()

    def list(
        self, session: Session, caller: str, status: str, page: Page
    ) -> Sequence[OpenDataWithdrawal]:
        """What the caller asked for (provider) or reviews (authority), oldest first."""
        if status and status not in (PENDING, WITHDRAWN, REFUSED):
            raise InvalidArgument(msg("must be pending, withdrawn or refused"), field="status")
        w = OpenDataWithdrawal
        query = select(w)
        if caller != AUTHORITY:
            query = query.where((w.provider == caller) | (w.reviewer == caller))
        if status:
            query = query.where(w.status == status)
        return page.fetch(session, query, w.requested_at, w.id)

    def announcements(self, session: Session, page: Page) -> Sequence[OpenDataWithdrawal]:
        """The announced withdrawals, oldest first (anyone, on the public listener)."""
        w = OpenDataWithdrawal
        query = select(w).where(w.status == WITHDRAWN)
        return page.fetch(session, query, w.decided_at, w.id)

    def withdrawn_entries(self, session: Session) -> frozenset[str]:
        """The entries whose open data was withdrawn (the open catalogue leaves them out)."""
        w = OpenDataWithdrawal
        query = select(w.entry_code).where(w.status == WITHDRAWN)
        return frozenset(session.execute(query).scalars())

    def check_not_withdrawn(self, session: Session, entry_code: str) -> None:
        """Refuse use of an entry whose open data was withdrawn, citing the announcement.

        Raises:
            PermissionDenied: naming the announcement's date and id, and Art.35.
        """
        row = self._current(session, entry_code)
        if row is not None and row.status == WITHDRAWN and row.announced_on is not None:
            raise PermissionDenied(
                msg(
                    "the open data of entry {entry_code} was withdrawn: announced on {v1} "
                    "(withdrawal {id}: {reason})",
                    entry_code=entry_code,
                    v1=row.announced_on.isoformat(),
                    id=row.id,
                    reason=row.reason,
                ),
                field="entry_code",
                articles=(row.article,),
            )
