"""Time-limited requests besides share requests, each on its working-day clock (SUP-1):

* data need (SHR-10, Art.29): a department asks a provider for data items; the provider reviews
  within ``demand_review`` working days; an accepted need that is not yet catalogued must be
  published within ``demand_cataloguing`` working days.
* correction (SHR-5, Art.24): a person or organisation disputes data about itself (filed by the
  authority's service desk on their behalf, or by a department); the provider verifies and
  corrects within ``correction`` working days and reports back.
* urgent data need (SHR-3, Art.23): a data need marked urgent, with its scenario, also goes to
  the requester's data authority (same level, else the next level up, else the provincial
  authority), which organises the special data docking (专项数据对接) on the rule file's
  ``urgent_handling`` clock and records its outcome.
* open-data request (OPN-2, Art.34): unconditional-open data is usable directly, not-open data is
  refused with its reason, conditional-open data is reviewed within ``open_data_review`` days.

Plain domain code over the caller's session, like :mod:`broker.sharing.service`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.context import AUTHORITY
from tongdao.broker.kernel.context import decision_dict as _decision_dict
from tongdao.broker.kernel.paging import Page
from tongdao.broker.sharing import corrections as corr
from tongdao.broker.sharing.models import ServiceRequest
from tongdao.broker.sharing.service import SharingService
from tongdao.crypto.correction import CorrectionReceipt
from tongdao.policies.engine import decide_open_data_request, decide_provider_review
from tongdao.policies.i18n import msg
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

KINDS = ("data_need", "correction", "open_data")
REVIEW_CLOCK = {
    "data_need": "demand_review",
    "correction": "correction",
    "open_data": "open_data_review",
}


@dataclass(frozen=True)
class ServiceRequestData:
    """What is filed. ``subject`` is a catalogue entry code, except for a data need (free text)."""

    kind: str
    provider: str
    subject: str
    requester: str = ""  # the person or organisation, when filed on their behalf
    data_items: tuple[str, ...] = ()
    scenario: str = ""
    legal_basis: str = ""
    description: str = ""
    record_key: str = ""
    urgent: bool = False  # a data need: urgent or special, handled by the authority (Art.23)
    sealed_correction: bytes = b""  # a correction: key and values sealed to the provider's node
    correction_id: str = ""  # the filer's UUID bound into sealed_correction


URGENT_CLOCK = "urgent_handling"
PUBLIC = "public"
"""Who files an open-data request a person or organisation sends on the public listener."""


def _handler_key(r: ServiceRequest) -> tuple[str, str]:
    return (r.created_at.isoformat(), r.id)


class ServiceRequests:
    """Filing, deciding and fulfilling the requests above."""

    def __init__(self, sharing: SharingService, nodes: corr.CorrectionNodes | None = None) -> None:
        self.s = sharing
        self.nodes = nodes

    def _start(self, session: Session, request: ServiceRequest, kind: str) -> dict[str, Any]:
        """Start clock ``kind``; return the ledger fields of its due date."""
        rule = self.s.policy.deadline(kind)
        due = self.s.supervision.start_deadline(
            session, kind=rule.kind, subject=request.id, responsible=request.provider
        )
        request.details = {**request.details, f"{kind}_due_on": due.isoformat()}
        return self.s.supervision.due_fields(due)

    def file(self, session: Session, caller: str, data: ServiceRequestData) -> ServiceRequest:
        """File a request; the review clock starts now (or the request is decided at once)."""
        if data.kind not in KINDS:
            raise InvalidArgument(msg("must be one of {v1}", v1=", ".join(KINDS)), field="kind")
        if caller == PUBLIC:
            if data.kind != "open_data":
                raise PermissionDenied(
                    msg("the public files open-data requests only"), field="kind"
                )
        elif caller != AUTHORITY:
            self.s.directory.require_registered(session, caller)
        provider = self.s.directory.get_department(session, data.provider)
        requester = v.text(data.requester, "requester", required=False, max_len=200) or caller
        if data.kind == "open_data":
            self.s.check_public_access(session, requester)  # OPN-4, Art.43
        details: dict[str, Any] = {}
        decision: dict[str, Any] = {}
        status = "pending"
        if data.urgent and data.kind != "data_need":
            raise InvalidArgument(msg("only a data need may be urgent (Art.23)"), field="urgent")
        if data.kind == "data_need":
            if caller == AUTHORITY:
                raise PermissionDenied(msg("a data need is filed by the department that needs it"))
            details = {
                "data_items": v.field_names(data.data_items, "data_items"),
                "scenario": v.text(data.scenario, "scenario"),
                "legal_basis": v.text(data.legal_basis, "legal_basis"),
                "description": v.text(data.description, "description", required=False),
            }
            subject = v.text(data.subject, "subject", max_len=200)
        else:
            entry = self.s.catalogue.find(session, v.entry_code(data.subject, "subject"))
            if entry is None or entry.current_version < 1:
                raise NotFound(
                    msg("no published catalogue entry {subject!r}", subject=data.subject),
                    field="subject",
                )
            if entry.provider != provider.code:
                raise InvalidArgument(
                    msg("the entry is provided by another department"), field="provider"
                )
            subject = entry.code
            details = {"description": v.text(data.description, "description")}
            if data.kind == "correction" and data.sealed_correction:
                details.update(
                    corr.sealed_details(
                        data.sealed_correction,
                        data.correction_id,
                        data.data_items,
                        data.record_key,
                    )
                )
            elif data.kind == "correction":
                details["record_key"] = v.text(data.record_key, "record_key", max_len=256)
            else:
                facts = self.s.catalogue.entry_facts(
                    self.s.catalogue.published_content(session, entry)
                )
                routed = decide_open_data_request(
                    self.s.policy, facts, locale=self.s.settings.locale, today=self.s.today()
                )
                decision = _decision_dict(routed)
                if routed.outcome != "pending_provider_review":
                    status = routed.outcome  # approved (directly usable) or refused
        request = ServiceRequest(
            id=str(uuid.uuid4()),
            kind=data.kind,
            requester=requester,
            filed_by=caller,
            provider=provider.code,
            subject=subject,
            details=details,
            status=status,
            decision=decision,
            created_at=self.s.now(),
            decided_at=self.s.now() if status != "pending" else None,
        )
        session.add(request)
        due: dict[str, Any] = {}
        if status == "pending":
            due = self._start(session, request, REVIEW_CLOCK[data.kind])
        if data.urgent:
            due.update(self._start_urgent(session, request, caller))
        session.flush()
        self.s.ledger.append(
            session,
            kind=f"{data.kind}.filed",
            actor=caller,
            subject=request.id,
            payload={
                "provider": provider.code,
                "subject": subject,
                **({"requester": requester} if data.kind == "open_data" else {}),
                "status": status,
                "decision": decision or None,
                **due,
            },
        )
        return request

    def urgent_handler(self, session: Session, requester: str) -> str:
        """Who handles an urgent need of ``requester`` (Art.23): the data authority of its
        region, else of the next level up, else the provincial authority."""
        dept = self.s.directory.department(session, requester)
        region = dept.region
        for candidate in (region, region[:4] + "00", region[:2] + "0000"):
            handler = self.s.directory.authority_of_region(session, candidate)
            if handler != AUTHORITY and handler != requester:
                return handler
        return AUTHORITY

    def _start_urgent(
        self, session: Session, request: ServiceRequest, caller: str
    ) -> dict[str, Any]:
        handler = self.urgent_handler(session, caller)
        due = self.s.supervision.start_deadline(
            session, kind=URGENT_CLOCK, subject=request.id, responsible=handler
        )
        request.details = {
            **request.details,
            "urgent": {"handler": handler, "due_on": due.isoformat(), "outcome": ""},
        }
        return {"urgent_handler": handler, "urgent_due_on": due.isoformat()}

    def record_urgent_handling(
        self, session: Session, caller: str, request_id: str, outcome: str
    ) -> ServiceRequest:
        """The handler records how the urgent need was met (the special docking's outcome).

        Raises:
            PermissionDenied: not its handler (nor the provincial authority).
            FailedPrecondition: not an urgent need, or its handling is already recorded.
        """
        request = self.get(session, caller, request_id)
        urgent = request.details.get("urgent")
        if not urgent:
            raise FailedPrecondition(msg("not an urgent data need"), field="id")
        if caller not in (urgent["handler"], AUTHORITY):
            raise PermissionDenied(
                msg("only its handler ({v1}) records the special handling", v1=urgent["handler"]),
                field="id",
                articles=(self.s.policy.deadline(URGENT_CLOCK).article,),
            )
        if urgent["outcome"]:
            raise FailedPrecondition(msg("the special handling is already recorded"), field="id")
        outcome = v.text(outcome, "outcome")
        deadline = self.s.supervision.close_deadline(session, kind=URGENT_CLOCK, subject=request.id)
        request.details = {**request.details, "urgent": {**urgent, "outcome": outcome}}
        self.s.ledger.append(
            session,
            kind="data_need.urgent_handled",
            actor=caller,
            subject=request.id,
            payload={
                "outcome": outcome,
                "closed_late": bool(deadline and deadline.closed_late),
                "articles": [self.s.policy.deadline(URGENT_CLOCK).article],
            },
        )
        return request

    def get(self, session: Session, caller: str, request_id: str) -> ServiceRequest:
        request = session.get(ServiceRequest, v.identifier(request_id, "id"))
        if request is None:
            raise NotFound(msg("no request {request_id!r}", request_id=request_id), field="id")
        handler = (request.details.get("urgent") or {}).get("handler")
        if caller not in (request.filed_by, request.provider, AUTHORITY, handler):
            self.s.directory.require_authority(session, caller)
        return request

    def decide(
        self, session: Session, caller: str, request_id: str, approve: bool, reason: str
    ) -> ServiceRequest:
        """The provider's answer. A refusal states its reason; an accepted data need that is not
        yet catalogued starts the cataloguing clock; a correction states what was corrected."""
        request = self.get(session, caller, request_id)
        if request.provider != caller:
            raise PermissionDenied(msg("only the provider may decide this request"), field="id")
        if request.status != "pending":
            raise FailedPrecondition(
                msg("request is already {status}", status=request.status), field="id"
            )
        reason = v.text(reason, "reason", required=False)
        sealed = corr.SEALED_KEY in request.details
        if request.kind == "correction" and approve and not reason and not sealed:
            raise InvalidArgument(msg("must say what was corrected"), field="reason")
        decision = decide_provider_review(
            self.s.policy,
            approve=approve,
            reason=reason,
            locale=self.s.settings.locale,
            today=self.s.today(),
        )
        if decision.outcome == "invalid":
            raise InvalidArgument(decision.reason, field="reason", articles=decision.articles)
        review = self.s.policy.deadline(REVIEW_CLOCK[request.kind])
        decision_dict = {**_decision_dict(decision), "articles": [review.article]}
        if reason:
            decision_dict["reason"] = f"{decision.reason}" if not approve else reason
        request.decision = decision_dict
        request.decided_at = self.s.now()
        deadline = self.s.supervision.close_deadline(session, kind=review.kind, subject=request.id)
        due: dict[str, Any] = {}
        receipt: CorrectionReceipt | None = None
        if sealed:
            receipt = self._apply_correction(session, request) if approve else None
            request.details = {k: val for k, val in request.details.items() if k != corr.SEALED_KEY}
            if receipt is not None:
                request.details = {**request.details, corr.RECEIPT_KEY: receipt.as_record()}
        if receipt is not None and receipt.refusal:
            request.status = "refused"
            request.decision = {
                **decision_dict,
                "outcome": "refused",
                "reason": f"the provider's node could not apply the correction: {receipt.refusal}",
            }
        elif receipt is not None:
            request.status = "corrected"
            if not reason:
                request.decision = {
                    **decision_dict,
                    "reason": f"corrected at the provider's node: {', '.join(receipt.fields)}",
                }
        elif not approve:
            request.status = "refused"
        elif request.kind == "data_need":
            request.status = "accepted"
            due = self._start(session, request, "demand_cataloguing")
        else:
            request.status = "corrected" if request.kind == "correction" else "approved"
        self.s.ledger.append(
            session,
            kind=f"{request.kind}.decided",
            actor=caller,
            subject=request.id,
            payload={
                "status": request.status,
                "decision": request.decision,
                "closed_late": bool(deadline and deadline.closed_late),
                **due,
            },
        )
        if receipt is not None:
            self.s.ledger.append(
                session,
                kind="correction.not_applied" if receipt.refusal else "correction.applied",
                actor=request.provider,
                subject=request.id,
                payload={**receipt.as_record(), "articles": [review.article]},
            )
        return request

    def _apply_correction(self, session: Session, request: ServiceRequest) -> CorrectionReceipt:
        """Relay the sealed correction to the provider's node; its verified receipt."""
        if self.nodes is None:
            raise FailedPrecondition(msg("this broker cannot reach providers' nodes"), field="id")
        dept = self.s.directory.department(session, request.provider)
        correction = corr.to_apply(request.id, request.subject, request.details)
        receipt = self.nodes.apply_correction(
            corr.require_node(dept.node_endpoint, dept.code), dept.code, correction
        )
        return corr.verified_receipt(receipt, correction, dept.code, dept.signing_public_key)

    def fulfil(
        self, session: Session, caller: str, request_id: str, entry_code: str
    ) -> ServiceRequest:
        """The provider names the published entry that meets an accepted data need (Art.29)."""
        request = self.get(session, caller, request_id)
        if request.provider != caller:
            raise PermissionDenied(msg("only the provider may fulfil this need"), field="id")
        if request.kind != "data_need" or request.status != "accepted":
            raise FailedPrecondition(msg("only an accepted data need can be fulfilled"), field="id")
        entry = self.s.catalogue.find(session, v.entry_code(entry_code, "entry_code"))
        if entry is None or entry.current_version < 1 or entry.provider != caller:
            raise FailedPrecondition(msg("name one of your published entries"), field="entry_code")
        request.status = "fulfilled"
        request.fulfilled_by = entry.code
        deadline = self.s.supervision.close_deadline(
            session, kind="demand_cataloguing", subject=request.id
        )
        self.s.ledger.append(
            session,
            kind="data_need.fulfilled",
            actor=caller,
            subject=request.id,
            payload={
                "entry_code": entry.code,
                "version": entry.current_version,
                "closed_late": bool(deadline and deadline.closed_late),
            },
        )
        return request

    def list(
        self, session: Session, caller: str, role: str, kind: str = "", page: Page | None = None
    ) -> Sequence[ServiceRequest]:
        """The caller's inbox (``provider``), what it filed (``requester``), or the urgent needs
        it handles as a data authority (``handler``); oldest first, urgent needs first within a
        page."""
        if role not in ("provider", "requester", "handler"):
            raise InvalidArgument(msg("must be 'provider', 'requester' or 'handler'"), field="role")
        if role == "handler":
            query = select(ServiceRequest).where(ServiceRequest.kind == "data_need")
            rows = sorted(
                (
                    r
                    for r in session.execute(query).scalars()
                    if (r.details.get("urgent") or {}).get("handler") == caller
                    or (caller == AUTHORITY and r.details.get("urgent"))
                ),
                key=_handler_key,
            )
            return page.take(rows, _handler_key) if page is not None else rows
        column = ServiceRequest.provider if role == "provider" else ServiceRequest.filed_by
        query = select(ServiceRequest).where(column == caller)
        if kind:
            query = query.where(ServiceRequest.kind == kind)
        if page is not None:
            out = page.fetch(session, query, ServiceRequest.created_at, ServiceRequest.id)
        else:
            out = list(session.execute(query.order_by(ServiceRequest.created_at)).scalars())
        out.sort(key=lambda r: not r.details.get("urgent"))  # stable: oldest first otherwise
        return out
