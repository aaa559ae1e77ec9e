"""Open data downloaded by the public (OPN-2, Art.34): a page of an open entry's records.

The broker signs a one-use token for each download naming the requester's X25519 key, the
entry's open data items and the method ``open_download``; the node checks it like any grant
(provider, entry, catalogue grades, items, grades' rules for returned fields), then returns the
page's records, every value through its grade's mask, sealed to that key. The page (offset,
limit) is sealed to the node by the broker: it names no person and needs no consumer key.
"""

from __future__ import annotations

import itertools
import json
from typing import TYPE_CHECKING, Any

from tongdao.crypto.envelope import open_sealed, seal
from tongdao.crypto.errors import EnvelopeError, KeyFormatError
from tongdao.crypto.grant_token import GrantClaims
from tongdao.crypto.query_binding import QUERY, RESULT, query_associated_data
from tongdao.policies.i18n import msg
from tongdao.proto.errors import InvalidArgument
from tongdao.proto.query import QueryAnswer, RelayedQuery

if TYPE_CHECKING:
    from tongdao.node.engine import NodeEngine, ServedEntry

OPEN_DOWNLOAD = "open_download"
MAX_PAGE = 10_000
"""The most records one download page may ask for (the rule file's bound is smaller)."""


def grade_method(method: str) -> str:
    """The method a grade's rule is read for: an open download returns values, like a fetch."""
    return "fetch" if method == OPEN_DOWNLOAD else method


def _page(body: Any) -> tuple[int, int]:
    if not isinstance(body, dict) or set(body) != {"offset", "limit"}:
        raise InvalidArgument(msg('must be {{"offset": N, "limit": N}}'), field="sealed_query")
    offset, limit = body["offset"], body["limit"]
    for name, value, low, high in (("offset", offset, 0, 10**9), ("limit", limit, 1, MAX_PAGE)):
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise InvalidArgument(
                msg("must be an integer from {low} to {high}", low=low, high=high),
                field=f"sealed_query.{name}",
            )
    return offset, limit


def open_download(
    engine: NodeEngine, claims: GrantClaims, entry: ServedEntry, query: RelayedQuery
) -> QueryAnswer:
    """Answer an authorised ``open_download``: the page's records, masked, sealed, receipted."""
    from tongdao.node.engine import padded

    for name in query.fields:
        engine.check_role(entry, name, "returned", "fields")
    try:
        plain = open_sealed(
            engine.encryption_keys.private_key,
            query.sealed_query,
            query_associated_data(claims.grant_id, query.request_id, query.method, QUERY),
        )
        offset, limit = _page(json.loads(plain))
    except (EnvelopeError, KeyFormatError):
        raise InvalidArgument(
            msg("does not open: not sealed to this node's key for this download"),
            field="sealed_query",
        ) from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidArgument(msg("is not JSON"), field="sealed_query") from None
    rows = list(itertools.islice(entry.source.rows(), offset, offset + limit + 1))
    records = [
        {name: engine.masker(entry.grades[name], row.get(name, ""), name) for name in query.fields}
        for row in rows[:limit]
    ]
    result = {"records": records, "offset": offset, "more": len(rows) > limit}
    sealed = seal(
        claims.consumer_encryption_key_bytes,
        padded(json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode()),
        query_associated_data(claims.grant_id, query.request_id, query.method, RESULT),
    )
    return engine._finish(claims, query, sealed, len(records))
