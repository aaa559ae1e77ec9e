"""What the consumer SDK (:mod:`tongdao.node.client`) returns and raises."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import NotRequired, TypedDict

from tongdao.policies.i18n import msg

DEFAULT_TIMEOUT = 30.0
STREAM_TIMEOUT = 21600.0  # an intersection-sum over 10⁶ provider rows takes about an hour
IN_FLIGHT_FRAMES = 4  # selection frames proved ahead of the one being sent


class ClientError(Exception):
    """A call failed. ``code`` is the gRPC status name (e.g. PERMISSION_DENIED)."""

    def __init__(self, code: str, message: str, *, english: str | None = None) -> None:
        # a Text (made with msg) is shown in its reader's language; a broker's or node's
        # refusal (plain text) already is in the caller's, which the client sent along
        super().__init__(msg("{code}: {message}", code=code, message=message))
        self.code = code
        self.message = message
        self.english = str(message) if english is None else english
        """The message in English (what a program matching on text should read)."""


Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: stage is ``blinding`` or ``matching``."""

FieldValue = str | int | float | bool | None
"""A data item's value as the node serves it (masked as the policy says)."""


class FetchedRecord(TypedDict):
    """One record of a fetch (PRIV-1), in the order of the keys asked for.

    Attributes:
        key: the key asked for.
        found: whether the provider holds a record with that key.
        fields: the granted fields of the record (empty when not found), masked.
    """

    key: str
    found: bool
    fields: dict[str, FieldValue]


class Verification(TypedDict):
    """Match / no-match per claimed field (PRIV-2); no value is ever returned.

    Attributes:
        found: whether the provider holds a record with the key.
        matches: for each claimed field, whether the claim equals the record's value.
    """

    found: bool
    matches: dict[str, bool]


class Intersection(TypedDict):
    """The answer of a private set intersection (PRIV-3).

    Attributes:
        size: how many of our keys the provider holds.
        consumer_set_size: our distinct keys.
        provider_rows: the provider's rows taking part.
        members: our keys in the intersection (``intersection`` grants only; an
            ``intersection_size`` grant reveals the size alone).
    """

    size: int
    consumer_set_size: int
    provider_rows: int
    members: NotRequired[list[str]]


class IntersectionSum(TypedDict):
    """The answer of an intersection-sum (PRIV-4): the sum of a value over the intersection.

    Attributes:
        size: how many of our keys the provider holds.
        sum: the sum of the value field over those records.
        consumer_set_size: our distinct keys.
        provider_rows: the provider's rows taking part.
    """

    size: int
    sum: Decimal
    consumer_set_size: int
    provider_rows: int


class Aggregate(TypedDict):
    """Statistics across providers' nodes (PRIV-5), decrypted by the consumer alone.

    Attributes:
        count: records counted over every node.
        nodes: nodes asked.
        suppressed_nodes: how many nodes' groups were below the minimum size (they added zeros);
            which ones is inside the sum, known to no one.
        histogram: count per bucket, labelled ``[low, high)``.
        sum: the total (absent when ``count`` is 0).
        mean: the mean (absent when ``count`` is 0).
        variance: the population variance (absent when ``count`` is 0).
    """

    count: int
    nodes: int
    suppressed_nodes: int
    histogram: dict[str, int]
    sum: NotRequired[Decimal]
    mean: NotRequired[Decimal]
    variance: NotRequired[Decimal]
