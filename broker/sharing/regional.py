"""Regional delegation (SHR-4, Art.23) and return flow (SHR-7, Art.26).

* **Regional split**: a provider divides one of its published catalogue entries by region and
  names, for each region, the lower-level department that accepts the requests of the data users
  of that region. It files the split with the data authority at its own level (the directory's
  ``authority_of_region`` of the provider's region), which records it or refuses it with a reason.
  Once recorded, a conditional share request from a consumer inside a split region (and asking,
  if at all, only for regions inside it) goes to that delegate's inbox, on the conditional review
  clock with the delegate responsible; only the delegate decides it, and the grant names the
  delegate (signed) and carries the region. A request from outside every split region still goes
  to the provider.
* **Return flow**: an upper-level provider publishes a return-flow arrangement for one of its
  entries, naming for each territory (region code) the lower-level departments that get its data.
  Each gets a grant at once, with no extra conditions: no provider review, every data item of
  the entry, the rule file's methods, purpose, validity and quota, limited to its territory's
  region (the provider's node then serves only the records of that territory). Withdrawing the
  arrangement ends its grants as the rule file's ``[regional] on_withdrawal`` says.

Every step is a ledger entry citing its article. Part of
:class:`~tongdao.broker.sharing.service.SharingService`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongdao.broker.catalogue.models import CatalogueEntry
from tongdao.broker.catalogue.service import CatalogueService
from tongdao.broker.directory.models import Department
from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.context import AUTHORITY, ContextService
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.sharing.models import Grant, RegionalSplit, ReturnFlow, ShareRequest
from tongdao.policies.engine import in_regions
from tongdao.policies.i18n import msg
from tongdao.policies.regional import RegionalRules, is_lower
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

SPLIT_STATUSES = ("filed", "recorded", "refused", "superseded", "withdrawn")
FLOW_STATUSES = ("published", "withdrawn")
MAX_TERRITORIES = 200


@dataclass(frozen=True)
class Territory:
    """One region of a split or a return flow and the lower-level department it goes to."""

    region: str
    department: str


class RegionalMixin(ContextService):
    """Regional splits and return flows; part of the sharing service."""

    ledger: Ledger
    directory: DirectoryService
    catalogue: CatalogueService

    @property
    def regional_rules(self) -> RegionalRules:
        rules = self.policy.regional
        if rules is None:
            raise FailedPrecondition(
                msg(
                    "the rule file in force has no [regional] table: this broker records no "
                    "regional splits or return flows"
                )
            )
        return rules

    def _issue_grant(
        self, session: Session, request: ShareRequest, consumer: Department, return_flow: str = ""
    ) -> Grant:
        raise NotImplementedError  # SharingService's

    # ------------------------------------------------------------------ shared checks
    def _own_entry(self, session: Session, caller: str, entry_code: str) -> CatalogueEntry:
        entry = self.catalogue.find(session, v.entry_code(entry_code, "entry_code"))
        if entry is None or entry.current_version < 1:
            raise NotFound(
                msg("no published catalogue entry {entry_code!r}", entry_code=entry_code),
                field="entry_code",
            )
        if entry.provider != caller:
            raise PermissionDenied(msg("only the entry's provider may do this"), field="entry_code")
        if entry.status in ("sunset", "withdrawn"):
            raise FailedPrecondition(
                msg("entry is revoked ({status})", status=entry.status), field="entry_code"
            )
        return entry

    def _territories(
        self,
        session: Session,
        provider: Department,
        territories: Sequence[Territory],
        article: str,
        *,
        one_per_region: bool,
    ) -> list[dict[str, str]]:
        """Check each territory: a region inside the provider's and below it, a registered
        department of a lower level inside that region."""
        if not territories:
            raise InvalidArgument(
                msg("name at least one region and department"), field="territories"
            )
        if len(territories) > MAX_TERRITORIES:
            raise InvalidArgument(
                msg("at most {MAX_TERRITORIES}", MAX_TERRITORIES=MAX_TERRITORIES),
                field="territories",
            )
        out: list[dict[str, str]] = []
        seen: set[tuple[str, str]] = set()
        for t in territories:
            region = v.region(t.region, "territories.region")
            if region == provider.region or not in_regions(region, (provider.region,)):
                raise InvalidArgument(
                    msg(
                        "region {region} is not below the provider's region {v1}",
                        region=region,
                        v1=provider.region,
                    ),
                    field="territories.region",
                    articles=(article,),
                )
            dept = self.directory.department(session, t.department, "territories.department")
            if not is_lower(dept.level, provider.level):
                raise InvalidArgument(
                    msg(
                        "{code} ({level}) is not a lower-level department than the provider ({v1})",
                        code=dept.code,
                        level=dept.level,
                        v1=provider.level,
                    ),
                    field="territories.department",
                    articles=(article,),
                )
            if not in_regions(dept.region, (region,)):
                raise InvalidArgument(
                    msg(
                        "{code} (region {region}) is not a department of region {v1}",
                        code=dept.code,
                        region=dept.region,
                        v1=region,
                    ),
                    field="territories.department",
                    articles=(article,),
                )
            pair = (region, dept.code)
            if pair in seen or (one_per_region and any(r == region for r, _ in seen)):
                raise InvalidArgument(
                    msg("region {region} is named twice", region=region), field="territories"
                )
            seen.add(pair)
            out.append({"region": region, "department": dept.code})
        return out

    # ------------------------------------------------------------------ regional split (Art.23)
    def file_regional_split(
        self,
        session: Session,
        caller: str,
        entry_code: str,
        territories: Sequence[Territory],
        reason: str = "",
    ) -> RegionalSplit:
        """The provider files a split of its entry with the data authority at its level.

        Raises:
            PermissionDenied: not the entry's provider.
            InvalidArgument: a region or department that does not fit (names the field).
            FailedPrecondition: another split of the entry is already waiting to be recorded.
        """
        rules = self.regional_rules
        provider = self.directory.require_registered(session, caller)
        entry = self._own_entry(session, caller, entry_code)
        rows = self._territories(
            session, provider, territories, rules.delegation_article, one_per_region=True
        )
        waiting = session.execute(
            select(RegionalSplit.id).where(
                RegionalSplit.entry_code == entry.code, RegionalSplit.status == "filed"
            )
        ).first()
        if waiting is not None:
            raise FailedPrecondition(
                msg("split {v1} of this entry is still waiting to be recorded", v1=waiting[0]),
                field="entry_code",
            )
        reviewer = self.directory.authority_of_region(session, provider.region)
        if reviewer == caller:
            reviewer = AUTHORITY
        split = RegionalSplit(
            id=str(uuid.uuid4()),
            entry_code=entry.code,
            provider=caller,
            territories=rows,
            reason=v.text(reason, "reason", required=False),
            status="filed",
            reviewer=reviewer,
            decision_reason="",
            filed_at=self.now(),
        )
        session.add(split)
        session.flush()
        self._log_split(session, caller, split, "filed")
        return split

    def _log_split(self, session: Session, actor: str, split: RegionalSplit, step: str) -> None:
        self.ledger.append(
            session,
            kind=f"regional_split.{step}",
            actor=actor,
            subject=split.id,
            payload={
                "entry_code": split.entry_code,
                "provider": split.provider,
                "territories": split.territories,
                "reviewer": split.reviewer,
                "status": split.status,
                "reason": split.decision_reason if step != "filed" else split.reason,
                "articles": [self.regional_rules.delegation_article],
            },
        )

    def decide_regional_split(
        self, session: Session, caller: str, split_id: str, approve: bool, reason: str
    ) -> RegionalSplit:
        """The same-level data authority records the split (it then applies, replacing the
        entry's previous one) or refuses it, stating why.

        Raises:
            PermissionDenied: not the split's reviewer (nor the provincial authority).
            InvalidArgument: a refusal without a reason.
            FailedPrecondition: the split was already decided.
        """
        rules = self.regional_rules
        split = self.get_regional_split(session, caller, split_id)
        if caller not in (split.reviewer, AUTHORITY):
            raise PermissionDenied(
                msg(
                    "only the data authority {reviewer} records this split", reviewer=split.reviewer
                ),
                field="id",
                articles=(rules.delegation_article,),
            )
        if split.status != "filed":
            raise FailedPrecondition(
                msg("split is already {status}", status=split.status), field="id"
            )
        reason = v.text(reason, "reason", required=not approve)
        if approve:
            for older in session.execute(
                select(RegionalSplit).where(
                    RegionalSplit.entry_code == split.entry_code,
                    RegionalSplit.status == "recorded",
                )
            ).scalars():
                older.status = "superseded"
                older.decision_reason = f"superseded by {split.id}"
                self._log_split(session, caller, older, "superseded")
        split.status = "recorded" if approve else "refused"
        split.decision_reason = reason
        split.decided_at = self.now()
        self._log_split(session, caller, split, split.status)
        return split

    def withdraw_regional_split(
        self, session: Session, caller: str, split_id: str, reason: str
    ) -> RegionalSplit:
        """The provider withdraws a filed or recorded split: new requests go to it again.
        Requests already delegated stay with their delegate (the split applied when filed).

        Raises:
            PermissionDenied: not the split's provider.
            InvalidArgument: no reason.
            FailedPrecondition: the split is not filed or recorded.
        """
        rules = self.regional_rules
        split = self.get_regional_split(session, caller, split_id)
        if caller != split.provider:
            raise PermissionDenied(
                msg("only the entry's provider withdraws its split"),
                field="id",
                articles=(rules.delegation_article,),
            )
        if split.status not in ("filed", "recorded"):
            raise FailedPrecondition(
                msg("split is already {status}", status=split.status), field="id"
            )
        split.status = "withdrawn"
        split.decision_reason = v.text(reason, "reason")
        split.decided_at = self.now()
        self._log_split(session, caller, split, "withdrawn")
        return split

    def get_regional_split(self, session: Session, caller: str, split_id: str) -> RegionalSplit:
        """One split, to its provider, its reviewer, its delegates and any data authority."""
        split = session.get(RegionalSplit, v.identifier(split_id, "id"))
        if split is None or not self._sees_split(session, caller, split):
            raise NotFound(msg("no regional split {split_id!r}", split_id=split_id), field="id")
        return split

    def _sees_split(self, session: Session, caller: str, split: RegionalSplit) -> bool:
        if caller in (AUTHORITY, split.provider, split.reviewer):
            return True
        if any(t["department"] == caller for t in split.territories):
            return True
        dept = self.directory.find(session, caller)
        return dept is not None and dept.is_authority

    def list_regional_splits(
        self,
        session: Session,
        caller: str,
        *,
        entry_code: str = "",
        status: str = "",
        page_size: int = 0,
        page_token: str = "",
    ) -> tuple[list[RegionalSplit], str]:
        """One page of the splits the caller may see, oldest first, and the next page's token."""
        page = self.page("regional_splits", page_size, page_token)
        if status and status not in SPLIT_STATUSES:
            raise InvalidArgument(
                msg("must be one of {v1}", v1=", ".join(SPLIT_STATUSES)), field="status"
            )
        query = select(RegionalSplit).order_by(RegionalSplit.filed_at, RegionalSplit.id)
        if entry_code:
            query = query.where(RegionalSplit.entry_code == entry_code)
        if status:
            query = query.where(RegionalSplit.status == status)
        rows = [r for r in session.execute(query).scalars() if self._sees_split(session, caller, r)]
        found = page.take(rows, lambda r: (r.filed_at, r.id))
        return list(found), found.next_page_token

    def delegate_for(
        self, session: Session, entry_code: str, consumer: Department, regions: Sequence[str]
    ) -> tuple[str, str] | None:
        """(delegate, region) deciding a request of ``consumer`` for ``regions`` on the entry
        under its recorded split, or None (the provider decides)."""
        if self.policy.regional is None:
            return None
        split = session.execute(
            select(RegionalSplit).where(
                RegionalSplit.entry_code == entry_code, RegionalSplit.status == "recorded"
            )
        ).scalar_one_or_none()
        if split is None:
            return None
        for t in split.territories:
            scope = (t["region"],)
            if (
                in_regions(consumer.region, scope)
                and all(in_regions(r, scope) for r in regions)
                and t["department"] != consumer.code
            ):
                return t["department"], t["region"]
        return None

    # ------------------------------------------------------------------ return flow (Art.26)
    def publish_return_flow(
        self, session: Session, caller: str, entry_code: str, territories: Sequence[Territory]
    ) -> ReturnFlow:
        """The upper-level provider returns the entry's data to the lower-level departments of
        each territory: each gets a grant at once, limited to its territory.

        Raises:
            PermissionDenied: not the entry's provider.
            InvalidArgument: a territory or department that does not fit (names the field).
            FailedPrecondition: the entry already has a published arrangement.
        """
        rules = self.regional_rules
        provider = self.directory.require_registered(session, caller)
        entry = self._own_entry(session, caller, entry_code)
        rows = self._territories(
            session, provider, territories, rules.return_flow_article, one_per_region=False
        )
        if self.catalogue.published_content(session, entry)["share_type"] == "not_shared":
            raise FailedPrecondition(
                msg("the entry is not shared: its legal basis forbids sharing it, returned or not"),
                field="entry_code",
                articles=(self.policy.sharing.share_type_article,),
            )
        live = session.execute(
            select(ReturnFlow.id).where(
                ReturnFlow.entry_code == entry.code, ReturnFlow.status == "published"
            )
        ).first()
        if live is not None:
            raise FailedPrecondition(
                msg("return flow {v1} of this entry is published; withdraw it first", v1=live[0]),
                field="entry_code",
            )
        flow = ReturnFlow(
            id=str(uuid.uuid4()),
            entry_code=entry.code,
            provider=caller,
            territories=rows,
            grant_ids=[],
            status="published",
            published_at=self.now(),
            withdrawal_reason="",
        )
        session.add(flow)
        session.flush()
        items = sorted(self.catalogue.field_grades(session, entry.code, entry.current_version))
        decision = {
            "outcome": "approved",
            "articles": [rules.return_flow_article],
            "reason": "return flow by territory, without extra conditions",
            "rule": "regional.return_flow",
            "department": caller,
            "person": "",
        }
        self.ledger.append(
            session,
            kind="return_flow.published",
            actor=caller,
            subject=flow.id,
            payload={
                "entry_code": entry.code,
                "entry_version": entry.current_version,
                "territories": rows,
                "articles": [rules.return_flow_article],
            },
        )
        grant_ids: list[str] = []
        for t in rows:
            consumer = self.directory.department(session, t["department"])
            request = ShareRequest(
                id=str(uuid.uuid4()),
                consumer=consumer.code,
                provider=caller,
                entry_code=entry.code,
                entry_version=entry.current_version,
                fields=items,
                methods=list(rules.return_flow_methods),
                purpose=rules.return_flow_purpose,
                scenario=f"return flow {flow.id}",
                legal_basis=rules.return_flow_article,
                regions=[t["region"]],
                validity_days=rules.return_flow_validity_days,
                quota=rules.return_flow_quota,
                status="approved",
                decision=decision,
                created_at=self.now(),
                decided_at=self.now(),
            )
            session.add(request)
            session.flush()
            grant_ids.append(self._issue_grant(session, request, consumer, flow.id).id)
        flow.grant_ids = grant_ids
        return flow

    def withdraw_return_flow(
        self, session: Session, caller: str, flow_id: str, reason: str
    ) -> ReturnFlow:
        """The provider (or the provincial authority) withdraws the arrangement; its grants end
        as ``[regional] on_withdrawal`` says.

        Raises:
            PermissionDenied: not its provider.
            InvalidArgument: no reason.
            FailedPrecondition: already withdrawn.
        """
        rules = self.regional_rules
        flow = self.get_return_flow(session, caller, flow_id)
        if caller not in (flow.provider, AUTHORITY):
            raise PermissionDenied(
                msg("only the entry's provider withdraws its return flow"),
                field="id",
                articles=(rules.return_flow_article,),
            )
        if flow.status != "published":
            raise FailedPrecondition(
                msg("return flow is already {status}", status=flow.status), field="id"
            )
        reason = v.text(reason, "reason")
        flow.status = "withdrawn"
        flow.withdrawn_at = self.now()
        flow.withdrawal_reason = reason
        ended: list[str] = []
        if rules.on_withdrawal == "terminate":
            for grant_id in flow.grant_ids:
                grant = session.get(Grant, grant_id)
                if grant is not None and grant.status != "terminated":
                    self.change_grant_status(  # type: ignore[attr-defined]
                        session,
                        caller,
                        grant_id,
                        "terminate",
                        rules.withdrawal_ground,
                        reason,
                        on_behalf_of_rules=True,
                    )
                    ended.append(grant_id)
        self.ledger.append(
            session,
            kind="return_flow.withdrawn",
            actor=caller,
            subject=flow.id,
            payload={
                "entry_code": flow.entry_code,
                "reason": reason,
                "on_withdrawal": rules.on_withdrawal,
                "grants_ended": ended,
                "articles": [rules.return_flow_article],
            },
        )
        return flow

    def _sees_flow(self, session: Session, caller: str, flow: ReturnFlow) -> bool:
        if caller in (AUTHORITY, flow.provider):
            return True
        if any(t["department"] == caller for t in flow.territories):
            return True
        dept = self.directory.find(session, caller)
        return dept is not None and dept.is_authority

    def get_return_flow(self, session: Session, caller: str, flow_id: str) -> ReturnFlow:
        """One arrangement, to its provider, its departments and any data authority."""
        flow = session.get(ReturnFlow, v.identifier(flow_id, "id"))
        if flow is None or not self._sees_flow(session, caller, flow):
            raise NotFound(msg("no return flow {flow_id!r}", flow_id=flow_id), field="id")
        return flow

    def list_return_flows(
        self,
        session: Session,
        caller: str,
        *,
        entry_code: str = "",
        status: str = "",
        page_size: int = 0,
        page_token: str = "",
    ) -> tuple[list[ReturnFlow], str]:
        """One page of the arrangements the caller may see, oldest first, and the next token."""
        page = self.page("return_flows", page_size, page_token)
        if status and status not in FLOW_STATUSES:
            raise InvalidArgument(
                msg("must be one of {v1}", v1=", ".join(FLOW_STATUSES)), field="status"
            )
        query = select(ReturnFlow).order_by(ReturnFlow.published_at, ReturnFlow.id)
        if entry_code:
            query = query.where(ReturnFlow.entry_code == entry_code)
        if status:
            query = query.where(ReturnFlow.status == status)
        rows = [r for r in session.execute(query).scalars() if self._sees_flow(session, caller, r)]
        found = page.take(rows, lambda r: (r.published_at, r.id))
        return list(found), found.next_page_token
