"""Grant tokens: what a consumer may do with one catalogue entry, signed by the broker.

The broker issues a token when a share request is approved. The provider's node verifies it
*itself* (signature by the broker's key, expiry, entry, fields, method, purpose) before it touches
data, so a compromised relay cannot widen a grant.

Format (ASCII, URL-safe)::

    tdg1.<base64url(canonical JSON claims)>.<base64url(Ed25519 signature over "tdg1.<claims>")>

Canonical JSON: sorted keys, no whitespace, UTF-8. Any change to the claims (a widened field list,
a later expiry, a larger quota) breaks the signature.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from tongdao.crypto.errors import CryptoError, KeyFormatError, SignatureError
from tongdao.crypto.signing import SigningKey, VerifyKey

PREFIX = "tdg1"
MAX_TOKEN_CHARS = 16_384


class GrantTokenError(CryptoError):
    """A grant token is malformed, forged or expired. ``reason`` is a short machine code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class GrantClaims:
    """The claims a grant token carries.

    Attributes:
        grant_id: the broker's grant identifier.
        issuer: who signed (the broker's name).
        consumer: department code of the consumer.
        provider: department code of the provider.
        entry_code: catalogue entry code.
        entry_version: catalogue entry version the grant was given on.
        fields: data items the consumer may receive or test.
        methods: query methods allowed (``fetch``, ``verify``, ...).
        purpose: the stated purpose; every query must state the same purpose.
        regions: region scope, administrative division codes (empty: the provider's whole
            scope). A node that maps a column to region codes returns only records inside them.
        issued_at: Unix seconds.
        expires_at: Unix seconds; the token is refused at or after this instant.
        quota: maximum number of queries.
        consumer_encryption_key: the consumer's X25519 public key (base64url), to which results
            are sealed. Binding it here stops a relay from substituting its own key.
        dp_epsilon_milli: differential-privacy epsilon per aggregate query, in thousandths
            (0: no noise).
        dp_budget_milli: the grant's total epsilon budget, in thousandths.
        grades: data item → sensitivity grade of *every* item of the published catalogue entry
            version the grant names (PRIV-6). The node masks and refuses by these, and refuses
            to serve the entry when its own configuration grades an item otherwise. Empty: the
            grant carries no catalogue grades, and a node serves nothing under it.
        delegate: the lower-level department that decided the request under the provider's
            regional split (Art.23); empty when the provider (or nobody: an unconditional
            entry) decided it.
        return_flow: the return-flow arrangement the grant was issued under (Art.26); empty
            for a grant on a share request.
    """

    grant_id: str
    issuer: str
    consumer: str
    provider: str
    entry_code: str
    entry_version: int
    fields: tuple[str, ...]
    methods: tuple[str, ...]
    purpose: str
    regions: tuple[str, ...]
    issued_at: int
    expires_at: int
    quota: int
    consumer_encryption_key: str
    dp_epsilon_milli: int = 0
    dp_budget_milli: int = 0
    grades: Mapping[str, str] = field(default_factory=dict)
    delegate: str = ""
    return_flow: str = ""

    def to_json(self) -> bytes:
        """Canonical JSON of the claims."""
        return json.dumps(
            asdict(self), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()

    @property
    def consumer_encryption_key_bytes(self) -> bytes:
        """The consumer's X25519 public key as raw bytes."""
        return b64url_decode(self.consumer_encryption_key)


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


B64URL = re.compile(r"[A-Za-z0-9_-]*")
"""The base64url alphabet; a token segment holds nothing else (no padding, no whitespace)."""


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url, strictly: only the alphabet, canonical length and final bits.

    Exactly one text decodes to given bytes: no junk characters are skipped, no padding is
    accepted, and the unused bits of the last character must be zero (so an altered last
    character never decodes to the same signature).

    Raises:
        KeyFormatError: the text is not canonical unpadded base64url.
    """
    if not B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise KeyFormatError("not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise KeyFormatError("not base64url") from None
    if b64url_encode(data) != text:
        raise KeyFormatError("not canonical base64url")
    return data


def issue_grant_token(claims: GrantClaims, key: SigningKey) -> str:
    """Sign ``claims`` with the broker's key.

    Args:
        claims: what the grant allows.
        key: the broker's Ed25519 signing key.

    Returns:
        The token string.
    """
    signed = f"{PREFIX}.{b64url_encode(claims.to_json())}"
    return f"{signed}.{b64url_encode(key.sign(signed.encode()))}"


def _claims_from_dict(raw: Any) -> GrantClaims:
    if not isinstance(raw, dict):
        raise GrantTokenError("malformed", "grant token claims are not an object")
    expected = {f.name for f in fields(GrantClaims)}
    # a token signed before grants carried catalogue grades reads as carrying none (the node
    # then refuses it and says so); any other missing or unknown key is malformed
    # (likewise a token signed before grants named a delegate or a return flow: none)
    raw = {"grades": {}, "delegate": "", "return_flow": "", **raw}
    if set(raw) != expected:
        raise GrantTokenError("malformed", "grant token claims have missing or unknown keys")
    values: dict[str, Any] = {}
    for f in fields(GrantClaims):
        value = raw[f.name]
        if f.type in ("tuple[str, ...]",):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise GrantTokenError("malformed", f"grant token claim {f.name} is not a list")
            value = tuple(value)
        elif f.type == "Mapping[str, str]":
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise GrantTokenError("malformed", f"grant token claim {f.name} is not a map")
            value = dict(value)
        elif f.type == "int":
            if not isinstance(value, int) or isinstance(value, bool):
                raise GrantTokenError("malformed", f"grant token claim {f.name} is not an integer")
        elif not isinstance(value, str):
            raise GrantTokenError("malformed", f"grant token claim {f.name} is not a string")
        values[f.name] = value
    return GrantClaims(**values)


def read_grant_token_unverified(token: str) -> GrantClaims:
    """Parse the claims *without* checking the signature (for display only; never to authorise).

    Raises:
        GrantTokenError: the token is malformed.
    """
    if len(token) > MAX_TOKEN_CHARS:
        raise GrantTokenError("malformed", f"grant token longer than {MAX_TOKEN_CHARS} characters")
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise GrantTokenError("malformed", "grant token is not of the form tdg1.<claims>.<sig>")
    try:
        raw = json.loads(b64url_decode(parts[1]))
    except (KeyFormatError, ValueError, UnicodeDecodeError, RecursionError):
        raise GrantTokenError("malformed", "grant token claims are not base64url JSON") from None
    return _claims_from_dict(raw)


def verify_grant_token(token: str, broker_key: VerifyKey, *, now: int) -> GrantClaims:
    """Check a token's signature and expiry and return its claims.

    Scope checks (entry, fields, method, purpose, quota) are the caller's: they depend on the
    query. This function only answers "did the broker sign exactly this, and is it still valid".

    Args:
        token: the token string.
        broker_key: the broker's Ed25519 public key, configured at the node.
        now: current Unix seconds (injected so tests can move time).

    Returns:
        The verified claims.

    Raises:
        GrantTokenError: reason ``malformed``, ``signature`` (forged or altered), or ``expired``.
    """
    claims = read_grant_token_unverified(token)
    signed, _, sig_text = token.rpartition(".")
    try:
        signature = b64url_decode(sig_text)
        broker_key.verify(signature, signed.encode())
    except (KeyFormatError, SignatureError):
        raise GrantTokenError(
            "signature", "grant token signature does not verify under the broker's key"
        ) from None
    if now >= claims.expires_at:
        raise GrantTokenError("expired", "grant token has expired")
    if now < claims.issued_at - 300:  # tolerate 5 minutes of clock skew, no more
        raise GrantTokenError("not_yet_valid", "grant token is not valid yet")
    return claims
