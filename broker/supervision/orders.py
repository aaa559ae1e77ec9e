"""Rectification orders (Art.27, 41, 43; SUP-2): the authority or a grant's provider orders its
consumer to rectify a misuse by a working-day due date; the consumer answers with what it
changed; the issuer accepts or rejects. Not accepted by the due date, the grant is suspended; not
rectified by the end of the rule file's further clock, it is terminated.

Due dates are clocks on the deadline tracker (``deadlines.rectification`` and
``deadlines.rectification_termination``), started and closed through
:class:`~tongdao.broker.supervision.service.SupervisionService`. The grant changes only through
the sharing context's status call (the :data:`GrantStatusPort`); every step is a ledger entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.context import AUTHORITY, ContextService
from tongdao.broker.kernel.paging import Page
from tongdao.broker.supervision.findings import GrantView
from tongdao.broker.supervision.models import MisuseFinding, RectificationOrder
from tongdao.broker.supervision.service import SupervisionService
from tongdao.policies.i18n import msg
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

ORDER = "rectification"
TERMINATION = "rectification_termination"
GrantStatusPort = Callable[[Session, str, str, str, str, str], object]
"""A port: ``(session, actor, grant_id, change, ground, reason)`` changes a grant's status as
the rules require (wired to ``SharingService.change_grant_status`` on behalf of the rules)."""
GrantViewPort = Callable[[Session, str], GrantView]
"""A port: one grant as supervision sees it (raises NotFound)."""


@dataclass(kw_only=True)
class RectificationOrders(ContextService):
    """Issue, answer, decide and enforce rectification orders."""

    supervision: SupervisionService
    grant_view: GrantViewPort | None = None
    change_status: GrantStatusPort | None = None

    def _ports(self) -> tuple[GrantViewPort, GrantStatusPort]:
        if self.grant_view is None or self.change_status is None:
            raise FailedPrecondition(msg("rectification orders are not wired at this broker"))
        return self.grant_view, self.change_status

    def _order(self, session: Session, order_id: int) -> RectificationOrder:
        order = session.get(RectificationOrder, order_id, with_for_update=True)
        if order is None:
            raise NotFound(msg("no rectification order {order_id}", order_id=order_id), field="id")
        return order

    def _log(
        self, session: Session, actor: str, order: RectificationOrder, kind: str, **extra: object
    ) -> None:
        self.supervision.ledger.append(
            session,
            kind=f"rectification.{kind}",
            actor=actor,
            subject=order.grant_id,
            payload={
                "order": order.id,
                "status": order.status,
                "due_on": order.due_on.isoformat(),
                "articles": [order.article],
                **extra,
            },
        )

    def issue(
        self,
        session: Session,
        caller: str,
        grant_id: str,
        ground: str,
        requirement: str,
        findings: tuple[int, ...] = (),
    ) -> RectificationOrder:
        """The authority (any grant) or the grant's provider orders its consumer to rectify.

        Raises:
            PermissionDenied: another caller. InvalidArgument: unknown ground or finding, empty
            requirement. FailedPrecondition: the grant is not active.
        """
        grant_view, _ = self._ports()
        grant = grant_view(session, v.identifier(grant_id, "grant_id"))
        if caller != grant.provider:
            try:
                self.supervision.directory.require_authority(session, caller)
            except PermissionDenied:
                raise PermissionDenied(
                    msg("only the authority or the grant's provider may order rectification"),
                    field="grant_id",
                    articles=(self.policy.deadline(ORDER).article,),
                ) from None
        rule = self.policy.grant_status.grounds.get(ground)
        if rule is None:
            raise InvalidArgument(
                msg("must be one of {v1}", v1=", ".join(sorted(self.policy.grant_status.grounds))),
                field="ground",
            )
        requirement = v.text(requirement, "requirement", max_len=v.MAX_TEXT)
        for finding_id in findings:
            row = session.get(MisuseFinding, finding_id)
            if row is None or row.grant_id != grant.id:
                raise InvalidArgument(
                    msg("no finding {finding_id} on this grant", finding_id=finding_id),
                    field="findings",
                )
        if grant.status != "active":
            raise FailedPrecondition(
                msg("grant is {status}", status=grant.status), field="grant_id"
            )
        order = RectificationOrder(
            grant_id=grant.id,
            issuer=caller,
            consumer=grant.consumer,
            provider=grant.provider,
            ground=ground,
            article=rule.article,
            requirement=requirement,
            findings=list(findings),
            status="open",
            due_on=self.today(),
            issued_on=self.today(),
        )
        session.add(order)
        session.flush()
        order.due_on = self.supervision.start_deadline(
            session, kind=ORDER, subject=str(order.id), responsible=grant.consumer
        )
        self._log(
            session,
            caller,
            order,
            "issued",
            ground=ground,
            requirement=requirement,
            findings=list(findings),
            consumer=grant.consumer,
            working_days=self.policy.deadline(ORDER).working_days,
        )
        return order

    def answer(
        self, session: Session, caller: str, order_id: int, changes: str
    ) -> RectificationOrder:
        """The consumer states what it changed; the issuer then decides.

        Raises:
            PermissionDenied: not the order's consumer. FailedPrecondition: nothing to answer.
        """
        order = self._order(session, order_id)
        if caller != order.consumer:
            raise PermissionDenied(msg("only the grant's consumer answers the order"), field="id")
        if order.status not in ("open", "suspended"):
            raise FailedPrecondition(msg("order is {status}", status=order.status), field="id")
        order.answer = v.text(changes, "changes", max_len=v.MAX_TEXT)
        if order.status == "open":
            order.status = "answered"
        self._log(session, caller, order, "answered", changes=order.answer)
        return order

    def decide(
        self, session: Session, caller: str, order_id: int, accept: bool, reason: str
    ) -> RectificationOrder:
        """The issuer (or the authority) accepts the rectification or rejects it with a reason.

        Accepting closes the clock (a grant suspended for this order is reinstated); rejecting
        leaves the due date as it was, so the consumer must answer again in time.
        """
        order = self._order(session, order_id)
        if caller != order.issuer:
            self.supervision.directory.require_authority(session, caller)
        if not order.answer or order.status not in ("answered", "suspended"):
            raise FailedPrecondition(
                msg("order is {status}, with no answer to decide", status=order.status), field="id"
            )
        reason = v.text(reason, "reason", max_len=v.MAX_TEXT)
        order.decision_reason = reason
        if accept:
            suspended = order.status == "suspended"
            order.status = "accepted"
            self.supervision.close_deadline(session, kind=ORDER, subject=str(order.id))
            self.supervision.close_deadline(session, kind=TERMINATION, subject=str(order.id))
            if suspended:
                _, change_status = self._ports()
                change_status(session, caller, order.grant_id, "reinstate", order.ground, reason)
        else:
            order.status = "open" if order.status == "answered" else "suspended"
            order.answer = None
        self._log(session, caller, order, "accepted" if accept else "rejected", reason=reason)
        return order

    def enforce_on_demand(self, session: Session, caller: str) -> list[RectificationOrder]:
        """:meth:`enforce`, asked for by the authority.

        Raises:
            PermissionDenied: the caller is not the authority.
        """
        self.supervision.directory.require_authority(session, caller)
        return self.enforce(session)

    def enforce(self, session: Session) -> list[RectificationOrder]:
        """Suspend the grants of orders past their due date, terminate those past the further
        clock; returns the orders changed (run on the broker's schedule and on demand)."""
        _, change_status = self._ports()
        today, changed = self.today(), []
        issuer = self.settings.issuer
        rows = session.execute(
            select(RectificationOrder).where(
                RectificationOrder.status.in_(("open", "answered", "suspended"))
            )
        ).scalars()
        for order in list(rows):
            if order.status != "suspended" and today > order.due_on:
                reason = f"rectification order {order.id} not rectified by {order.due_on}"
                change_status(session, issuer, order.grant_id, "suspend", "not_rectified", reason)
                self.supervision.close_deadline(session, kind=ORDER, subject=str(order.id))
                order.status = "suspended"
                order.terminate_on = self.supervision.start_deadline(
                    session, kind=TERMINATION, subject=str(order.id), responsible=order.consumer
                )
                self._log(session, issuer, order, "overdue", terminate_on=str(order.terminate_on))
                changed.append(order)
            elif order.status == "suspended" and order.terminate_on and today > order.terminate_on:
                reason = (
                    f"rectification order {order.id} still not rectified by {order.terminate_on}"
                )
                change_status(session, issuer, order.grant_id, "terminate", "not_rectified", reason)
                self.supervision.close_deadline(session, kind=TERMINATION, subject=str(order.id))
                order.status = "terminated"
                self._log(session, issuer, order, "terminated")
                changed.append(order)
        return changed

    def list_orders(
        self, session: Session, caller: str, grant_id: str = "", page: Page | None = None
    ) -> list[RectificationOrder]:
        """Orders the caller may see: all (the authority), else those it issued or must answer."""
        query = select(RectificationOrder)
        if caller != AUTHORITY:
            dept = self.supervision.directory.require_registered(session, caller)
            if not dept.is_authority:
                query = query.where(
                    (RectificationOrder.consumer == caller)
                    | (RectificationOrder.provider == caller)
                    | (RectificationOrder.issuer == caller)
                )
        if grant_id:
            query = query.where(RectificationOrder.grant_id == grant_id)
        if page is not None:
            return page.fetch(session, query, RectificationOrder.id)
        return list(session.execute(query.order_by(RectificationOrder.id)).scalars())
