"""Padding a streamed query's sets to size buckets, so the broker sees only the bucket.

The bucket rule is the rule file's (``[privacy] stream_padding_minimum`` and
``stream_padding_steps``); docs/privacy.md ("What the broker sees") states what remains visible.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass

MAX_STREAM_POINTS = 10_000_000  # a consumer set larger than this is refused (memory bound)

DUMMY_PREFIX = b"\xff"  # never in a normalised key (UTF-8): a dummy cannot equal a real key


@dataclass(frozen=True)
class StreamPadding:
    """Size buckets for a streamed query's sets (rule file ``[privacy] stream_padding_*``).

    A set of ``n`` items is sent as ``bucket(n)`` points: the smallest ``m·2^e`` with
    ``steps ≤ m < 2·steps`` that is at least ``n`` and ``minimum`` (never above
    :data:`MAX_STREAM_POINTS` unless ``n`` is). The extra points are dummy items (random bytes
    under :data:`DUMMY_PREFIX`) hashed and blinded like real ones: uniformly random group
    elements to anyone without the other side's items, and they match nothing.
    """

    minimum: int
    steps: int

    def bucket(self, n: int) -> int:
        """The padded size of a set of ``n`` items."""
        if n <= self.minimum:
            return self.minimum
        e = max(n.bit_length() - (2 * self.steps).bit_length(), 0)
        m = -(-n >> e)
        while m >= 2 * self.steps:
            e += 1
            m = -(-n >> e)
        return min(max(m, self.steps) << e, max(n, MAX_STREAM_POINTS))


@functools.cache
def policy_padding() -> StreamPadding:
    """The shipped rule file's padding (the consumer SDK's default)."""
    from tongdao.policies import load_policy

    rules = load_policy().privacy
    return StreamPadding(rules.stream_padding_minimum, rules.stream_padding_steps)


def dummy_keys(count: int) -> list[bytes]:
    """``count`` fresh dummy items (see :class:`StreamPadding`)."""
    return [DUMMY_PREFIX + secrets.token_bytes(31) for _ in range(count)]
