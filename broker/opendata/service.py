"""Open data for the public (OPN-2, Art.34), served on the broker's public listener.

A person or organisation names itself with the fields the rule file's ``[open_data]
requester_identity`` lists. It downloads an unconditionally open entry directly; a
conditional-open entry only under an open-data request its provider approved (the request's id
and secret retrieval token, within the rule file's validity and the items asked for). Every
download:

* is refused for a suspended requester (OPN-4, Art.43), for a not-open entry and for one no
  longer in force;
* runs on the provider's node under a one-use token the broker signs for it, naming only the
  entry's open data items (the grades of ``open_grades``), the requester's X25519 key and the
  method ``open_download``; the node masks each value by its grade and seals the page to that
  key, so the broker relays ciphertext;
* is one ledger entry (``query.relayed``) naming the requester, its verified receipt included.

Plain domain code; the gRPC servicer is :mod:`tongdao.broker.opendata.servicer`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tongdao.broker.catalogue.service import CatalogueService
from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.context import ContextService
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.opendata.withdrawals import OpenDataWithdrawals
from tongdao.broker.relay.gateway import NodeGateway, NodeRefused
from tongdao.broker.relay.service import RelayService
from tongdao.broker.sharing.models import ServiceRequest
from tongdao.broker.sharing.public_access import requester_key
from tongdao.broker.sharing.requests import PUBLIC, ServiceRequestData, ServiceRequests
from tongdao.broker.sharing.service import SharingService
from tongdao.crypto.envelope import check_public_key, seal
from tongdao.crypto.errors import KeyFormatError
from tongdao.crypto.grant_status import issue_status_ticket
from tongdao.crypto.grant_token import GrantClaims, b64url_encode, issue_grant_token
from tongdao.crypto.query_binding import QUERY, query_associated_data, result_digest
from tongdao.policies.i18n import msg
from tongdao.policies.open_data import OpenDataRules, missing_identity, open_fields
from tongdao.proto.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from tongdao.proto.query import RelayedQuery

METHOD = "open_download"
PURPOSE = "open data (Art.34)"

RETRIEVAL_TOKEN_PREFIX = "rt_"  # noqa: S105 (a public prefix, not a secret)
"""Every retrieval token starts with this."""


@dataclass(frozen=True)
class Requester:
    """A public requester as it names itself."""

    name: str
    contact: str = ""
    id_number: str = ""


@dataclass(frozen=True)
class Download:
    """What a download returns: the page sealed to the requester, and where it is recorded."""

    entry_code: str
    entry_version: int
    fields: tuple[str, ...]
    download_id: str
    query_id: str
    sealed_result: bytes
    record_count: int
    ledger_sequence: int
    articles: tuple[str, ...]


@dataclass(frozen=True)
class Filed:
    """A filed open-data request and its retrieval token (returned once, stored as a hash)."""

    request: ServiceRequest
    retrieval_token: str


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(kw_only=True)
class OpenDataService(ContextService):
    """Downloads and conditional-open requests of the public."""

    ledger: Ledger
    directory: DirectoryService
    catalogue: CatalogueService
    sharing: SharingService
    requests: ServiceRequests
    withdrawals: OpenDataWithdrawals

    @property
    def rules(self) -> OpenDataRules:
        rules = self.policy.open_data
        if rules is None:
            raise FailedPrecondition(msg("the rule file in force sets no [open_data] section"))
        return rules

    # ------------------------------------------------------------------ who asks
    def identify(self, requester: Requester) -> Requester:
        """The requester's fields checked against the rule file (``requester.<field>``).

        Raises:
            InvalidArgument: a required field empty, or malformed.
        """
        rules = self.rules
        stated = {
            "name": requester.name,
            "contact": requester.contact,
            "id_number": requester.id_number,
        }
        absent = missing_identity(rules, stated)
        if absent is not None:
            raise InvalidArgument(
                msg(
                    "is required: a public requester states {v1}",
                    v1=", ".join(rules.requester_identity),
                ),
                field=f"requester.{absent}",
                articles=(rules.article,),
            )
        return Requester(
            v.text(requester.name, "requester.name", max_len=200),
            v.text(requester.contact, "requester.contact", required=False, max_len=120),
            v.text(requester.id_number, "requester.id_number", required=False, max_len=32),
        )

    # ------------------------------------------------------------------ requests
    def file_request(
        self,
        session: Session,
        requester: Requester,
        entry_code: str,
        items: tuple[str, ...],
        purpose: str,
    ) -> Filed:
        """File a conditional-open request with the entry's provider (Art.34: reviewed within
        ``open_data_review`` working days); an unconditionally open entry is approved at once,
        a not-open one refused with its reason."""
        who = self.identify(requester)
        entry = self.catalogue.find(session, v.entry_code(entry_code, "entry_code"))
        if entry is None or entry.current_version < 1:
            raise NotFound(
                msg("no published catalogue entry {entry_code!r}", entry_code=entry_code),
                field="entry_code",
            )
        self.withdrawals.check_not_withdrawn(session, entry.code)  # OPN-3, Art.35
        grades = self.catalogue.field_grades(session, entry.code, entry.current_version)
        offered = open_fields(self.rules, grades)
        wanted = v.field_names(items, "data_items") if items else offered
        for name in wanted:
            if name not in offered:
                raise InvalidArgument(
                    msg("data item {name!r} is not open to the public", name=name),
                    field="data_items",
                    articles=(self.rules.article,),
                )
        # the prefix names what the secret is (for secret scanners and for the person holding
        # it) and keeps it from starting with '-', which a command line would read as an option
        token = RETRIEVAL_TOKEN_PREFIX + secrets.token_urlsafe(32)
        request = self.requests.file(
            session,
            PUBLIC,
            ServiceRequestData(
                kind="open_data",
                provider=entry.provider,
                subject=entry.code,
                requester=who.name,
                description=v.text(purpose, "purpose"),
            ),
        )
        request.details = {
            **request.details,
            "data_items": list(wanted),
            "contact": who.contact,
            "id_number": who.id_number,
            "retrieval_token_sha256": _digest(token),
        }
        session.flush()
        return Filed(request, token)

    def lookup(self, session: Session, request_id: str, token: str) -> ServiceRequest:
        """The open-data request ``request_id`` for the holder of its retrieval token.

        Raises:
            NotFound: no such request, or the token does not match (the same answer, so ids
                cannot be probed).
        """
        rid = v.identifier(request_id, "id")
        request = session.get(ServiceRequest, rid)
        stored = (request.details.get("retrieval_token_sha256", "") if request else "") or ""
        if (
            request is None
            or request.kind != "open_data"
            or not token
            or not hmac.compare_digest(stored, _digest(token))
        ):
            raise NotFound(
                msg("no open-data request {request_id!r} for that token", request_id=request_id),
                field="id",
            )
        return request

    def valid_until(self, request: ServiceRequest) -> dt.date | None:
        """The last day an approved request may be used (None: not approved)."""
        if request.status != "approved" or request.decided_at is None:
            return None
        days = self.rules.conditional_validity_days
        return request.decided_at.date() + dt.timedelta(days=days)

    def due_on(self, request: ServiceRequest) -> str:
        return str(request.details.get("open_data_review_due_on", ""))

    # ------------------------------------------------------------------ downloads
    def _scope(
        self, session: Session, who: Requester, entry_code: str, request_id: str, token: str
    ) -> tuple[Any, tuple[str, ...], dict[str, str], str]:
        """(entry, data items served, grades, purpose) of a download, or the refusal."""
        rules = self.rules
        self.sharing.check_public_access(session, who.name)  # OPN-4, Art.43
        entry = self.catalogue.find(session, v.entry_code(entry_code, "entry_code"))
        if entry is None or entry.current_version < 1:
            raise NotFound(
                msg("no published catalogue entry {entry_code!r}", entry_code=entry_code),
                field="entry_code",
            )
        self.catalogue.check_in_force(entry)
        self.withdrawals.check_not_withdrawn(session, entry.code)  # OPN-3, Art.35
        content = self.catalogue.published_content(session, entry)
        open_type = content.get("open_type", "not_open")
        if open_type == "not_open":
            raise PermissionDenied(
                msg(
                    "entry {code} is not open ({v1})",
                    code=entry.code,
                    v1=content.get("open_conditions", ""),
                ),
                field="entry_code",
                articles=(self.policy.opening.article,),
            )
        grades = self.catalogue.field_grades(session, entry.code, entry.current_version)
        fields = open_fields(rules, grades)
        purpose = PURPOSE
        if open_type == "conditional_open":
            if not request_id:
                raise PermissionDenied(
                    msg(
                        "entry {code} is conditionally open: file an open-data request and "
                        "download under it once approved",
                        code=entry.code,
                    ),
                    field="request_id",
                    articles=(rules.article,),
                )
            request = self.lookup(session, request_id, token)
            if request.subject != entry.code:
                raise PermissionDenied(msg("the request is for another entry"), field="request_id")
            if requester_key(request.requester) != requester_key(who.name):
                raise PermissionDenied(
                    msg("the request was filed by another requester"), field="requester.name"
                )
            until = self.valid_until(request)
            if until is None:
                raise PermissionDenied(
                    msg("the request is {status}", status=request.status),
                    field="request_id",
                    articles=(rules.article,),
                )
            if self.today() > until:
                raise PermissionDenied(
                    msg("the approval was valid until {v1}", v1=until.isoformat()),
                    field="request_id",
                    articles=(rules.article,),
                )
            approved = set(request.details.get("data_items") or ())
            fields = tuple(f for f in fields if f in approved)
            purpose = f"{PURPOSE}: {request.id}"
        if not fields:
            raise FailedPrecondition(
                msg("entry {code} has no data item the public may receive", code=entry.code),
                field="entry_code",
                articles=(rules.article,),
            )
        return entry, fields, grades, purpose

    def download(
        self,
        sessions: sessionmaker[Session],
        gateway: NodeGateway,
        requester: Requester,
        entry_code: str,
        encryption_key: bytes,
        *,
        offset: int = 0,
        limit: int = 0,
        request_id: str = "",
        token: str = "",
    ) -> Download:
        """One page of an open entry's records from its provider's node, sealed to
        ``encryption_key``, recorded in the ledger with the requester."""
        rules = self.rules
        who = self.identify(requester)
        try:
            key = check_public_key(encryption_key)
        except KeyFormatError as exc:
            raise InvalidArgument(str(exc), field="encryption_key") from None
        v.bounded_int(offset, "offset", low=0, high=10_000_000)
        v.bounded_int(limit, "limit", low=0, high=rules.download_page_max)
        with sessions() as session:
            entry, fields, grades, purpose = self._scope(
                session, who, entry_code, request_id, token
            )
            provider = self.directory.department(session, entry.provider)
            if not provider.node_endpoint:
                raise Unavailable(
                    msg("provider {code!r} has no node endpoint registered", code=provider.code)
                )
            endpoint, node_key = provider.node_endpoint, provider.encryption_public_key
            signing_key = bytes(provider.signing_public_key)
            version = entry.current_version
        now = self.now()
        download_id, query_id = str(uuid.uuid4()), str(uuid.uuid4())
        claims = GrantClaims(
            grant_id=download_id,
            issuer=self.settings.issuer,
            consumer="public",
            provider=entry.provider,
            entry_code=entry.code,
            entry_version=version,
            fields=fields,
            methods=(METHOD,),
            purpose=purpose,
            regions=(),
            issued_at=int(now.timestamp()),
            expires_at=int(now.timestamp()) + rules.download_ticket_seconds,
            quota=1,
            consumer_encryption_key=b64url_encode(key),
            dp_epsilon_milli=0,
            dp_budget_milli=0,
            grades=grades,
        )
        signer = self.sharing.signing_key
        token_text = issue_grant_token(claims, signer)
        page = {"offset": offset, "limit": limit or rules.download_page_max}
        query = RelayedQuery(
            grant_token=token_text,
            request_id=query_id,
            method=METHOD,
            purpose=purpose,
            fields=fields,
            sealed_query=seal(
                node_key,
                json.dumps(page).encode(),
                query_associated_data(download_id, query_id, METHOD, QUERY),
            ),
            status_ticket=issue_status_ticket(
                download_id,
                token_text,
                signer,
                now=int(now.timestamp()),
                lifetime=rules.download_ticket_seconds,
            ),
        )
        payload: dict[str, Any] = {
            "grant_id": download_id,
            "request_id": query_id,
            "method": METHOD,
            "entry_code": entry.code,
            "entry_version": version,
            "fields": list(fields),
            "purpose": purpose,
            "offset": page["offset"],
            "limit": page["limit"],
            "requester": who.name,
            "requester_id_sha256": _digest(who.id_number) if who.id_number else "",
            "open_data_request": request_id,
            "token_sha256": _digest(token_text),
            "articles": [rules.article],
        }
        try:
            answer = gateway.query(endpoint, query)
        except (Unavailable, NodeRefused) as exc:
            code_name = exc.code_name if isinstance(exc, NodeRefused) else "UNAVAILABLE"
            with sessions.begin() as session:
                self.ledger.append(
                    session,
                    kind="query.failed",
                    actor=PUBLIC,
                    subject=download_id,
                    payload={**payload, "status": code_name, "message": str(exc)},
                )
            raise
        ok = RelayService._receipt_signature_valid(
            answer.receipt,
            query_id,
            download_id,
            result_digest(answer.sealed_result),
            signing_key,
        )
        with sessions.begin() as session:
            entry_row = self.ledger.append(
                session,
                kind="query.relayed" if ok else "query.bad_receipt",
                actor=PUBLIC,
                subject=download_id,
                payload={
                    **payload,
                    "sealed_result_bytes": len(answer.sealed_result),
                    "result_sha256": answer.receipt.result_digest.hex(),
                    "record_count": answer.receipt.record_count,
                    "answered_at": answer.receipt.answered_at,
                    "receipt_signature": answer.receipt.signature.hex(),
                    "receipt_verified": ok,
                },
            )
        if not ok:
            raise Unavailable(msg("the provider's node returned a receipt that does not verify"))
        return Download(
            entry.code,
            version,
            fields,
            download_id,
            query_id,
            answer.sealed_result,
            answer.receipt.record_count,
            entry_row.sequence,
            (rules.article,),
        )
