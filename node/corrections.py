"""The node applies an accepted correction (SHR-5, Art.24) to its own data, through its adapter.

The broker relays the filer's envelope (:mod:`tongdao.crypto.correction`) once the provider has
accepted the correction; the node opens it, checks that every corrected item is a data item the
entry serves (never its key), applies it with :meth:`DataSource.correct` (a CSV file rewritten
atomically, one UPDATE in a transaction for SQL), and signs a receipt with the record's keyed
digests before and after. Whatever it cannot apply is refused with the reason, signed the same
way, so the broker can record either outcome. Each correction id is applied at most once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from tongdao.crypto.correction import (
    CorrectionFormatError,
    CorrectionReceipt,
    open_correction,
    record_digest,
)
from tongdao.crypto.errors import EnvelopeError
from tongdao.crypto.reconciliation import key_id
from tongdao.node.adapters import CorrectionRefused, normalise_key
from tongdao.node.engine import NodeEngine, ServedEntry
from tongdao.policies.i18n import msg
from tongdao.proto.errors import InvalidArgument
from tongdao.proto.query import canonical_request_id

log = logging.getLogger("tongdao.node")
REPLAY_KIND = "correction"
_lock = threading.Lock()


def _check_items(
    fields: Sequence[str], names: Sequence[str], served: Sequence[str], key: str
) -> str:
    """Why these items cannot be corrected, or ""."""
    if sorted(fields) != sorted(names):
        return "the sealed values do not match the data items the correction names"
    if key in names:
        return f"the record key {key!r} cannot be corrected"
    unknown = [n for n in names if n not in served]
    if unknown:
        return f"{unknown[0]!r} is not a data item of the entry"
    return ""


def _apply(
    engine: NodeEngine,
    entry: ServedEntry,
    correction_id: str,
    fields: Sequence[str],
    envelope: bytes,
) -> tuple[str, dict[str, str], dict[str, str]]:
    """(refusal, before, after): the refusal is "" when applied."""
    if engine.state.seen(correction_id):
        return "this correction was applied before", {}, {}
    try:
        record_key, values = open_correction(
            engine.encryption_keys.private_key,
            envelope,
            provider=engine.department,
            entry_code=entry.code,
            correction_id=correction_id,
        )
    except EnvelopeError:
        return "the correction is not sealed to this node for this entry", {}, {}
    except CorrectionFormatError as exc:
        return str(exc), {}, {}
    refusal = _check_items(fields, list(values), entry.served_fields, entry.key_field)
    if refusal:
        return refusal, {}, {}
    try:
        before, after = entry.source.correct(
            normalise_key(record_key, casefold=entry.casefold), values
        )
    except CorrectionRefused as exc:
        return str(exc), {}, {}
    engine.state.remember(correction_id, REPLAY_KIND, engine.clock())
    return "", before, after


def apply_correction(
    engine: NodeEngine,
    *,
    request_id: str,
    entry_code: str,
    correction_id: str,
    fields: Sequence[str],
    envelope: bytes,
) -> CorrectionReceipt:
    """Apply one correction, or refuse it; the receipt says which, signed.

    Raises:
        InvalidArgument: the request or correction id is not a UUID, or the node keeps no
            holdings key (nothing to sign for).
    """
    canonical_request_id(request_id, "request_id")
    canonical_request_id(correction_id, "correction_id")
    if not engine.holdings_key:
        raise InvalidArgument(msg("this node keeps no holdings key to digest records with"))
    entry = engine.entries.get(entry_code)
    before: dict[str, str] = {}
    after: dict[str, str] = {}
    if entry is None:
        refusal = f"this node does not serve entry {entry_code!r}"
    else:
        with _lock:
            refusal, before, after = _apply(engine, entry, correction_id, fields, envelope)
    receipt = CorrectionReceipt(
        request_id=request_id,
        department=engine.department,
        entry_code=entry_code,
        correction_id=correction_id,
        fields=tuple(fields),
        before_digest=record_digest(engine.holdings_key, before) if not refusal else b"",
        after_digest=record_digest(engine.holdings_key, after) if not refusal else b"",
        key_id=key_id(engine.holdings_key),
        decided_at=engine.clock().isoformat(),
        refusal=refusal,
    )
    # identifiers only: never the record key or a value
    log.info(
        "correction %s of request %s on %s: %s",
        correction_id,
        request_id,
        entry_code,
        f"refused ({refusal})" if refusal else "applied",
    )
    return receipt.signed(engine.signing_key)
