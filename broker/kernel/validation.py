"""Edge validation of what callers send: sizes, ranges, patterns. Errors name the field."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence

from tongdao.policies.i18n import msg
from tongdao.proto.errors import InvalidArgument

CODE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
ENTRY_CODE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
REGION = re.compile(r"^[0-9]{6}$")
LEVELS = ("province", "city", "county")
MAX_TEXT = 2000
MAX_ITEMS = 200
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""NUL and control characters: refused in every text (tab, line feed, carriage return pass)."""
ROW_ID_MAX = 2**31 - 1
"""The largest identifier or sequence number the store holds (a 32-bit integer column)."""


def code(value: str, field: str) -> str:
    """A department code: lower-case letters, digits, '.', '_', '-'."""
    if not value:
        raise InvalidArgument(msg("is required"), field=field)
    if not CODE.match(value):
        raise InvalidArgument(
            msg(
                "must be 1-63 characters of a-z, 0-9, '.', '_' or '-', "
                "starting with a letter or digit"
            ),
            field=field,
        )
    return value


def entry_code(value: str, field: str) -> str:
    """A catalogue entry code."""
    if not value:
        raise InvalidArgument(msg("is required"), field=field)
    if not ENTRY_CODE.match(value):
        raise InvalidArgument(
            msg("must be 1-128 characters of a-z, 0-9, '.', '_' or '-'"), field=field
        )
    return value


def text(value: str, field: str, *, required: bool = True, max_len: int = MAX_TEXT) -> str:
    """Free text: trimmed, bounded, no NUL or control characters, required unless said otherwise."""
    value = value.strip()
    if required and not value:
        raise InvalidArgument(msg("must not be empty"), field=field)
    if len(value) > max_len:
        raise InvalidArgument(
            msg("is longer than {max_len} characters", max_len=max_len), field=field
        )
    plain(value, field)
    return value


def plain(value: str, field: str) -> str:
    """Text without NUL or control characters (the store and its full-text index refuse them)."""
    if CONTROL.search(value):
        raise InvalidArgument(msg("must not contain NUL or control characters"), field=field)
    return value


def row_id(value: int, field: str, *, low: int = 1) -> int:
    """An identifier or sequence number the store can hold: ``low`` to 2**31 - 1."""
    return bounded_int(value, field, low=low, high=ROW_ID_MAX)


def field_names(values: Sequence[str], field: str, *, required: bool = True) -> list[str]:
    """A list of data item names: well-formed, unique, bounded."""
    if required and not values:
        raise InvalidArgument(msg("must name at least one data item"), field=field)
    if len(values) > MAX_ITEMS:
        raise InvalidArgument(
            msg("names more than {MAX_ITEMS} items", MAX_ITEMS=MAX_ITEMS), field=field
        )
    seen: set[str] = set()
    for name in values:
        if not FIELD_NAME.match(name):
            raise InvalidArgument(
                msg(
                    "{name!r} is not a valid data item name: ASCII letters, digits and _, "
                    "starting with a letter or _, at most 64 characters (e.g. id_number)",
                    name=name,
                ),
                field=field,
            )
        if name in seen:
            raise InvalidArgument(msg("{name!r} is named twice", name=name), field=field)
        seen.add(name)
    return list(values)


def region(value: str, field: str) -> str:
    """A six-digit administrative region code (e.g. 230000 for Heilongjiang)."""
    if not REGION.match(value):
        raise InvalidArgument(msg("must be a six-digit region code such as 230000"), field=field)
    return value


def regions(values: Iterable[str], field: str) -> list[str]:
    """A bounded list of region codes."""
    out = [region(v, field) for v in values]
    if len(out) > MAX_ITEMS:
        raise InvalidArgument(
            msg("names more than {MAX_ITEMS} regions", MAX_ITEMS=MAX_ITEMS), field=field
        )
    return out


def level(value: str, field: str) -> str:
    """An administrative level."""
    if value not in LEVELS:
        raise InvalidArgument(msg("must be one of {v1}", v1=", ".join(LEVELS)), field=field)
    return value


def identifier(value: str, field: str) -> str:
    """A UUID (request, grant and share-request identifiers)."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError):
        raise InvalidArgument(msg("is not a valid identifier"), field=field) from None


def key_bytes(value: bytes, field: str, length: int = 32) -> bytes:
    """A raw public key of a fixed length."""
    if len(value) != length:
        raise InvalidArgument(msg("must be {length} bytes", length=length), field=field)
    return value


def x25519_key(value: bytes, field: str) -> bytes:
    """An X25519 public key: 32 bytes and not a point of low order (nothing sealed to such a
    key would be secret)."""
    from tongdao.crypto.envelope import check_public_key
    from tongdao.crypto.errors import KeyFormatError

    key_bytes(value, field)
    try:
        return check_public_key(value)
    except KeyFormatError:
        raise InvalidArgument(msg("is a low-order X25519 point"), field=field) from None


def bounded_int(value: int, field: str, *, low: int, high: int) -> int:
    """An integer in ``[low, high]``."""
    if not low <= value <= high:
        raise InvalidArgument(
            msg("must be between {low} and {high}", low=low, high=high), field=field
        )
    return value
