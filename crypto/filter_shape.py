"""The shape of an aggregate's filter, declared to the broker without its values.

An aggregate query's filter (``{"field", "op", "value"}``) travels sealed to the provider's node.
To let the broker supervise *differencing* — two aggregates whose filters overlap so that their
difference singles out a few records (Art.27, Art.38) — the consumer also declares the filter's
**shape** in the clear: the data item, the comparison and one *pseudonym* per compared value.
The node recomputes the shape from the sealed filter and refuses a query whose declared shape
differs, so the broker can rely on it.

A pseudonym is ``HMAC-SHA256(k, canonical JSON of the value)``, truncated to 16 bytes, with
``k = HKDF-SHA256(X25519(consumer, node), info="tongdao/v1 filter pseudonyms")``: the consumer and
the provider's node can compute ``k`` (each from its own private key and the other's public
key), the broker cannot. So the broker sees which values two queries share, never the values,
and cannot test a guess (a district code, an age) against a pseudonym. The key depends only on
the consumer–node pair, so the broker can also compare queries across that pair's grants.

Shape, as canonical JSON (sorted keys, no whitespace)::

    {"field": "district", "op": "in", "values": ["<32 hex>", ...]}   # values sorted, distinct
    {"field": "", "op": "all", "values": []}                            # no filter
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tongdao.crypto.errors import CryptoError

OPS = ("all", "eq", "in", "prefix")
MAX_SHAPE_CHARS = 40_000
MAX_VALUES = 1000
PSEUDONYM = re.compile(r"[0-9a-f]{32}")
FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_INFO = b"tongdao/v1 filter pseudonyms"


class FilterShapeError(CryptoError):
    """A declared filter shape is malformed."""


def pseudonym_key(own_private: bytes, peer_public: bytes) -> bytes:
    """The key the consumer and the node share for filter pseudonyms (X25519 + HKDF-SHA256).

    Args:
        own_private: this party's X25519 private key (raw 32 bytes).
        peer_public: the other party's X25519 public key (raw 32 bytes).
    """
    secret = X25519PrivateKey.from_private_bytes(own_private).exchange(
        X25519PublicKey.from_public_bytes(peer_public)
    )
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)


def _pseudonym(key: bytes, value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()[:32]


def filter_shape(key: bytes, field: str | None, op: str, value: Any) -> str:
    """The canonical shape of a filter (``field`` None: no filter).

    ``in`` takes a list of values (each pseudonymised); ``eq`` and ``prefix`` one value.
    """
    if field is None:
        return canonical({"field": "", "op": "all", "values": []})
    values = value if op == "in" and isinstance(value, list) else [value]
    return canonical(
        {"field": field, "op": op, "values": sorted({_pseudonym(key, v) for v in values})}
    )


def canonical(shape: dict[str, Any]) -> str:
    """Canonical JSON of a shape."""
    return json.dumps(shape, sort_keys=True, separators=(",", ":"))


def parse_shape(text: str) -> dict[str, Any]:
    """Check a declared shape strictly and return it as a dict.

    Raises:
        FilterShapeError: not a canonical, well-formed shape (the message says what).
    """
    if len(text) > MAX_SHAPE_CHARS:
        raise FilterShapeError(f"is longer than {MAX_SHAPE_CHARS} characters")
    try:
        shape = json.loads(text)
    except (ValueError, RecursionError):
        raise FilterShapeError("is not JSON") from None
    if not isinstance(shape, dict) or set(shape) != {"field", "op", "values"}:
        raise FilterShapeError("must hold exactly field, op and values")
    field, op, values = shape["field"], shape["op"], shape["values"]
    if op not in OPS:
        raise FilterShapeError(f"op must be one of {', '.join(OPS)}")
    if not isinstance(values, list) or len(values) > MAX_VALUES:
        raise FilterShapeError(f"values must be a list of at most {MAX_VALUES} pseudonyms")
    if not all(isinstance(v, str) and PSEUDONYM.fullmatch(v) for v in values):
        raise FilterShapeError("values must be 32-hex-digit pseudonyms")
    if op == "all":
        if field != "" or values:
            raise FilterShapeError("an unfiltered shape has no field and no values")
    elif not isinstance(field, str) or not FIELD.fullmatch(field) or not values:
        raise FilterShapeError("a filter names a data item and at least one value")
    if values != sorted(set(values)) or canonical(shape) != text:
        raise FilterShapeError("is not canonical (sorted keys and values, no whitespace)")
    return shape
