"""Sharing context: share requests, decisions and grants (SHR-1, SHR-2).

Every decision goes through the policy engine and is appended to the ledger with the article
it applied. Plain Python over a caller-owned session; no gRPC."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongdao.broker.catalogue.service import CatalogueService
from tongdao.broker.directory.models import Department
from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.context import AUTHORITY, SHANGHAI, decision_dict
from tongdao.broker.kernel.db import in_chunks
from tongdao.broker.kernel.paging import Page
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.sharing.changes import GrantChangeMixin
from tongdao.broker.sharing.grant_use import GrantUseMixin
from tongdao.broker.sharing.models import Grant, ServiceRequest, ShareRequest
from tongdao.broker.sharing.public_access import PublicAccessMixin
from tongdao.broker.sharing.regional import RegionalMixin
from tongdao.broker.sharing.status import GrantStatusMixin
from tongdao.broker.sharing.usage import UsageMixin
from tongdao.broker.supervision.findings import GrantView
from tongdao.broker.supervision.models import Deadline
from tongdao.broker.supervision.service import SupervisionService
from tongdao.crypto.grant_token import GrantClaims, b64url_encode, issue_grant_token
from tongdao.crypto.signing import SigningKey
from tongdao.policies.engine import (
    PENDING_AUTHORITY,
    DepartmentFacts,
    EntryFacts,
    ShareRequestFacts,
    decide_authority_review,
    decide_provider_review,
    decide_share_request,
    in_regions,
)
from tongdao.policies.i18n import msg
from tongdao.proto.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)

AUTHORITY_REVIEW = "unconditional_share_review"
"""The clock of the data authority's review where an operator performs it (Art.22(1))."""
VIEW_COLUMNS = (
    Grant.id,
    Grant.consumer,
    Grant.provider,
    Grant.status,
    Grant.issued_at,
    Grant.last_used_at,
)
"""What supervision reads of a grant (a :class:`GrantView`), as columns, not ORM objects."""

METHODS = ("fetch", "verify", "intersection", "intersection_size", "intersection_sum", "aggregate")


@dataclass(frozen=True)
class ShareRequestData:
    """What a consumer asks for (SHR-1)."""

    entry_code: str
    fields: tuple[str, ...]
    methods: tuple[str, ...]
    purpose: str
    scenario: str
    legal_basis: str
    regions: tuple[str, ...] = ()
    validity_days: int = 0
    quota: int = 0
    dp_epsilon: float = 0.0
    dp_budget: float = 0.0


@dataclass(kw_only=True)
class SharingService(
    GrantUseMixin, GrantStatusMixin, UsageMixin, GrantChangeMixin, PublicAccessMixin, RegionalMixin
):
    """Share requests and grants; the relay reads grants only through this service."""

    ledger: Ledger
    directory: DirectoryService
    catalogue: CatalogueService
    supervision: SupervisionService
    signing_key: SigningKey
    status_tickets: dict[tuple[str, str], tuple[int, str]] = field(
        default_factory=dict, init=False, repr=False
    )

    def file_share_request(
        self, session: Session, caller: str, data: ShareRequestData
    ) -> ShareRequest:
        """File a share request and decide it by the entry's share type (SHR-2).

        Unconditional entries are approved by the automatic compliance check; conditional ones go
        to the provider's inbox with a working-day clock; not-shared ones are refused citing the
        entry's legal basis. Refusals are recorded, not raised: the caller gets the decision.
        """
        consumer = self.directory.require_registered(session, caller)
        v.entry_code(data.entry_code, "request.entry_code")
        entry = self.catalogue.find(session, data.entry_code)
        if entry is None:
            raise NotFound(
                msg("no catalogue entry {entry_code!r}", entry_code=data.entry_code),
                field="request.entry_code",
            )
        if entry.current_version < 1:
            raise FailedPrecondition(msg("entry is not published"), field="request.entry_code")
        if entry.status in ("sunset", "withdrawn"):
            raise FailedPrecondition(
                msg("entry is revoked ({status}); no new share requests", status=entry.status),
                field="request.entry_code",
                articles=(self.policy.period("revocation_grace").article,),
            )
        v.field_names(data.fields, "request.fields")
        if not data.methods:
            raise InvalidArgument(msg("must name at least one method"), field="request.methods")
        for method in data.methods:
            if method not in METHODS:
                raise InvalidArgument(
                    msg("unknown method {method!r}", method=method), field="request.methods"
                )
        purpose = v.text(data.purpose, "request.purpose", max_len=500)
        scenario = v.text(data.scenario, "request.scenario", max_len=v.MAX_TEXT)
        legal_basis = v.text(data.legal_basis, "request.legal_basis", max_len=v.MAX_TEXT)
        regions = v.regions(data.regions, "request.regions")
        validity = data.validity_days or self.settings.default_validity_days
        v.bounded_int(
            validity, "request.requested_validity_days", low=1, high=self.settings.max_validity_days
        )
        quota = data.quota or self.settings.default_quota
        v.bounded_int(quota, "request.requested_quota", low=1, high=self.settings.max_quota)
        privacy = self.policy.privacy
        if not 0 <= data.dp_epsilon <= privacy.max_dp_epsilon:
            raise InvalidArgument(
                msg(
                    "must be between 0 and {max_dp_epsilon}", max_dp_epsilon=privacy.max_dp_epsilon
                ),
                field="request.dp_epsilon",
                articles=(privacy.article,),
            )
        if not 0 <= data.dp_budget <= privacy.max_dp_budget or data.dp_budget < data.dp_epsilon:
            raise InvalidArgument(
                msg(
                    "must be between dp_epsilon and {max_dp_budget}",
                    max_dp_budget=privacy.max_dp_budget,
                ),
                field="request.dp_budget",
                articles=(privacy.article,),
            )

        content = self.catalogue.published_content(session, entry)
        scope = tuple(content.get("share_scope_regions") or ())
        outside = [r for r in regions if scope and not in_regions(r, scope)]
        if outside:
            # SHR-1: a conditional entry shared with some regions is not asked for others
            raise PermissionDenied(
                msg(
                    "region {v1} is outside the entry's share scope ({v3})",
                    v1=outside[0],
                    v3=", ".join(scope),
                ),
                field="request.regions",
                articles=(self.policy.sharing.share_type_article,),
            )
        facts = ShareRequestFacts(
            consumer=DepartmentFacts(
                code=consumer.code, region=consumer.region, level=consumer.level
            ),
            entry=self.catalogue.entry_facts(content),
            fields=tuple(data.fields),
            methods=tuple(data.methods),
            purpose=purpose,
            scenario=scenario,
            legal_basis=legal_basis,
            today=self.today(),
        )
        # CAT-2: a conditional entry without conditions is decided as unconditional.
        if content.get("effective_share_type", content["share_type"]) != content["share_type"]:
            facts = ShareRequestFacts(
                consumer=facts.consumer,
                entry=EntryFacts(
                    **{**facts.entry.__dict__, "share_type": content["effective_share_type"]}
                ),
                fields=facts.fields,
                methods=facts.methods,
                purpose=facts.purpose,
                scenario=facts.scenario,
                legal_basis=facts.legal_basis,
                today=facts.today,
            )
        decision = decide_share_request(self.policy, facts, locale=self.settings.locale)
        now = self.now()
        request = ShareRequest(
            id=str(uuid.uuid4()),
            consumer=consumer.code,
            provider=entry.provider,
            entry_code=entry.code,
            entry_version=entry.current_version,
            fields=list(data.fields),
            methods=list(data.methods),
            purpose=purpose,
            scenario=scenario,
            legal_basis=legal_basis,
            regions=regions,
            validity_days=validity,
            quota=quota,
            dp_epsilon=data.dp_epsilon,
            dp_budget=data.dp_budget,
            status=decision.outcome,
            decision=decision_dict(decision),
            created_at=now,
        )
        session.add(request)
        delegated = None
        if decision.outcome == "pending_provider_review":
            # SHR-4, Art.23: a request from a region of the entry's recorded split goes to the
            # lower-level department it delegates that region to
            delegated = self.delegate_for(session, entry.code, consumer, regions)
            if delegated is not None:
                request.delegate = delegated[0]
                request.regions = list(regions) or [delegated[1]]
            rule = self.policy.deadline("conditional_share_review")
            request.due_date = self.supervision.start_deadline(
                session,
                kind=rule.kind,
                subject=request.id,
                responsible=request.delegate or entry.provider,
            )
        elif decision.outcome == PENDING_AUTHORITY:
            request.due_date = self.supervision.start_deadline(
                session,
                kind=AUTHORITY_REVIEW,
                subject=request.id,
                responsible=self.unconditional_reviewer(session, consumer),
            )
        elif decision.outcome == "approved":
            request.decided_at = now
        session.flush()
        self.ledger.append(
            session,
            kind="share_request.filed",
            actor=caller,
            subject=request.id,
            payload={
                "entry_code": entry.code,
                "entry_version": entry.current_version,
                "fields": list(data.fields),
                "methods": list(data.methods),
                "purpose": purpose,
                "regions": list(request.regions),
                "decision": request.decision,
                **(
                    {
                        "delegate": request.delegate,
                        "delegated_region": delegated[1],
                        "articles": [self.regional_rules.delegation_article],
                    }
                    if delegated
                    else {}
                ),
                "due_date": request.due_date.isoformat() if request.due_date else None,
                **(self._due_note(request.due_date) if request.due_date else {}),
            },
        )
        if decision.outcome == "approved":
            self._issue_grant(session, request, consumer)
        elif decision.outcome not in ("pending_provider_review", PENDING_AUTHORITY, "refused"):
            raise FailedPrecondition(
                msg("policy returned an unexpected outcome {outcome!r}", outcome=decision.outcome)
            )
        return request

    def list_share_requests(
        self, session: Session, caller: str, role: str, status: str = "", page: Page | None = None
    ) -> Sequence[ShareRequest]:
        """The caller's inbox (``role="provider"``) or its own requests (``role="consumer"``)."""
        if role == "reviewer":  # the data authority's inbox of unconditional requests
            return self._reviewer_inbox(session, caller, status)
        self.directory.require_registered(session, caller)
        if role not in ("provider", "consumer"):
            raise InvalidArgument(msg("must be 'provider', 'consumer' or 'reviewer'"), field="role")
        if role == "provider":  # what the caller decides: its own, and those delegated to it
            query = select(ShareRequest).where(
                ((ShareRequest.provider == caller) & ShareRequest.delegate.is_(None))
                | (ShareRequest.delegate == caller)
            )
        else:
            query = select(ShareRequest).where(ShareRequest.consumer == caller)
        if status:
            query = query.where(ShareRequest.status == status)
        if page is not None:
            return page.fetch(session, query, ShareRequest.created_at, ShareRequest.id)
        return session.execute(query.order_by(ShareRequest.created_at)).scalars().all()

    def unconditional_reviewer(self, session: Session, consumer: Department) -> str:
        """Who reviews an unconditional request of ``consumer`` where an operator does
        (Art.22(1)): the data authority of the consumer's region, else the provincial one."""
        return self.directory.authority_of_region(session, consumer.region)

    def _reviewer_inbox(self, session: Session, caller: str, status: str) -> list[ShareRequest]:
        if (
            caller != AUTHORITY
            and not self.directory.require_registered(session, caller).is_authority
        ):
            raise PermissionDenied(
                msg("only a data authority reviews share requests"), field="role"
            )
        query = select(ShareRequest).order_by(ShareRequest.created_at)
        query = query.where(ShareRequest.status == (status or PENDING_AUTHORITY))
        rows = session.execute(query).scalars().all()
        return [
            r
            for r in rows
            if caller == AUTHORITY
            or self.unconditional_reviewer(session, self.directory.department(session, r.consumer))
            == caller
        ]

    def get_share_request(self, session: Session, request_id: str) -> ShareRequest:
        request = session.get(ShareRequest, v.identifier(request_id, "id"))
        if request is None:
            raise NotFound(
                msg("no share request {request_id!r}", request_id=request_id), field="id"
            )
        return request

    def decide_share_request(
        self, session: Session, caller: str, request_id: str, approve: bool, reason: str
    ) -> ShareRequest:
        """The provider approves or refuses a conditional request in its inbox (Art.22)."""
        request = self.get_share_request(session, request_id)
        by_authority = request.status == PENDING_AUTHORITY
        if by_authority:
            reviewer = self.unconditional_reviewer(
                session, self.directory.department(session, request.consumer)
            )
            if caller not in (reviewer, AUTHORITY):
                raise PermissionDenied(
                    msg(
                        "only the data authority ({reviewer}) reviews this unconditional request",
                        reviewer=reviewer,
                    ),
                    field="id",
                    articles=(self.policy.sharing.unconditional_article,),
                )
        elif request.delegate and request.delegate != caller:
            raise PermissionDenied(
                msg(
                    "the provider delegated this region's requests to {delegate}, which decides it",
                    delegate=request.delegate,
                ),
                field="id",
                articles=(self.regional_rules.delegation_article,),
            )
        elif not request.delegate and request.provider != caller:
            raise PermissionDenied(
                msg("only the entry's provider may decide this request"), field="id"
            )
        elif request.status != "pending_provider_review":
            raise FailedPrecondition(
                msg("request is already {status}", status=request.status), field="id"
            )
        reason = v.text(reason, "reason", required=False)
        review = decide_authority_review if by_authority else decide_provider_review
        decision = review(
            self.policy,
            approve=approve,
            reason=reason,
            locale=self.settings.locale,
            today=self.today(),
        )
        if decision.outcome == "invalid":
            raise InvalidArgument(decision.reason, field="reason", articles=decision.articles)
        now = self.now()
        request.status = decision.outcome
        request.decision = decision_dict(decision)
        request.decided_at = now
        deadline = self.supervision.close_deadline(
            session,
            kind=AUTHORITY_REVIEW if by_authority else "conditional_share_review",
            subject=request.id,
        )
        self.ledger.append(
            session,
            kind="share_request.decided",
            actor=caller,
            subject=request.id,
            payload={
                "decision": request.decision,
                "closed_late": bool(deadline and deadline.closed_late),
                **(
                    {
                        "delegate": request.delegate,
                        "articles": [self.regional_rules.delegation_article],
                    }
                    if request.delegate
                    else {}
                ),
            },
        )
        if decision.outcome == "approved":
            self._issue_grant(
                session, request, self.directory.department(session, request.consumer)
            )
        return request

    def _issue_grant(
        self, session: Session, request: ShareRequest, consumer: Department, return_flow: str = ""
    ) -> Grant:
        now = self.now()
        grant_id = str(uuid.uuid4())
        expires = now + dt.timedelta(days=request.validity_days)
        claims = GrantClaims(
            grant_id=grant_id,
            issuer=self.settings.issuer,
            consumer=request.consumer,
            provider=request.provider,
            entry_code=request.entry_code,
            entry_version=request.entry_version,
            fields=tuple(request.fields),
            methods=tuple(request.methods),
            purpose=request.purpose,
            regions=tuple(request.regions),
            issued_at=int(now.timestamp()),
            expires_at=int(expires.timestamp()),
            quota=request.quota,
            consumer_encryption_key=b64url_encode(consumer.encryption_public_key),
            dp_epsilon_milli=round(request.dp_epsilon * 1000),
            dp_budget_milli=round(request.dp_budget * 1000),
            grades=self.catalogue.field_grades(session, request.entry_code, request.entry_version),
            delegate=request.delegate or "",
            return_flow=return_flow,
        )
        grant = Grant(
            id=grant_id,
            share_request_id=request.id,
            consumer=request.consumer,
            provider=request.provider,
            entry_code=request.entry_code,
            entry_version=request.entry_version,
            fields=list(request.fields),
            methods=list(request.methods),
            purpose=request.purpose,
            regions=list(request.regions),
            issued_at=now,
            expires_at=expires,
            quota=request.quota,
            dp_epsilon=request.dp_epsilon,
            dp_budget=request.dp_budget,
            used=0,
            status="active",
            token=issue_grant_token(claims, self.signing_key),
            delegate=request.delegate,
            return_flow_id=return_flow or None,
        )
        session.add(grant)
        request.grant_id = grant_id
        self.ledger.append(
            session,
            kind="grant.issued",
            actor=self.settings.issuer,
            subject=grant_id,
            payload={
                "share_request_id": request.id,
                "consumer": grant.consumer,
                "provider": grant.provider,
                "entry_code": grant.entry_code,
                "entry_version": grant.entry_version,
                "fields": grant.fields,
                "methods": grant.methods,
                "purpose": grant.purpose,
                "regions": grant.regions,
                "grades": dict(claims.grades),
                "expires_at": expires.isoformat(),
                "quota": grant.quota,
                **({"delegate": grant.delegate} if grant.delegate else {}),
                **({"return_flow": return_flow} if return_flow else {}),
                "token_sha256": hashlib.sha256(grant.token.encode()).hexdigest(),
            },
        )
        return grant

    def get_grant(self, session: Session, caller: str, grant_id: str) -> Grant:
        """A grant, visible to its consumer, its provider and the authority."""
        grant = session.get(Grant, v.identifier(grant_id, "id"))
        if grant is None:
            raise NotFound(msg("no grant {grant_id!r}", grant_id=grant_id), field="id")
        if caller not in (grant.consumer, grant.provider, grant.delegate, AUTHORITY):
            self.directory.require_authority(session, caller)
        return grant

    def grant(self, session: Session, grant_id: str) -> Grant:
        """The grant ``grant_id`` (it must exist)."""
        grant = session.get(Grant, grant_id)
        if grant is None:
            raise NotFound(msg("no grant {grant_id!r}", grant_id=grant_id), field="id")
        return grant

    def _due_note(self, due: dt.date) -> dict[str, Any]:
        fields = self.supervision.due_fields(due)
        fields.pop("due_on")
        return fields

    def due_provisional(self, started: dt.datetime | None, due: dt.date | None) -> bool:
        """Whether a due date counted from ``started`` rests on a provisional calendar year."""
        if started is None or due is None:
            return False
        day = started.astimezone(SHANGHAI).date() if started.tzinfo else started.date()
        return self.supervision.due_status(day, due).provisional

    def due_moved(self, session: Session, deadline: Deadline) -> None:
        """The supervision port: a recounted clock's new due date, shown on its request."""
        if deadline.kind == "conditional_share_review":
            request = session.get(ShareRequest, deadline.subject)
            if request is not None:
                request.due_date = deadline.due_on
            return
        service_request = session.get(ServiceRequest, deadline.subject)
        key = f"{deadline.kind}_due_on"
        if service_request is not None and key in service_request.details:
            service_request.details = {**service_request.details, key: deadline.due_on.isoformat()}

    def grant_views(self, session: Session) -> list[GrantView]:
        """The reconciliation's port: every grant, six columns each, not ORM objects (the daily
        reconciliation reads every grant ever issued)."""
        return [
            GrantView(*row)
            for row in session.execute(select(*VIEW_COLUMNS).order_by(Grant.issued_at))
        ]

    def grant_views_of(self, session: Session, grant_ids: Collection[str]) -> list[GrantView]:
        """The supervision port: the grants with these ids (those that exist), as misuse
        detection reads them; by primary key, a few hundred ids per statement."""
        views: list[GrantView] = []
        for chunk in in_chunks(sorted(set(grant_ids))):
            views += [
                GrantView(*row)
                for row in session.execute(select(*VIEW_COLUMNS).where(Grant.id.in_(chunk)))
            ]
        return views

    def active_grant_views_unused_since(
        self, session: Session, before: dt.datetime
    ) -> list[GrantView]:
        """The supervision port: the active grants last used — or, never used, issued — before
        ``before``: the candidates for an idle finding (Art.27), read without the rest."""
        since = func.coalesce(Grant.last_used_at, Grant.issued_at)
        query = (
            select(*VIEW_COLUMNS)
            .where(Grant.status == "active", since < before)
            .order_by(Grant.issued_at)
        )
        return [GrantView(*row) for row in session.execute(query)]

    def grant_view(self, session: Session, grant_id: str) -> GrantView:
        """The supervision port: one grant as rectification orders read it."""
        g = self.grant(session, grant_id)
        return GrantView(g.id, g.consumer, g.provider, g.status, g.issued_at, g.last_used_at)

    def grants_in_use(self, session: Session, entry_code: str, now: dt.datetime) -> int:
        """How many active, unexpired grants use the entry (CAT-7: revocation grace)."""
        return session.execute(
            select(func.count())
            .select_from(Grant)
            .where(Grant.entry_code == entry_code, Grant.status == "active", Grant.expires_at > now)
        ).scalar_one()

    def entry_sunset_on(self, session: Session, grant: Grant) -> dt.date | None:
        """The sunset date of the grant's entry when it is being revoked (CAT-7), else None."""
        entry = self.catalogue.find(session, grant.entry_code)
        return entry.sunset_on if entry is not None else None
