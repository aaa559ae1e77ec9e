"""Grant changes (SHR-11, Art.30): wider use, another purpose and onward transfer, each only
with the provider's consent.

The grant's consumer asks; the grant's provider consents or refuses with its reasons. What a
consent does:

* ``widen_fields`` — the grant also covers the named data items of the same catalogue entry
  version: the broker re-signs the grant's token (same grant, expiry, quota and use count). The
  previous token stops working within ``grant_status.ticket_seconds``: the broker relays and
  tickets only the grant's current token.
* ``add_purpose`` — a further purpose: the broker issues a new grant for it, with the same data
  items, methods, regions and expiry and the original grant's remaining quota; the original grant
  keeps its own purpose.
* ``onward_transfer`` — the consumer may pass the data it receives under the grant to the named
  third party (a registered department); recorded on the change, in the ledger and listed to both.

Nothing else changes what a grant allows. Every step is a ledger entry (``grant_change.requested``,
``.consented``, ``.refused``, and ``grant.changed`` / ``grant.issued``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongdao.broker.catalogue.service import CatalogueService
from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.context import ContextService
from tongdao.broker.kernel.paging import Page
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.sharing.models import Grant, GrantChange
from tongdao.crypto.grant_token import (
    GrantTokenError,
    b64url_encode,
    issue_grant_token,
    read_grant_token_unverified,
)
from tongdao.crypto.signing import SigningKey
from tongdao.policies.i18n import msg
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

KINDS = ("widen_fields", "add_purpose", "onward_transfer")


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


@dataclasses.dataclass(frozen=True)
class GrantChangeData:
    """What a consumer asks to change on one grant."""

    kind: str
    fields: tuple[str, ...] = ()
    purpose: str = ""
    third_party: str = ""
    reason: str = ""


class GrantChangeMixin(ContextService):
    """Grant changes; part of :class:`~tongdao.broker.sharing.service.SharingService`."""

    ledger: Ledger
    directory: DirectoryService
    catalogue: CatalogueService
    signing_key: SigningKey

    @property
    def _change_article(self) -> str:
        return self.policy.sharing.purpose_binding_article

    def request_grant_change(
        self, session: Session, caller: str, grant_id: str, data: GrantChangeData
    ) -> GrantChange:
        """The grant's consumer asks its provider for a change (names the field at fault).

        Raises:
            NotFound / PermissionDenied / InvalidArgument / FailedPrecondition.
        """
        article = self._change_article
        grant = session.get(Grant, v.identifier(grant_id, "grant_id"))
        if grant is None:
            raise NotFound(msg("no grant {grant_id!r}", grant_id=grant_id), field="grant_id")
        if grant.consumer != caller:
            raise PermissionDenied(
                msg("only the grant's consumer may ask to change it"),
                field="grant_id",
                articles=(article,),
            )
        if grant.status != "active":
            raise FailedPrecondition(
                msg("grant is {status}", status=grant.status), field="grant_id"
            )
        if data.kind not in KINDS:
            raise InvalidArgument(msg("must be one of {v1}", v1=", ".join(KINDS)), field="kind")
        reason = v.text(data.reason, "reason", max_len=v.MAX_TEXT)
        fields: list[str] = []
        purpose = third_party = ""
        if data.kind == "widen_fields":
            fields = v.field_names(data.fields, "fields")
            items = self.catalogue.field_grades(session, grant.entry_code, grant.entry_version)
            for name in fields:
                if name not in items:
                    raise InvalidArgument(
                        msg(
                            "{name!r} is not a data item of {entry_code} version {entry_version}",
                            name=name,
                            entry_code=grant.entry_code,
                            entry_version=grant.entry_version,
                        ),
                        field="fields",
                    )
                if name in grant.fields:
                    raise InvalidArgument(
                        msg("{name!r} is already granted", name=name), field="fields"
                    )
        elif data.kind == "add_purpose":
            purpose = v.text(data.purpose, "purpose", max_len=500)
            if purpose == grant.purpose:
                raise InvalidArgument(msg("is already the grant's purpose"), field="purpose")
        else:
            third_party = self.directory.department(
                session, v.text(data.third_party, "third_party", max_len=64), "third_party"
            ).code
            if third_party in (grant.consumer, grant.provider):
                raise InvalidArgument(
                    msg("must be a department other than the grant's parties"), field="third_party"
                )
        change = GrantChange(
            id=str(uuid.uuid4()),
            grant_id=grant.id,
            consumer=grant.consumer,
            provider=grant.provider,
            kind=data.kind,
            fields=fields,
            purpose=purpose,
            third_party=third_party,
            reason=reason,
            status="pending",
            decision_reason="",
            result_grant_id="",
            created_at=self.now(),
        )
        session.add(change)
        session.flush()
        self._log_change(session, "grant_change.requested", caller, change)
        return change

    def decide_grant_change(
        self, session: Session, caller: str, change_id: str, consent: bool, reason: str
    ) -> GrantChange:
        """The grant's provider consents (the change takes effect) or refuses with reasons.

        Raises:
            NotFound / PermissionDenied / InvalidArgument / FailedPrecondition.
        """
        article = self._change_article
        change = session.get(GrantChange, v.identifier(change_id, "id"), with_for_update=True)
        if change is None:
            raise NotFound(msg("no grant change {change_id!r}", change_id=change_id), field="id")
        if change.provider != caller:
            raise PermissionDenied(
                msg("only the grant's provider may consent to or refuse a change"),
                field="id",
                articles=(article,),
            )
        if change.status != "pending":
            raise FailedPrecondition(
                msg("change is already {status}", status=change.status), field="id"
            )
        reason = v.text(reason, "reason", required=not consent, max_len=v.MAX_TEXT)
        change.decision_reason = reason
        change.decided_at = self.now()
        if not consent:
            change.status = "refused"
            self._log_change(session, "grant_change.refused", caller, change)
            return change
        grant = session.get(Grant, change.grant_id, with_for_update=True)
        if grant is None or grant.status != "active":
            raise FailedPrecondition(msg("the grant is no longer active"), field="id")
        change.status = "consented"
        if change.kind == "widen_fields":
            before = hashlib.sha256(grant.token.encode()).hexdigest()
            grant.fields = [*grant.fields, *change.fields]
            grant.token = self._sign(session, grant)
            change.result_grant_id = grant.id
            self.ledger.append(
                session,
                kind="grant.changed",
                actor=caller,
                subject=grant.id,
                payload={
                    "change_id": change.id,
                    "fields": list(grant.fields),
                    "previous_token_sha256": before,
                    "token_sha256": hashlib.sha256(grant.token.encode()).hexdigest(),
                    "articles": [article],
                },
            )
        elif change.kind == "add_purpose":
            change.result_grant_id = self._successor(session, grant, change, caller).id
        self._log_change(session, "grant_change.consented", caller, change)
        return change

    def list_grant_changes(
        self,
        session: Session,
        caller: str,
        role: str,
        grant_id: str = "",
        page: Page | None = None,
    ) -> Sequence[GrantChange]:
        """Changes the caller asked for (``consumer``) or must decide / decided (``provider``),
        oldest first (one page of them with ``page``)."""
        self.directory.require_registered(session, caller)
        if role not in ("consumer", "provider"):
            raise InvalidArgument(msg("must be 'consumer' or 'provider'"), field="role")
        column = GrantChange.consumer if role == "consumer" else GrantChange.provider
        query = select(GrantChange).where(column == caller)
        if grant_id:
            query = query.where(GrantChange.grant_id == v.identifier(grant_id, "grant_id"))
        if page is not None:
            return page.fetch(session, query, GrantChange.created_at, GrantChange.id)
        return session.execute(query.order_by(GrantChange.created_at)).scalars().all()

    def regrade_tokens(self, session: Session) -> int:
        """Re-sign every active or suspended grant whose token carries no catalogue grades
        (signed before grants carried them), so its provider's node can serve it (PRIV-6). The
        consumer fetches the new token with GetGrant; the broker tells it so when it sends the
        old one.

        Returns:
            How many grants were re-signed (each a ``grant.changed`` ledger entry).
        """
        count = 0
        rows = select(Grant).where(Grant.status.in_(("active", "suspended")))
        for grant in session.execute(rows).scalars():
            if read_grant_token_unverified(grant.token).grades:
                continue
            before = hashlib.sha256(grant.token.encode()).hexdigest()
            grant.token = self._sign(session, grant)
            self.ledger.append(
                session,
                kind="grant.changed",
                actor=self.settings.issuer,
                subject=grant.id,
                payload={
                    "change": "catalogue grades added to the token",
                    "previous_token_sha256": before,
                    "token_sha256": hashlib.sha256(grant.token.encode()).hexdigest(),
                    "articles": [self.policy.classification_article],
                },
            )
            count += 1
        return count

    def superseded(self, session: Session, token: str) -> Grant | None:
        """The grant an *earlier* token of which is ``token`` (re-signed since), or None."""
        try:
            grant_id = read_grant_token_unverified(token).grant_id
        except GrantTokenError:
            return None
        grant = session.get(Grant, grant_id) if _is_uuid(grant_id) else None
        return grant if grant is not None and grant.token != token else None

    # ------------------------------------------------------------------ helpers
    def _sign(self, session: Session, grant: Grant) -> str:
        """A token for the grant as it now stands (its claims otherwise as first signed)."""
        old = read_grant_token_unverified(grant.token)
        consumer = self.directory.department(session, grant.consumer)
        claims = dataclasses.replace(
            old,
            grant_id=grant.id,
            fields=tuple(grant.fields),
            purpose=grant.purpose,
            quota=grant.quota,
            consumer_encryption_key=b64url_encode(consumer.encryption_public_key),
            grades=self.catalogue.field_grades(session, grant.entry_code, grant.entry_version),
        )
        return issue_grant_token(claims, self.signing_key)

    def _successor(self, session: Session, grant: Grant, change: GrantChange, caller: str) -> Grant:
        """A new grant for the consented further purpose, on the original's terms."""
        successor = Grant(
            id=str(uuid.uuid4()),
            share_request_id=grant.share_request_id,
            consumer=grant.consumer,
            provider=grant.provider,
            entry_code=grant.entry_code,
            entry_version=grant.entry_version,
            fields=list(grant.fields),
            methods=list(grant.methods),
            purpose=change.purpose,
            regions=list(grant.regions),
            issued_at=grant.issued_at,
            expires_at=grant.expires_at,
            quota=max(1, grant.quota - grant.used),
            dp_epsilon=grant.dp_epsilon,
            dp_budget=grant.dp_budget,
            used=0,
            status="active",
            token=grant.token,
        )
        successor.token = self._sign(session, successor)
        session.add(successor)
        session.flush()
        self.ledger.append(
            session,
            kind="grant.issued",
            actor=caller,
            subject=successor.id,
            payload={
                "change_id": change.id,
                "from_grant": grant.id,
                "consumer": successor.consumer,
                "provider": successor.provider,
                "entry_code": successor.entry_code,
                "entry_version": successor.entry_version,
                "fields": successor.fields,
                "methods": successor.methods,
                "purpose": successor.purpose,
                "regions": successor.regions,
                "expires_at": successor.expires_at.isoformat(),
                "quota": successor.quota,
                "token_sha256": hashlib.sha256(successor.token.encode()).hexdigest(),
                "articles": [self._change_article],
            },
        )
        return successor

    def _log_change(self, session: Session, kind: str, actor: str, change: GrantChange) -> None:
        self.ledger.append(
            session,
            kind=kind,
            actor=actor,
            subject=change.grant_id,
            payload={
                "change_id": change.id,
                "kind": change.kind,
                "fields": list(change.fields),
                "purpose": change.purpose,
                "third_party": change.third_party,
                "reason": change.reason,
                "status": change.status,
                "decision_reason": change.decision_reason,
                "result_grant_id": change.result_grant_id,
                "articles": [self._change_article],
            },
        )
