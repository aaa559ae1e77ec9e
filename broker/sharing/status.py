"""Grant status (Art.27, 41, 43): suspension, termination and reinstatement of grants, and the
short-lived status tickets through which a change reaches the provider's node.

Who may: the authority for any grant, the provider for its own grants. Every change cites a
ground from the rule file (``[grant_status.grounds]``, each with its article), states a reason and
is a ledger entry. A terminated grant never comes back; a suspended one may be reinstated.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.context import AUTHORITY, ContextService
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.sharing.grant_use import LiveGrant
from tongdao.broker.sharing.models import Grant
from tongdao.crypto.grant_status import issue_status_ticket
from tongdao.crypto.signing import SigningKey
from tongdao.policies.i18n import msg
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

STATUSES = ("active", "suspended", "terminated")
MAX_HELD_TICKETS = 4096  # grants whose ticket is held for reuse; the memory is cleared when full
CHANGES = {"suspend": "suspended", "terminate": "terminated", "reinstate": "active"}
ALLOWED_FROM = {
    "suspended": ("active",),
    "terminated": ("active", "suspended"),
    "active": ("suspended",),
}


class GrantStatusMixin(ContextService):
    """Status changes of grants; part of :class:`~tongdao.broker.sharing.service.SharingService`
    (which supplies these attributes as its dataclass fields)."""

    ledger: Ledger
    directory: DirectoryService
    signing_key: SigningKey
    # (grant id, token) -> (signed at, ticket): the ticket attached to the grant's queries
    status_tickets: dict[tuple[str, str], tuple[int, str]]

    def change_grant_status(
        self,
        session: Session,
        caller: str,
        grant_id: str,
        change: str,
        ground: str,
        reason: str,
        *,
        on_behalf_of_rules: bool = False,
    ) -> Grant:
        """Suspend, terminate or reinstate a grant (``change``), citing ``ground``.

        Args:
            caller: the authority, or the grant's provider; with ``on_behalf_of_rules`` the
                broker itself (an overdue rectification order), recorded as ``caller``.

        Raises:
            PermissionDenied: the caller is neither the authority nor the grant's provider.
            InvalidArgument: unknown change or ground, or an empty reason (names the field).
            FailedPrecondition: the grant's status does not allow the change.
        """
        service = self
        if change not in CHANGES:
            raise InvalidArgument(msg("must be suspend, terminate or reinstate"), field="change")
        rules = service.policy.grant_status
        rule = rules.grounds.get(ground)
        if rule is None:
            raise InvalidArgument(
                msg("must be one of {v1}", v1=", ".join(sorted(rules.grounds))),
                field="ground",
                articles=(rules.article,),
            )
        reason = v.text(reason, "reason", max_len=v.MAX_TEXT)
        grant = session.get(Grant, v.identifier(grant_id, "grant_id"), with_for_update=True)
        if grant is None:
            raise NotFound(msg("no grant {grant_id!r}", grant_id=grant_id), field="grant_id")
        if not on_behalf_of_rules and caller not in (grant.provider, AUTHORITY):
            try:
                service.directory.require_authority(session, caller)
            except PermissionDenied:
                raise PermissionDenied(
                    msg("only the authority or the grant's provider may change its status"),
                    field="grant_id",
                    articles=(rule.article,),
                ) from None
        target = CHANGES[change]
        if grant.status not in ALLOWED_FROM[target]:
            raise FailedPrecondition(
                msg("grant is {status}; it cannot be {target}", status=grant.status, target=target),
                field="grant_id",
                articles=(rule.article,),
            )
        now = service.now()
        before = grant.status
        grant.status = target
        grant.status_ground = ground
        grant.status_article = rule.article
        grant.status_reason = reason
        grant.status_changed_by = caller
        grant.status_changed_at = now
        service.ledger.append(
            session,
            kind=f"grant.{target if target != 'active' else 'reinstated'}",
            actor=caller,
            subject=grant.id,
            payload={
                "from": before,
                "to": target,
                "ground": ground,
                "reason": reason,
                "articles": [rule.article],
                "consumer": grant.consumer,
                "provider": grant.provider,
                "entry_code": grant.entry_code,
                "reaches_nodes_within_seconds": rules.ticket_seconds,
            },
        )
        return grant

    def status_ticket(self, grant: Grant | LiveGrant) -> str:
        """The broker's signed, short-lived word that ``grant`` is active, for its node.

        The ticket signed for a grant's token is attached again for the rule file's
        ``ticket_renew_seconds``, then a new one is signed. This is safe because the caller
        checks the grant's status in the store on every query and never asks for a ticket for a
        suspended grant: the last ticket of a suspended grant was signed before the suspension
        and expires ``ticket_seconds`` after it was signed, as it would without the reuse.

        Raises:
            PermissionDenied: the grant is not active (no ticket is ever signed for it).
        """
        if grant.status != "active":
            raise PermissionDenied(
                msg("grant is {status}", status=grant.status), field="grant_token"
            )
        rules = self.policy.grant_status
        now = int(self.now().timestamp())
        held = self.status_tickets.get((grant.id, grant.token))
        if held is not None and 0 <= now - held[0] < rules.ticket_renew_seconds:
            return held[1]
        ticket = issue_status_ticket(
            grant.id, grant.token, self.signing_key, now=now, lifetime=rules.ticket_seconds
        )
        if len(self.status_tickets) >= MAX_HELD_TICKETS:
            self.status_tickets.clear()
        self.status_tickets[(grant.id, grant.token)] = (now, ticket)
        return ticket
