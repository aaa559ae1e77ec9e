"""Cross-verification (交叉核验, Art.24) between two providers, compared on keyed digests only.

The authority picks a fresh 32-byte check key and the record keys to check, and seals both, with
the data item to compare, to each provider's node (:func:`seal_check`, bound to the run, the
provider and the entry). Each node answers, per record key it holds, the pair
(:func:`key_digest`, :func:`value_digest`) under that check key. The broker pairs the two
answers by key digest and compares the value digests: it learns how many records match, differ
or are missing, and which key digests differ — never a key or a value, and it cannot test a
guess without the check key. The authority, holding the check key, computes the same key
digests beforehand and hands the broker, per key digest, the record key sealed to each provider
(:func:`seal_record_key`), which the broker forwards in the correction notice of a mismatch.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from collections.abc import Sequence

from tongdao.crypto.envelope import open_sealed, seal

CHECK_KEY_BYTES = 32
AAD_DOMAIN = b"tongdao/v1 cross-check"
NOTICE_DOMAIN = b"tongdao/v1 cross-check notice"
KEY_DOMAIN = b"tongdao/v1 cross-check key\n"
VALUE_DOMAIN = b"tongdao/v1 cross-check value\n"


class CheckFormatError(ValueError):
    """An opened check request is not ``{"check_key", "item", "record_keys"}``."""


def _aad(domain: bytes, run_id: str, provider: str, entry_code: str) -> bytes:
    return b"|".join((domain, run_id.encode(), provider.encode(), entry_code.encode()))


def seal_check(
    node_public_key: bytes,
    *,
    run_id: str,
    provider: str,
    entry_code: str,
    item: str,
    check_key: bytes,
    record_keys: Sequence[str],
) -> bytes:
    """The authority's request to one node: what to digest, under which key."""
    body = {"check_key": check_key.hex(), "item": item, "record_keys": list(record_keys)}
    return seal(
        node_public_key,
        json.dumps(body, ensure_ascii=False).encode(),
        _aad(AAD_DOMAIN, run_id, provider, entry_code),
    )


def open_check(
    private_key: bytes, envelope: bytes, *, run_id: str, provider: str, entry_code: str
) -> tuple[bytes, str, list[str]]:
    """(check key, item, record keys), at the node.

    Raises:
        EnvelopeError: not sealed to this node for this run and entry.
        CheckFormatError: the content is malformed.
    """
    plain = open_sealed(private_key, envelope, _aad(AAD_DOMAIN, run_id, provider, entry_code))
    try:
        body = json.loads(plain)
        key = bytes.fromhex(body["check_key"])
        item = body["item"]
        keys = body["record_keys"]
    except (ValueError, KeyError, TypeError):
        raise CheckFormatError("the check request is malformed") from None
    if len(key) != CHECK_KEY_BYTES or not isinstance(item, str) or not isinstance(keys, list):
        raise CheckFormatError("the check request is malformed")
    if not all(isinstance(k, str) for k in keys):
        raise CheckFormatError("record keys must be text")
    return key, item, keys


def normalise(value: str) -> str:
    """The form both nodes compare in: NFKC, trimmed."""
    return unicodedata.normalize("NFKC", value).strip()


def key_digest(check_key: bytes, record_key: str) -> bytes:
    """HMAC-SHA256 of a (normalised) record key under the run's check key."""
    return hmac.new(check_key, KEY_DOMAIN + normalise(record_key).encode(), hashlib.sha256).digest()


def value_digest(check_key: bytes, key_digest_: bytes, value: str) -> bytes:
    """HMAC-SHA256 of one record's (normalised) value, bound to its key digest."""
    return hmac.new(
        check_key, VALUE_DOMAIN + key_digest_ + normalise(value).encode(), hashlib.sha256
    ).digest()


def seal_record_key(
    provider_public_key: bytes, *, run_id: str, provider: str, entry_code: str, record_key: str
) -> bytes:
    """A record key for the correction notice a mismatch opens at ``provider``."""
    return seal(
        provider_public_key,
        record_key.encode(),
        _aad(NOTICE_DOMAIN, run_id, provider, entry_code),
    )


def open_record_key(
    private_key: bytes, envelope: bytes, *, run_id: str, provider: str, entry_code: str
) -> str:
    """The provider reads the record key of a notice (raises EnvelopeError otherwise)."""
    return open_sealed(
        private_key, envelope, _aad(NOTICE_DOMAIN, run_id, provider, entry_code)
    ).decode()
