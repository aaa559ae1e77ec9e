"""Digests for the daily reconciliation (对账, PLT-3): what a node holds and what it answered,
summed up so that the broker can compare without learning any record.

* :func:`holdings_digest` — one digest of all the records a node holds for a catalogue entry,
  independent of their order: ``SHA-256(domain ‖ count ‖ sorted(HMAC-SHA256(key, record)…))``.
  The per-record HMACs never leave the node; only the count and the digest do. Sorting makes it
  order-independent and it stays an ordinary collision-resistant commitment (SHA-256, HMAC), so
  the node cannot later claim other contents for a day it reported; an incremental multiset hash
  would avoid the sort, but the ones that resist a chosen-record collision (LtHash with a large
  lattice, MuHash over a 3072-bit group) are far bigger or slower, and a daily report does not
  need updates. The key is the node's own secret: with it the broker could confirm a guess of a
  whole small table (a few yes/no rows); without it, it learns only "same as yesterday or not".
  An auditor given the key and the data recomputes the digest.
* :func:`request_ids_digest` — the digest of the set of request ids a node answered under a grant
  in a period (the broker relayed them, so they tell it nothing new).
* :func:`report_signing_bytes` — what the node signs: the whole report, canonical JSON.

Pure; no gRPC, no SQL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any

HOLDINGS_DOMAIN = b"tongdao/v1 holdings\n"
REQUESTS_DOMAIN = b"tongdao/v1 answered requests\n"
REPORT_DOMAIN = b"tongdao/v1 reconciliation report\n"
KEY_BYTES = 32


def record_bytes(record: Mapping[str, str]) -> bytes:
    """A record's canonical bytes: JSON of its (column, value) pairs, keys sorted, UTF-8."""
    return json.dumps(
        dict(record), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def holdings_digest(records: Iterable[Mapping[str, str]], key: bytes) -> tuple[int, bytes]:
    """(record count, order-independent digest) of ``records`` under the node's ``key``.

    Duplicates count (a multiset): two equal rows differ from one.
    """
    if len(key) != KEY_BYTES:
        raise ValueError(f"the holdings key must be {KEY_BYTES} bytes")
    macs = sorted(hmac.digest(key, record_bytes(r), "sha256") for r in records)
    h = hashlib.sha256(HOLDINGS_DOMAIN)
    h.update(len(macs).to_bytes(8, "big"))
    for mac in macs:
        h.update(mac)
    return len(macs), h.digest()


def key_id(key: bytes) -> str:
    """A short public name of a holdings key (a changed key shows as a changed id)."""
    return hashlib.sha256(b"tongdao/v1 holdings key\n" + key).hexdigest()[:16]


def request_ids_digest(request_ids: Iterable[str]) -> bytes:
    """The digest of a set of request ids (order and repetition do not matter)."""
    h = hashlib.sha256(REQUESTS_DOMAIN)
    for rid in sorted(set(request_ids)):
        h.update(rid.encode() + b"\n")
    return h.digest()


def report_view(
    *,
    department: str,
    period_start: str,
    period_end: str,
    reported_at: str,
    key_id: str,
    entries: Iterable[tuple[str, int, bytes]],
    grants: Iterable[tuple[str, int, bytes]],
) -> dict[str, Any]:
    """The signed part of a report: entries as (code, count, digest), grants as (grant id,
    answered, request ids digest)."""
    return {
        "department": department,
        "period_start": period_start,
        "period_end": period_end,
        "reported_at": reported_at,
        "key_id": key_id,
        "entries": [
            {"entry_code": c, "record_count": n, "content_digest": d.hex()} for c, n, d in entries
        ],
        "grants": [
            {"grant_id": g, "answered": n, "request_ids_digest": d.hex()} for g, n, d in grants
        ],
    }


def report_signing_bytes(report: Mapping[str, Any]) -> bytes:
    """The bytes a node signs for its report: domain ‖ canonical JSON (keys sorted, no spaces).

    ``report`` is a :func:`report_view`.
    """
    return (
        REPORT_DOMAIN
        + json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
