"""Usage records (SHR-9, Art.28): the consumer records, per grant, the scenario, the outcome,
the process, the storage and the destruction of the data it received; the broker keeps each
record for ``periods.usage_record_retention`` and refuses to purge it earlier. A provider sees
every use of its own entries — the consumers' records and each relayed call in the ledger — and
only of its own.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.context import SHANGHAI, ContextService
from tongdao.broker.kernel.paging import Page
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.sharing.models import Grant, UsageRecord
from tongdao.policies.i18n import msg
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

CALL_KINDS = ("query.relayed", "query.failed", "query.bad_receipt")
USAGE_FIELDS = ("scenario", "outcome", "process", "storage", "destruction")


@dataclass(frozen=True)
class UsageData:
    """What a consumer records about one use of a grant's data (Art.28)."""

    scenario: str
    outcome: str
    process: str
    storage: str
    destruction: str


@dataclass(frozen=True)
class RelayedCall:
    """One relayed call on a grant, as the ledger recorded it (never contents)."""

    sequence: int
    recorded_at: str
    kind: str
    grant_id: str
    consumer: str
    method: str
    fields: tuple[str, ...]


class UsageMixin(ContextService):
    """Usage records; part of :class:`~tongdao.broker.sharing.service.SharingService`."""

    ledger: Ledger
    directory: DirectoryService

    def record_usage(
        self, session: Session, caller: str, grant_id: str, data: UsageData
    ) -> UsageRecord:
        """The grant's consumer records a use (all five parts are required; Art.28).

        Raises:
            PermissionDenied: not the grant's consumer. InvalidArgument: a part is empty.
        """
        grant = session.get(Grant, v.identifier(grant_id, "grant_id"))
        if grant is None:
            raise NotFound(msg("no grant {grant_id!r}", grant_id=grant_id), field="grant_id")
        rule = self.policy.period("usage_record_retention")
        if caller != grant.consumer:
            raise PermissionDenied(
                msg("only the grant's consumer records its use"),
                field="grant_id",
                articles=(rule.article,),
            )
        values = {
            name: v.text(getattr(data, name), f"usage.{name}", max_len=v.MAX_TEXT)
            for name in USAGE_FIELDS
        }
        now = self.now()
        record = UsageRecord(
            grant_id=grant.id,
            consumer=grant.consumer,
            provider=grant.provider,
            entry_code=grant.entry_code,
            recorded_at=now,
            retain_until=rule.add_to(now.astimezone(SHANGHAI).date()),
            sequence=0,
            **values,
        )
        entry = self.ledger.append(
            session,
            kind="usage.recorded",
            actor=caller,
            subject=grant.id,
            payload={
                **values,
                "entry_code": grant.entry_code,
                "retain_until": record.retain_until.isoformat(),
                "articles": [rule.article],
            },
        )
        record.sequence = entry.sequence
        session.add(record)
        session.flush()
        return record

    def usage_records(
        self,
        session: Session,
        caller: str,
        role: str,
        *,
        entry_code: str = "",
        grant_id: str = "",
        after: int = 0,
        limit: int | None = None,
    ) -> Sequence[UsageRecord]:
        """The caller's own records (``role="consumer"``) or every record on its entries
        (``role="provider"``), by id: after id ``after``, at most ``limit``."""
        self.directory.require_registered(session, caller)
        if role not in ("consumer", "provider"):
            raise InvalidArgument(msg("must be 'provider' or 'consumer'"), field="role")
        column = UsageRecord.provider if role == "provider" else UsageRecord.consumer
        query = (
            select(UsageRecord)
            .where(column == caller, UsageRecord.id > after)
            .order_by(UsageRecord.id)
            .limit(limit)
        )
        if entry_code:
            query = query.where(UsageRecord.entry_code == entry_code)
        if grant_id:
            query = query.where(UsageRecord.grant_id == grant_id)
        return session.execute(query).scalars().all()

    def relayed_calls(
        self,
        session: Session,
        caller: str,
        *,
        entry_code: str = "",
        grant_id: str = "",
        after: int = 0,
        limit: int | None = None,
    ) -> list[RelayedCall]:
        """Every relayed call on the grants of the caller's own entries (the provider's view),
        in ledger order: after sequence ``after``, at most ``limit``."""
        self.directory.require_registered(session, caller)
        query = select(Grant).where(Grant.provider == caller)
        if entry_code:
            query = query.where(Grant.entry_code == entry_code)
        if grant_id:
            query = query.where(Grant.id == grant_id)
        grants = {g.id: g for g in session.execute(query).scalars()}
        out: list[RelayedCall] = []
        for entry in self.ledger.entries(session, CALL_KINDS, after=after):
            if limit is not None and len(out) == limit:
                break
            grant = grants.get(entry.subject)
            if grant is None:
                continue
            payload = json.loads(entry.payload_json)
            out.append(
                RelayedCall(
                    entry.sequence,
                    entry.recorded_at,
                    entry.kind,
                    grant.id,
                    grant.consumer,
                    str(payload.get("method", "")),
                    tuple(payload.get("fields", ())),
                )
            )
        return out

    def usage_page(
        self,
        session: Session,
        caller: str,
        role: str,
        page: Page,
        *,
        entry_code: str = "",
        grant_id: str = "",
    ) -> tuple[Sequence[UsageRecord], list[RelayedCall], str]:
        """One page of :meth:`usage_records` and (for ``role="provider"``) of
        :meth:`relayed_calls`: up to ``page.size`` of each after the page's cursor, and the
        next page's token ("" when neither list has more)."""
        after_record, after_call = page.after or (0, 0)
        if not (isinstance(after_record, int) and isinstance(after_call, int)):
            raise InvalidArgument(msg("is not a page token of this list"), field="page_token")
        filters = {"entry_code": entry_code, "grant_id": grant_id}
        more = page.size + 1
        records = self.usage_records(
            session, caller, role, **filters, after=after_record, limit=more
        )
        calls = (
            self.relayed_calls(session, caller, **filters, after=after_call, limit=more)
            if role == "provider"
            else []
        )
        more_records, more_calls = len(records) > page.size, len(calls) > page.size
        records, calls = records[: page.size], calls[: page.size]
        if not (more_records or more_calls):
            return records, calls, ""
        # a list with nothing more continues after the last possible key (it stays empty)
        last_record = records[-1].id if more_records else v.ROW_ID_MAX
        last_call = calls[-1].sequence if more_calls else v.ROW_ID_MAX
        return records, calls, page.pager.token(page.kind, (last_record, last_call))

    def purge_usage_records(self, session: Session, caller: str, before: dt.date) -> int:
        """The authority deletes the records recorded before ``before`` — refused while any of
        them is within its retention period (Art.28). Returns how many were deleted.

        Raises:
            PermissionDenied: not the authority. FailedPrecondition: a record is still kept.
        """
        self.directory.require_authority(session, caller)
        rule = self.policy.period("usage_record_retention")
        cutoff = dt.datetime.combine(before, dt.time(), tzinfo=SHANGHAI)
        rows = (
            session.execute(select(UsageRecord).where(UsageRecord.recorded_at < cutoff))
            .scalars()
            .all()
        )
        today = self.today()
        kept = [r for r in rows if r.retain_until > today]
        if kept:
            raise FailedPrecondition(
                msg(
                    "usage record {id} must be kept until {retain_until}; nothing purged",
                    id=kept[0].id,
                    retain_until=kept[0].retain_until,
                ),
                field="before",
                articles=(rule.article,),
            )
        for row in rows:
            session.delete(row)
        self.ledger.append(
            session,
            kind="usage.purged",
            actor=caller,
            subject=before.isoformat(),
            payload={"records": [r.id for r in rows], "articles": [rule.article]},
        )
        return len(rows)

    def usage_counts(
        self, session: Session, start: dt.datetime, end: dt.datetime
    ) -> dict[str, int]:
        """The supervision port for the daily reconciliation: grant id → usage records filed in
        ``[start, end)``."""
        rows = session.execute(
            select(UsageRecord.grant_id, func.count())
            .where(UsageRecord.recorded_at >= start, UsageRecord.recorded_at < end)
            .group_by(UsageRecord.grant_id)
        )
        return {grant_id: int(n) for grant_id, n in rows}
