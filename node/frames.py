"""The frames of a streamed query: a kind byte, then raw points or a padded JSON object."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from tongdao.crypto.psi import POINT_BYTES
from tongdao.policies.i18n import msg
from tongdao.proto.errors import InvalidArgument


def frame(kind: bytes, body: bytes = b"") -> bytes:
    """One protocol message: its kind byte, then its body."""
    return kind + body


JSON_FRAME_BYTES = 256  # JSON frames are padded with spaces to a multiple of this


def json_frame(kind: bytes, body: dict[str, Any]) -> bytes:
    """A JSON frame, padded with trailing spaces: its size says nothing of the numbers in it."""
    text = json.dumps(body, separators=(",", ":")).encode()
    return kind + text + b" " * (-(len(text) + 1) % JSON_FRAME_BYTES)


def unframe(message: bytes, field: str = "chunk") -> tuple[bytes, bytes]:
    """Split a message into (kind, body).

    Raises:
        InvalidArgument: an empty message.
    """
    if not message:
        raise InvalidArgument(msg("is an empty protocol message"), field=field)
    return message[:1], message[1:]


def json_body(body: bytes, field: str) -> dict[str, Any]:
    """Parse a JSON frame body that must be an object.

    Raises:
        InvalidArgument: not a JSON object.
    """
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidArgument(msg("is not JSON"), field=field) from None
    if not isinstance(value, dict):
        raise InvalidArgument(msg("must be a JSON object"), field=field)
    return value


def join_points(points: Iterable[bytes]) -> bytes:
    return b"".join(points)


def split_points(raw: bytes, field: str = "chunk") -> list[bytes]:
    """Raw 32-byte points.

    Raises:
        InvalidArgument: not a whole number of points.
    """
    if len(raw) % POINT_BYTES:
        raise InvalidArgument(
            msg("must be a whole number of {POINT_BYTES}-byte points", POINT_BYTES=POINT_BYTES),
            field=field,
        )
    return [raw[i : i + POINT_BYTES] for i in range(0, len(raw), POINT_BYTES)]
