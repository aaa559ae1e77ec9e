"""Randomness for the crypto core.

Every random byte the crypto core uses comes from a :data:`RandomBytes` callable. The default is
the operating system's CSPRNG (:func:`secrets.token_bytes`). Tests inject a deterministic source to
reproduce known-answer vectors; production code never passes one.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

RandomBytes = Callable[[int], bytes]
"""A function returning ``n`` random bytes."""


def system_random_bytes(n: int) -> bytes:
    """Return ``n`` bytes from the operating system's CSPRNG.

    Args:
        n: number of bytes, >= 0.

    Returns:
        ``n`` unpredictable bytes.
    """
    return secrets.token_bytes(n)


def resolve(rng: RandomBytes | None) -> RandomBytes:
    """Return ``rng`` if given, otherwise the system CSPRNG."""
    return system_random_bytes if rng is None else rng
