"""The shape of a sealed fetch or verify query's body, checked before any row is read, and the
padding of its sealed answer."""

from __future__ import annotations

from typing import Any

from tongdao.node.adapters import normalise_key
from tongdao.policies.i18n import msg
from tongdao.proto.errors import InvalidArgument

MAX_KEYS = 1000
MAX_KEY_CHARS = 256
MAX_CLAIM_CHARS = 1024
PAD_BUCKET = 4096  # results are padded to a power of two of at least this many bytes


def padded(plain: bytes) -> bytes:
    """JSON padded with spaces to a power-of-two size of at least :data:`PAD_BUCKET` bytes, so
    the sealed result's size does not tell a relay how many records were found."""
    size = PAD_BUCKET
    while size < len(plain):
        size *= 2
    return plain + b" " * (size - len(plain))


def checked_key(raw: Any, field_name: str, casefold: bool) -> str:
    """``raw`` as a lookup key of the entry (normalised as its source keys are).

    Raises:
        InvalidArgument: not a non-empty string of at most :data:`MAX_KEY_CHARS` characters.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidArgument(msg("keys must be non-empty strings"), field=field_name)
    if len(raw) > MAX_KEY_CHARS:
        raise InvalidArgument(
            msg("a key is longer than {MAX_KEY_CHARS} characters", MAX_KEY_CHARS=MAX_KEY_CHARS),
            field=field_name,
        )
    return normalise_key(raw, casefold=casefold)


def fetch_keys(body: Any) -> list[Any]:
    """The keys of a fetch body ``{"keys": [...]}``.

    Raises:
        InvalidArgument: another shape, or not 1 to :data:`MAX_KEYS` keys.
    """
    if not isinstance(body, dict) or set(body) != {"keys"} or not isinstance(body["keys"], list):
        raise InvalidArgument(msg('must be {{"keys": [...]}}'), field="sealed_query")
    keys = body["keys"]
    if not 1 <= len(keys) <= MAX_KEYS:
        raise InvalidArgument(
            msg("must hold 1 to {MAX_KEYS} keys", MAX_KEYS=MAX_KEYS), field="sealed_query.keys"
        )
    return keys


def verify_claims(body: Any, fields: tuple[str, ...]) -> dict[str, str]:
    """The claims of a verify body ``{"key": ..., "claims": {...}}``.

    Raises:
        InvalidArgument: another shape, no claim, a claim of a data item not in ``fields`` or
            longer than :data:`MAX_CLAIM_CHARS` characters.
    """
    if not isinstance(body, dict) or set(body) != {"key", "claims"}:
        raise InvalidArgument(
            msg('must be {{"key": ..., "claims": {{...}}}}'), field="sealed_query"
        )
    claims = body["claims"]
    if not isinstance(claims, dict):
        raise InvalidArgument(
            msg('must be {{"key": ..., "claims": {{...}}}}'), field="sealed_query"
        )
    if not claims:
        raise InvalidArgument(msg("must claim at least one data item"), field="sealed_query.claims")
    for name, value in claims.items():
        if name not in fields:
            raise InvalidArgument(
                msg("claims data item {name!r} not named in fields", name=name),
                field="sealed_query.claims",
            )
        if not isinstance(value, str) or len(value) > MAX_CLAIM_CHARS:
            raise InvalidArgument(
                msg(
                    "claim for {name!r} must be a string of at most {MAX_CLAIM_CHARS} characters",
                    name=name,
                    MAX_CLAIM_CHARS=MAX_CLAIM_CHARS,
                ),
                field="sealed_query.claims",
            )
    return claims
