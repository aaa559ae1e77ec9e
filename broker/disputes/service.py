"""Disputes between a data user and a data provider (SHR-6, Art.25).

Either party opens a dispute on a share request, grant, correction or finding it is party to,
stating its claim and what negotiation between the parties already tried. The rules
(:mod:`tongdao.policies.disputes`) route it: parties of the same region and level go to the data
authority of that region; parties of different regions or levels go to the provincial authority.
The handler coordinates on the ``handling_clock``; it records the outcome, or refers the dispute
to the data coordination mechanism at its level (``coordination_clock``) and later records that
mechanism's outcome. The party that opened a dispute may withdraw it while it is open. Every
step is a ledger entry citing the article; every clock is on the deadline tracker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.disputes.models import Dispute
from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.context import AUTHORITY, ContextService
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.supervision.service import SupervisionService
from tongdao.policies import disputes as routing
from tongdao.policies.i18n import msg, template_of
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

PartiesPort = Callable[[Session, str, str], tuple[str, str]]
"""A port: ``(session, subject_kind, subject_id)`` → ``(user, provider)`` of the disputed
share request, grant, correction or finding (raises NotFound)."""


@dataclass(kw_only=True)
class DisputeService(ContextService):
    """Open, refer, resolve, withdraw and list disputes."""

    ledger: Ledger
    directory: DirectoryService
    supervision: SupervisionService
    parties_of: PartiesPort | None = None

    @property
    def rules(self) -> routing.DisputeRules:
        found = self.policy.disputes
        if found is None:
            raise FailedPrecondition(
                msg(
                    "the rule file in force has no [disputes] table: this broker "
                    "handles no disputes"
                )
            )
        return found

    def _party(self, session: Session, code: str) -> routing.Party:
        dept = self.directory.find(session, code)
        if dept is None:  # the broker's operator: the provincial authority
            return routing.Party(code, "", "province")
        return routing.Party(dept.code, dept.region, dept.level)

    def _dispute(self, session: Session, dispute_id: int) -> Dispute:
        dispute = session.get(Dispute, dispute_id, with_for_update=True)
        if dispute is None:
            raise NotFound(msg("no dispute {dispute_id}", dispute_id=dispute_id), field="id")
        return dispute

    def _log(self, session: Session, actor: str, d: Dispute, step: str, **extra: object) -> None:
        self.ledger.append(
            session,
            kind=f"dispute.{step}",
            actor=actor,
            subject=d.subject_id,
            payload={
                "dispute": d.id,
                "subject_kind": d.subject_kind,
                "parties": [d.opened_by, d.respondent],
                "stage": d.stage,
                "handler": d.handler,
                "status": d.status,
                "due_on": d.due_on.isoformat(),
                "articles": [d.article],
                **extra,
            },
        )

    def _require_handler(self, session: Session, caller: str, d: Dispute) -> None:
        if caller in (d.handler, AUTHORITY):
            return
        raise PermissionDenied(
            msg(
                "only the dispute's handler ({handler}) or the provincial authority may do this",
                handler=d.handler,
            ),
            field="id",
            articles=(d.article,),
        )

    def open(
        self,
        session: Session,
        caller: str,
        subject_kind: str,
        subject_id: str,
        claim: str,
        negotiation: str,
    ) -> Dispute:
        """A party opens a dispute; it is routed and its handler's clock starts.

        Raises:
            InvalidArgument: an unknown subject kind, an empty claim or negotiation.
            NotFound: no such subject. PermissionDenied: the caller is not one of its parties.
            FailedPrecondition: the subject already has an open dispute.
        """
        r = self.rules
        if subject_kind not in r.subjects:
            raise InvalidArgument(
                msg("must be one of {v1}", v1=", ".join(r.subjects)), field="subject_kind"
            )
        subject_id = v.text(subject_id, "subject_id", max_len=64)
        claim = v.text(claim, "claim")
        negotiation = v.text(negotiation, "negotiation")
        if self.parties_of is None:
            raise FailedPrecondition(msg("disputes are not wired at this broker"))
        user, provider = self.parties_of(session, subject_kind, subject_id)
        if caller not in (user, provider):
            raise PermissionDenied(
                msg(
                    "only the parties to this {v1} may open a dispute",
                    v1=subject_kind.replace("_", " "),
                ),
                field="subject_id",
                articles=(r.article,),
            )
        if user == provider:
            raise FailedPrecondition(
                msg("a department cannot dispute with itself"), field="subject_id"
            )
        existing = session.execute(
            select(Dispute.id).where(
                Dispute.subject_kind == subject_kind,
                Dispute.subject_id == subject_id,
                Dispute.status == "open",
            )
        ).first()
        if existing is not None:
            raise FailedPrecondition(
                msg(
                    "dispute {v1} on this {v3} is still open",
                    v1=existing[0],
                    v3=subject_kind.replace("_", " "),
                ),
                field="subject_id",
            )
        respondent = provider if caller == user else user
        routed = routing.route(r, self._party(session, caller), self._party(session, respondent))
        today = self.today()
        dispute = Dispute(
            subject_kind=subject_kind,
            subject_id=subject_id,
            opened_by=caller,
            respondent=respondent,
            claim=claim,
            negotiation=negotiation,
            stage=routed.stage,
            handler=self.directory.authority_of_region(session, routed.region),
            routing=str(routed.reason),
            routing_template=template_of(routed.reason),
            article=routed.article,
            status="open",
            due_on=today,
            outcome="",
            opened_on=today,
        )
        session.add(dispute)
        session.flush()
        dispute.due_on = self.supervision.start_deadline(
            session,
            kind=routing.clock_for(r, dispute.stage),
            subject=str(dispute.id),
            responsible=dispute.handler,
        )
        self._log(session, caller, dispute, "opened", claim=claim, routing=str(routed.reason))
        return dispute

    def refer(self, session: Session, caller: str, dispute_id: int, reason: str) -> Dispute:
        """The handler could not settle it: refer it to the coordination mechanism at its level.

        Raises:
            PermissionDenied: not the handler. FailedPrecondition: closed, or already referred.
        """
        d = self._dispute(session, dispute_id)
        self._require_handler(session, caller, d)
        if d.status != "open":
            raise FailedPrecondition(msg("dispute is {status}", status=d.status), field="id")
        nxt = routing.next_stage(self.rules, d.stage)
        if nxt is None:
            raise FailedPrecondition(
                msg("the coordination mechanism is the last stage: record its outcome"), field="id"
            )
        reason = v.text(reason, "reason")
        self.supervision.close_deadline(
            session, kind=routing.clock_for(self.rules, d.stage), subject=str(d.id)
        )
        d.stage = nxt
        d.due_on = self.supervision.start_deadline(
            session,
            kind=routing.clock_for(self.rules, nxt),
            subject=str(d.id),
            responsible=d.handler,
        )
        self._log(session, caller, d, "referred", reason=reason)
        return d

    def resolve(self, session: Session, caller: str, dispute_id: int, outcome: str) -> Dispute:
        """The handler records the outcome (at the coordination stage: the mechanism's).

        Raises:
            PermissionDenied: not the handler. FailedPrecondition: not open.
        """
        d = self._dispute(session, dispute_id)
        self._require_handler(session, caller, d)
        if d.status != "open":
            raise FailedPrecondition(msg("dispute is {status}", status=d.status), field="id")
        d.outcome = v.text(outcome, "outcome")
        self._close(session, d, "resolved")
        self._log(session, caller, d, "resolved", outcome=d.outcome)
        return d

    def withdraw(self, session: Session, caller: str, dispute_id: int, reason: str) -> Dispute:
        """The party that opened the dispute withdraws it (e.g. the parties agreed after all).

        Raises:
            PermissionDenied: not the party that opened it. FailedPrecondition: not open.
        """
        d = self._dispute(session, dispute_id)
        if caller != d.opened_by:
            raise PermissionDenied(msg("only the party that opened the dispute may withdraw it"))
        if d.status != "open":
            raise FailedPrecondition(msg("dispute is {status}", status=d.status), field="id")
        d.outcome = v.text(reason, "reason")
        self._close(session, d, "withdrawn")
        self._log(session, caller, d, "withdrawn", reason=d.outcome)
        return d

    def _close(self, session: Session, d: Dispute, status: str) -> None:
        self.supervision.close_deadline(
            session, kind=routing.clock_for(self.rules, d.stage), subject=str(d.id)
        )
        d.status = status
        d.closed_on = self.today()

    @staticmethod
    def _may_see(caller: str, d: Dispute) -> bool:
        return caller in (AUTHORITY, d.opened_by, d.respondent, d.handler)

    def get(self, session: Session, caller: str, dispute_id: int) -> Dispute:
        """One dispute, to its parties, its handler and the provincial authority.

        Raises:
            NotFound: no such dispute, or one the caller may not see (not told apart).
        """
        d = session.get(Dispute, dispute_id)
        if d is None or not self._may_see(caller, d):
            raise NotFound(msg("no dispute {dispute_id}", dispute_id=dispute_id), field="id")
        return d

    def list_page(
        self,
        session: Session,
        caller: str,
        *,
        status: str = "",
        subject_id: str = "",
        page_size: int = 0,
        page_token: str = "",
    ) -> tuple[list[Dispute], str]:
        """One page of the disputes the caller may see, oldest first, and the next page's token
        ("" after the last page; sizes from the rule file's ``[limits]``).

        Raises:
            InvalidArgument: a page size out of range, or a token this list did not hand out.
        """
        page = self.page("disputes", page_size, page_token)
        if status and status not in ("open", "resolved", "withdrawn"):
            raise InvalidArgument(msg("must be open, resolved or withdrawn"), field="status")
        query = select(Dispute)
        if status:
            query = query.where(Dispute.status == status)
        if subject_id:
            query = query.where(Dispute.subject_id == subject_id)
        if caller != AUTHORITY:
            query = query.where(
                (Dispute.opened_by == caller)
                | (Dispute.respondent == caller)
                | (Dispute.handler == caller)
            )
        rows = page.fetch(session, query, Dispute.id)
        return list(rows), rows.next_page_token
