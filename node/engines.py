"""Privacy-computing query engines on the node: PSI, intersection-sum and packed aggregates.

Pure functions over a data source and the node's keys; the grant checks happen before these run
(``node.engine``). Protocols and what each party learns: docs/privacy.md.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from crypto.dp import discrete_laplace
from crypto.encoding import PackingScheme
from crypto.envelope import EncryptionKeyPair, open_sealed, seal
from crypto.errors import CryptoError, EnvelopeError
from crypto.paillier import (
    InvalidCiphertext,
    PaillierPrivateKey,
    PaillierPublicKey,
    generate_paillier_keypair,
)
from crypto.psi import POINT_BYTES, PsiBlinder, PsiError
from node.adapters import DataSource, normalise_key
from proto.errors import FailedPrecondition, InvalidArgument, PermissionDenied

MAX_PSI_POINTS = 250_000
PARALLEL_FROM = 20_000
VALUE_SCALE_DIGITS = 2  # sums of decimal fields are exact to the cent
MAX_BUCKETS = 64
MAX_NODES = 64


def psi_key(value: str) -> bytes:
    """How keys are compared in PSI on both sides: NFKC, trimmed, case-folded (ID numbers' check
    character x/X, full-width digits and stray spaces all match)."""
    return normalise_key(value, casefold=True).encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: Any, field: str) -> bytes:
    if not isinstance(text, str):
        raise InvalidArgument("must be base64 text", field=field)
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise InvalidArgument("is not base64", field=field) from None


def split_points(raw: bytes, field: str) -> list[bytes]:
    if len(raw) % POINT_BYTES:
        raise InvalidArgument(f"must be a whole number of {POINT_BYTES}-byte points", field=field)
    count = len(raw) // POINT_BYTES
    if count > MAX_PSI_POINTS:
        raise InvalidArgument(f"holds more than {MAX_PSI_POINTS} points", field=field)
    return [raw[i : i + POINT_BYTES] for i in range(0, len(raw), POINT_BYTES)]


def _workers(n: int) -> int:
    return 2 if n >= PARALLEL_FROM else 1


def _shuffled(items: list[Any]) -> list[Any]:
    out = list(items)
    secrets.SystemRandom().shuffle(out)
    return out


def scaled_value(text: str, field: str) -> int:
    """A numeric field as an integer in hundredths (exact for decimals)."""
    try:
        return int(Decimal(text.strip()).scaleb(VALUE_SCALE_DIGITS).to_integral_value())
    except (InvalidOperation, ValueError):
        raise FailedPrecondition(f"data item {field!r} holds a non-numeric value") from None


# ---------------------------------------------------------------- intersection (PRIV-3)


def intersection(
    source: DataSource, key_field: str, consumer_points: list[bytes], *, members: bool
) -> tuple[dict[str, Any], int]:
    """One round of ECDH-PSI as the provider.

    Returns ``{"double": H(x)^ab …, "provider": H(y)^b …, "ordered": members}``: with
    ``members`` the double-blinded points keep the consumer's order (it learns which of its keys
    matched); otherwise they are shuffled (it learns only how many).
    """
    blinder = PsiBlinder()
    try:
        double = blinder.reblind_many(consumer_points, workers=_workers(len(consumer_points)))
    except PsiError as exc:
        raise InvalidArgument(str(exc), field="sealed_query.points") from None
    keys = [psi_key(row[key_field]) for row in source.rows() if row.get(key_field)]
    own = _shuffled(blinder.blind_many(keys, workers=_workers(len(keys))))
    if not members:
        double = _shuffled(double)
    return {
        "double": b64(b"".join(double)),
        "provider": b64(b"".join(own)),
        "ordered": members,
    }, len(keys)


# ---------------------------------------------------------------- intersection-sum (PRIV-4)


@dataclass(frozen=True)
class Ticket:
    """What the provider hands itself between the two rounds, sealed to its own key."""

    session: str
    grant_id: str
    field: str
    private_key: bytes


def _ticket_ad(grant_id: str) -> bytes:
    return b"tongdao/v1 intersection-sum ticket|" + grant_id.encode()


def intersection_sum_round1(
    source: DataSource,
    key_field: str,
    value_field: str,
    consumer_points: list[bytes],
    *,
    own_keys: EncryptionKeyPair,
    grant_id: str,
    key_bits: int = 2048,
) -> tuple[dict[str, Any], int]:
    """Round 1: double-blind the consumer's points (shuffled), blind ours, encrypt our values
    under a fresh Paillier key of ours, and seal that key into a ticket only we can open."""
    blinder = PsiBlinder()
    try:
        double = _shuffled(
            blinder.reblind_many(consumer_points, workers=_workers(len(consumer_points)))
        )
    except PsiError as exc:
        raise InvalidArgument(str(exc), field="sealed_query.points") from None
    rows = [
        (psi_key(r[key_field]), scaled_value(r[value_field], value_field))
        for r in source.rows()
        if r.get(key_field)
    ]
    public, private = generate_paillier_keypair(key_bits)
    points = blinder.blind_many([k for k, _ in rows], workers=_workers(len(rows)))
    pairs = _shuffled(list(zip(points, private.encrypt_many([v for _, v in rows]), strict=True)))
    ticket = Ticket(str(uuid.uuid4()), grant_id, value_field, private.to_bytes())
    sealed_ticket = seal(
        own_keys.public_key,
        json.dumps({**ticket.__dict__, "private_key": b64(ticket.private_key)}).encode(),
        _ticket_ad(grant_id),
    )
    return {
        "double": b64(b"".join(double)),
        "provider": b64(b"".join(p for p, _ in pairs)),
        "ciphertexts": b64(b"".join(c.to_bytes() for _, c in pairs)),
        "paillier_public_key": b64(public.to_bytes()),
        "ticket": b64(sealed_ticket),
        "scale_digits": VALUE_SCALE_DIGITS,
    }, len(rows)


def open_ticket(sealed: bytes, own_keys: EncryptionKeyPair, grant_id: str) -> Ticket:
    try:
        raw = json.loads(open_sealed(own_keys.private_key, sealed, _ticket_ad(grant_id)))
        return Ticket(
            raw["session"], raw["grant_id"], raw["field"], base64.b64decode(raw["private_key"])
        )
    except (EnvelopeError, ValueError, KeyError, TypeError):
        raise InvalidArgument(
            "ticket is not one this node issued for this grant", field="sealed_query.ticket"
        ) from None


def intersection_sum_round2(
    ticket: Ticket, masked_sum: bytes, count: int, min_group: int, min_group_article: str
) -> dict[str, Any]:
    """Round 2: refuse small groups, then decrypt the consumer's masked sum ``S + r``."""
    if count < min_group:
        raise PermissionDenied(
            f"intersection of {count} is below the minimum group size {min_group}",
            field="sealed_query.count",
            articles=(min_group_article,),
        )
    try:
        private = PaillierPrivateKey.from_bytes(ticket.private_key)
        value = private.raw_decrypt(private.public_key.ciphertext(masked_sum))
    except (InvalidCiphertext, CryptoError):
        raise InvalidArgument(
            "is not a valid ciphertext under this session's key", field="sealed_query.masked_sum"
        ) from None
    return {"masked_sum": str(int(value))}


# ---------------------------------------------------------------- aggregate (PRIV-5)


@dataclass(frozen=True)
class AggregateQuery:
    public_key: PaillierPublicKey
    value_field: str
    filter_field: str | None
    filter_op: str
    filter_value: Any
    low: int
    high: int
    edges: tuple[int, ...]
    nodes: int
    max_rows: int


def parse_aggregate_query(body: dict[str, Any], granted: Iterable[str]) -> AggregateQuery:
    """Validate an aggregate query strictly; every problem names its field."""
    allowed = set(granted)
    try:
        pk = PaillierPublicKey.from_bytes(
            unb64(body.get("paillier_public_key"), "paillier_public_key")
        )
    except InvalidCiphertext:
        raise InvalidArgument(
            "is not a Paillier public key", field="sealed_query.paillier_public_key"
        ) from None
    value_field = body.get("value_field")
    if value_field not in allowed:
        raise PermissionDenied("value field is not in the grant", field="sealed_query.value_field")
    flt = body.get("filter") or {}
    filter_field = flt.get("field")
    op = flt.get("op", "eq")
    if filter_field is not None and filter_field not in allowed:
        raise PermissionDenied("filter field is not in the grant", field="sealed_query.filter")
    if op not in ("eq", "in", "prefix"):
        raise InvalidArgument("op must be eq, in or prefix", field="sealed_query.filter")
    bounds = body.get("bounds")
    edges = body.get("buckets") or []
    nodes, max_rows = body.get("nodes"), body.get("max_rows")
    if (
        not isinstance(bounds, list)
        or len(bounds) != 2
        or not all(isinstance(b, int) for b in bounds)
        or bounds[0] >= bounds[1]
    ):
        raise InvalidArgument(
            "must be [low, high] integers in hundredths", field="sealed_query.bounds"
        )
    if (
        not isinstance(edges, list)
        or len(edges) > MAX_BUCKETS + 1
        or not all(isinstance(e, int) for e in edges)
        or edges != sorted(set(edges))
    ):
        raise InvalidArgument("must be increasing integers", field="sealed_query.buckets")
    if not isinstance(nodes, int) or not 1 <= nodes <= MAX_NODES:
        raise InvalidArgument(f"must be 1 to {MAX_NODES}", field="sealed_query.nodes")
    if not isinstance(max_rows, int) or not 1 <= max_rows <= 10**9:
        raise InvalidArgument("must be 1 to 10^9", field="sealed_query.max_rows")
    return AggregateQuery(
        pk,
        value_field,
        filter_field,
        op,
        flt.get("value"),
        bounds[0],
        bounds[1],
        tuple(edges),
        nodes,
        max_rows,
    )


def aggregate_scheme(q: AggregateQuery) -> PackingScheme:
    """The packing every node of one aggregate uses (derived from the query, so identical)."""
    span = q.high - q.low
    return PackingScheme.for_bounds(
        q.public_key, 0, q.max_rows * max(span, 1) ** 2, additions=q.nodes
    )


def aggregate_statistics(source: DataSource, q: AggregateQuery) -> list[int]:
    """``[count, Σ(v−low), Σ(v−low)², bucket counts…]`` over the matching rows (values clipped)."""
    count = s1 = s2 = 0
    buckets = [0] * max(len(q.edges) - 1, 0)
    want = q.filter_value
    for row in source.rows():
        if q.filter_field is not None:
            cell = row.get(q.filter_field, "")
            if (
                (q.filter_op == "eq" and cell != want)
                or (q.filter_op == "in" and cell not in (want or []))
                or (q.filter_op == "prefix" and not cell.startswith(str(want)))
            ):
                continue
        raw = row.get(q.value_field, "")
        if raw == "":
            continue
        v = min(max(scaled_value(raw, q.value_field), q.low), q.high)
        count += 1
        s1 += v - q.low
        s2 += (v - q.low) ** 2
        for i in range(len(buckets)):
            if q.edges[i] <= v < q.edges[i + 1] or (i == len(buckets) - 1 and v == q.edges[-1]):
                buckets[i] += 1
                break
    return [count, s1, s2, *buckets]


def add_noise(stats: list[int], q: AggregateQuery, epsilon: float, cap: int) -> list[int]:
    """Discrete Laplace noise, epsilon split evenly over count, sum, sum of squares and the
    histogram (each a separate release); results clamped to [0, cap] (post-processing)."""
    span = max(q.high - q.low, 1)
    share = epsilon / 4
    sensitivity = [1, span, span * span] + [1] * (len(stats) - 3)
    return [
        min(max(v + discrete_laplace(s / share), 0), cap)
        for v, s in zip(stats, sensitivity, strict=True)
    ]
