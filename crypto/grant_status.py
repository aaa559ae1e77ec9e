"""Grant status tickets: the broker's short-lived, signed word that a grant is still active.

A grant token lives as long as the grant (months); a suspension or termination must reach the
provider's node sooner than that, even when somebody replays the token straight to the node with
the broker's certificate. So the broker attaches a fresh ticket to every query it relays, signed
with the same Ed25519 key as the token and only for a grant it has just checked is active. The
node refuses a query without a valid ticket for that exact token, so a grant stops working at the
node at most ``lifetime`` seconds after the broker stops renewing its tickets.

Format (ASCII, URL-safe)::

    tds1.<base64url(canonical JSON claims)>.<base64url(Ed25519 signature over "tds1.<claims>")>

The prefix differs from grant tokens (``tdg1``), so one can never be taken for the other.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from tongdao.crypto.errors import KeyFormatError, SignatureError
from tongdao.crypto.grant_token import GrantTokenError, b64url_decode, b64url_encode
from tongdao.crypto.signing import SigningKey, VerifyKey

PREFIX = "tds1"
MAX_TICKET_CHARS = 1024
MAX_SKEW_SECONDS = 5
"""How far ahead of the node's clock a ticket's issue time may be (clock skew), no more."""


class GrantStatusError(GrantTokenError):
    """A status ticket is missing, malformed, forged, for another token or stale."""


@dataclass(frozen=True)
class StatusClaims:
    """What a status ticket states.

    Attributes:
        grant_id: the grant it speaks of.
        token_sha256: hex SHA-256 of that grant's token (binds the ticket to one token).
        status: always ``active`` (the broker signs no ticket for any other status).
        issued_at: Unix seconds.
        expires_at: Unix seconds; refused at or after this instant.
    """

    grant_id: str
    token_sha256: str
    status: str
    issued_at: int
    expires_at: int

    def to_json(self) -> bytes:
        # the fields by name (as asdict would give them, without its deep copy: one per query)
        fields = {
            "grant_id": self.grant_id,
            "token_sha256": self.token_sha256,
            "status": self.status,
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
        }
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def token_digest(grant_token: str) -> str:
    """Hex SHA-256 of a grant token, as a ticket names it."""
    return hashlib.sha256(grant_token.encode()).hexdigest()


def issue_status_ticket(
    grant_id: str, grant_token: str, key: SigningKey, *, now: int, lifetime: int
) -> str:
    """Sign "grant ``grant_id`` (this token) is active" for ``lifetime`` seconds from ``now``."""
    claims = StatusClaims(grant_id, token_digest(grant_token), "active", now, now + lifetime)
    signed = f"{PREFIX}.{b64url_encode(claims.to_json())}"
    return f"{signed}.{b64url_encode(key.sign(signed.encode()))}"


def verify_status_ticket(
    ticket: str, grant_token: str, grant_id: str, broker_key: VerifyKey, *, now: int
) -> StatusClaims:
    """Check that ``ticket`` is the broker's, current, and about this very grant token.

    Raises:
        GrantStatusError: reason ``missing``, ``malformed``, ``signature``, ``other_grant`` or
            ``stale``.
    """
    if not ticket:
        raise GrantStatusError("missing", "no grant status ticket from the broker")
    parts = ticket.split(".")
    if len(ticket) > MAX_TICKET_CHARS or len(parts) != 3 or parts[0] != PREFIX:
        raise GrantStatusError("malformed", "grant status ticket is not of the form tds1.<c>.<s>")
    try:
        broker_key.verify(b64url_decode(parts[2]), f"{parts[0]}.{parts[1]}".encode())
    except (KeyFormatError, SignatureError):
        raise GrantStatusError(
            "signature", "grant status ticket does not verify under the broker's key"
        ) from None
    try:
        raw = json.loads(b64url_decode(parts[1]))
        claims = StatusClaims(
            grant_id=str(raw["grant_id"]),
            token_sha256=str(raw["token_sha256"]),
            status=str(raw["status"]),
            issued_at=int(raw["issued_at"]),
            expires_at=int(raw["expires_at"]),
        )
    except (KeyFormatError, ValueError, UnicodeDecodeError, KeyError, TypeError):
        raise GrantStatusError("malformed", "grant status ticket claims are unreadable") from None
    if claims.grant_id != grant_id or claims.token_sha256 != token_digest(grant_token):
        raise GrantStatusError("other_grant", "grant status ticket is for another grant token")
    if claims.status != "active":
        raise GrantStatusError("inactive", f"grant is {claims.status}")
    if now >= claims.expires_at or now < claims.issued_at - MAX_SKEW_SECONDS:
        raise GrantStatusError(
            "stale", "grant status ticket is stale: the broker no longer vouches for this grant"
        )
    return claims
