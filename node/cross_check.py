"""The node's half of a cross-verification (交叉核验, Art.24): keyed digests of one data item.

For the record keys the authority sealed to it (:mod:`tongdao.crypto.cross_check`), the node
answers, per key it holds, the key's digest and the item's value digest under the run's check
key, sorted by key digest (so the order says nothing about the request's). Keys it does not hold
are left out: the broker counts them as missing. Nothing is changed and no value leaves the node.
"""

from __future__ import annotations

import logging

from tongdao.crypto.cross_check import CheckFormatError, key_digest, open_check, value_digest
from tongdao.crypto.errors import EnvelopeError
from tongdao.node.adapters import normalise_key
from tongdao.node.engine import NodeEngine
from tongdao.policies.i18n import msg
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, NotFound
from tongdao.proto.query import canonical_request_id

log = logging.getLogger("tongdao.node")
MAX_KEYS = 10_000
"""The most record keys one check may name (the rule file's limit is lower)."""


def check_digests(
    engine: NodeEngine, *, run_id: str, entry_code: str, envelope: bytes
) -> list[tuple[bytes, bytes]]:
    """(key digest, value digest) per record key held, sorted.

    Raises:
        InvalidArgument: a malformed run id or envelope, too many keys, or an item the entry
            does not serve (or its key).
        NotFound: the node does not serve the entry.
    """
    canonical_request_id(run_id, "run_id")
    entry = engine.entries.get(entry_code)
    if entry is None:
        raise NotFound(
            msg("this node does not serve entry {entry_code!r}", entry_code=entry_code),
            field="entry_code",
        )
    try:
        check_key, item, keys = open_check(
            engine.encryption_keys.private_key,
            envelope,
            run_id=run_id,
            provider=engine.department,
            entry_code=entry_code,
        )
    except EnvelopeError:
        raise InvalidArgument(
            msg("not sealed to this node for this run and entry"), field="sealed_check"
        ) from None
    except CheckFormatError as exc:
        raise InvalidArgument(str(exc), field="sealed_check") from None
    if len(keys) > MAX_KEYS:
        raise InvalidArgument(
            msg("names more than {MAX_KEYS} record keys", MAX_KEYS=MAX_KEYS), field="sealed_check"
        )
    if item == entry.key_field or item not in entry.served_fields:
        raise FailedPrecondition(
            msg(
                "{item!r} is not a data item of entry {entry_code}",
                item=item,
                entry_code=entry_code,
            )
        )
    out = []
    for key in keys:
        record = entry.source.lookup(normalise_key(key, casefold=entry.casefold))
        if record is None:
            continue
        kd = key_digest(check_key, key)
        out.append((kd, value_digest(check_key, kd, record.get(item, ""))))
    out.sort()
    log.info("cross-check %s on %s: %d of %d keys held", run_id, entry_code, len(out), len(keys))
    return out
