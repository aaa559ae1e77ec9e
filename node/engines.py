"""Privacy-computing query engines on the node: PSI, intersection-sum and packed aggregates.

Pure functions over a data source and the node's keys; the grant checks happen before these run
(``node.engine``). Protocols and what each party learns: docs/privacy.md.
"""

from __future__ import annotations

import base64
import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from tongdao.crypto.dp import discrete_laplace, laplace_scale
from tongdao.crypto.encoding import PackingScheme
from tongdao.crypto.errors import CryptoError, KeyFormatError, ParameterError
from tongdao.crypto.filter_shape import filter_shape
from tongdao.crypto.paillier import PaillierPublicKey
from tongdao.node.adapters import DataSource, normalise_key
from tongdao.policies.i18n import msg
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, PermissionDenied

VALUE_SCALE_DIGITS = 2  # sums of decimal fields are exact to the cent
MAX_BUCKETS = 64
MAX_NODES = 64


def psi_key(value: str) -> bytes:
    """How keys are compared in PSI on both sides: NFKC, trimmed, case-folded (ID numbers' check
    character x/X, full-width digits and stray spaces all match)."""
    return normalise_key(value, casefold=True).encode()


def unb64(text: Any, field: str) -> bytes:
    if not isinstance(text, str):
        raise InvalidArgument(msg("must be base64 text"), field=field)
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise InvalidArgument(msg("is not base64"), field=field) from None


_DIGITS = frozenset("0123456789")


def scaled_value(text: str, field: str) -> int:
    """A numeric field as an integer in hundredths (exact for decimals).

    Raises:
        FailedPrecondition: not a number.
    """
    # fast path for the plain forms registries hold ("1234", "-56.7", "89.01"); anything else
    # (exponents, more decimals, spaces) goes through Decimal, which rounds half-even
    whole, _, frac = text.partition(".")
    sign = 1
    if whole[:1] == "-":
        sign, whole = -1, whole[1:]
    if whole and len(frac) <= VALUE_SCALE_DIGITS and _DIGITS.issuperset(whole + frac):
        return sign * (int(whole) * 100 + int(frac.ljust(VALUE_SCALE_DIGITS, "0") or "0"))
    try:
        return int(Decimal(text.strip()).scaleb(VALUE_SCALE_DIGITS).to_integral_value())
    except (InvalidOperation, ValueError):
        raise FailedPrecondition(
            msg("data item {field!r} holds a non-numeric value", field=field)
        ) from None


# Intersection (PRIV-3) and intersection-sum (PRIV-4) run as streamed queries: node.streams.


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
    except KeyFormatError as exc:
        raise InvalidArgument(str(exc), field="sealed_query.paillier_public_key") from None
    except CryptoError:
        raise InvalidArgument(
            msg("is not a Paillier public key"), field="sealed_query.paillier_public_key"
        ) from None
    value_field = body.get("value_field")
    if value_field not in allowed:
        raise PermissionDenied(
            msg("value field is not in the grant"), field="sealed_query.value_field"
        )
    flt = body.get("filter") or {}
    filter_field = flt.get("field")
    op = flt.get("op", "eq")
    if filter_field is not None and filter_field not in allowed:
        raise PermissionDenied(msg("filter field is not in the grant"), field="sealed_query.filter")
    if op not in ("eq", "in", "prefix"):
        raise InvalidArgument(msg("op must be eq, in or prefix"), field="sealed_query.filter")
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
            msg("must be [low, high] integers in hundredths"), field="sealed_query.bounds"
        )
    if (
        not isinstance(edges, list)
        or len(edges) > MAX_BUCKETS + 1
        or not all(isinstance(e, int) for e in edges)
        or edges != sorted(set(edges))
    ):
        raise InvalidArgument(msg("must be increasing integers"), field="sealed_query.buckets")
    if not isinstance(nodes, int) or not 1 <= nodes <= MAX_NODES:
        raise InvalidArgument(
            msg("must be 1 to {MAX_NODES}", MAX_NODES=MAX_NODES), field="sealed_query.nodes"
        )
    if not isinstance(max_rows, int) or not 1 <= max_rows <= 10**9:
        raise InvalidArgument(msg("must be 1 to 10^9"), field="sealed_query.max_rows")
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
    """The packing every node of one aggregate uses (derived from the query, so identical).

    Raises:
        InvalidArgument: bounds and ``max_rows`` so large that one slot does not fit the key.
    """
    span = q.high - q.low
    try:
        return PackingScheme.for_bounds(
            q.public_key, 0, q.max_rows * max(span, 1) ** 2, additions=q.nodes
        )
    except ParameterError:
        raise InvalidArgument(
            msg("bounds and max_rows are too large for the Paillier key"),
            field="sealed_query.max_rows",
        ) from None


def aggregate_statistics(source: DataSource, q: AggregateQuery) -> list[int]:
    """``[count, Σ(v−low), Σ(v−low)², bucket counts…]`` over the matching rows (values clipped).

    At most ``max_rows`` matching rows are counted, in source order (clamping, never a refusal:
    a refusal on "more than max_rows" would tell the consumer the count for free)."""
    count = s1 = s2 = 0
    edges = q.edges
    buckets = [0] * max(len(edges) - 1, 0)
    want = q.filter_value
    wanted = set(want) if q.filter_op == "in" and isinstance(want, list) else set()
    prefix = str(want)
    low, high = q.low, q.high
    names = [q.value_field] if q.filter_field is None else [q.value_field, q.filter_field]
    for row in source.project(names):
        if q.filter_field is not None:
            cell = row[1]
            if (
                (q.filter_op == "eq" and cell != want)
                or (q.filter_op == "in" and cell not in wanted)
                or (q.filter_op == "prefix" and not cell.startswith(prefix))
            ):
                continue
        raw = row[0]
        if raw == "":
            continue
        if count == q.max_rows:
            break
        v = min(max(scaled_value(raw, q.value_field), low), high)
        count += 1
        d = v - low
        s1 += d
        s2 += d * d
        if buckets:
            # half-open [e_i, e_i+1), the last bucket closed at its top edge
            i = bisect.bisect_right(edges, v) - 1
            if i == len(buckets) and v == edges[-1]:
                i -= 1
            if 0 <= i < len(buckets):
                buckets[i] += 1
    return [count, s1, s2, *buckets]


HISTOGRAM_SENSITIVITY = 2
"""L1 sensitivity of the histogram: with rows clamped to ``max_rows``, one added row can push
another out, moving one count down and another up."""


def add_noise(stats: list[int], q: AggregateQuery, epsilon_milli: int, cap: int) -> list[int]:
    """Exact discrete Laplace noise (:func:`crypto.dp.discrete_laplace`), ε split evenly over
    count, sum, sum of squares and the histogram (four releases, basic composition), with
    sensitivities 1, range, range² and 2; results clamped to [0, cap] (post-processing).

    Raises:
        PrivacyBudgetError: ε is zero.
    """
    span = max(q.high - q.low, 1)
    sensitivity = [1, span, span * span] + [HISTOGRAM_SENSITIVITY] * (len(stats) - 3)
    return [
        min(max(v + discrete_laplace(laplace_scale(s, epsilon_milli, shares=4)), 0), cap)
        for v, s in zip(stats, sensitivity, strict=True)
    ]


def check_filter_shape(q: AggregateQuery, declared: str, key: bytes) -> None:
    """The shape the consumer declared to the broker must be the sealed filter's
    (:mod:`crypto.filter_shape`), so the broker's differencing supervision can rely on it.

    Raises:
        InvalidArgument: naming ``filter_shape``.
    """
    if not declared:
        raise InvalidArgument(msg("an aggregate declares its filter shape"), field="filter_shape")
    if declared != filter_shape(key, q.filter_field, q.filter_op, q.filter_value):
        raise InvalidArgument(msg("differs from the sealed filter"), field="filter_shape")
