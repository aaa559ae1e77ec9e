"""What binds a relayed query to its grant: envelope associated data and receipt bytes.

The consumer seals the query to the provider's node and the node seals the result to the consumer;
both bind the grant id, the request id and the method, so a relay cannot move a ciphertext into
another grant, request or method. The node signs a receipt over the digest of what it returned;
the broker records it.
"""

from __future__ import annotations

import hashlib

from tongdao.crypto.errors import ParameterError

QUERY = "query"
RESULT = "result"


def query_associated_data(grant_id: str, request_id: str, method: str, direction: str) -> bytes:
    """Associated data for the query (``direction="query"``) or result (``"result"``) envelope.

    Args:
        grant_id: the grant the query runs under.
        request_id: the consumer's unique request id.
        method: the query method name, e.g. ``fetch``.
        direction: ``query`` or ``result``.

    Returns:
        Length-prefixed bytes (unambiguous for any field contents).

    Raises:
        ParameterError: unknown direction.
    """
    if direction not in (QUERY, RESULT):
        raise ParameterError(f"direction must be {QUERY!r} or {RESULT!r}")
    return _encode(("tongdao/v1", grant_id, request_id, method, direction))


def receipt_signing_bytes(
    *,
    request_id: str,
    grant_id: str,
    provider: str,
    result_digest: bytes,
    record_count: int,
    answered_at: str,
) -> bytes:
    """The bytes a node signs in a receipt (and the broker verifies)."""
    return _encode(
        (
            "tongdao/v1 receipt",
            request_id,
            grant_id,
            provider,
            result_digest.hex(),
            str(record_count),
            answered_at,
        )
    )


def result_digest(sealed_result: bytes) -> bytes:
    """SHA-256 of the sealed result, as named in the receipt."""
    return hashlib.sha256(sealed_result).digest()


def _encode(parts: tuple[str, ...]) -> bytes:
    out = bytearray()
    for part in parts:
        data = part.encode()
        out += len(data).to_bytes(4, "big") + data
    return bytes(out)
