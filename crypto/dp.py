"""Differential-privacy noise for aggregate answers: a discrete Laplace sampler on the CSPRNG.

``discrete_laplace(scale)`` returns an integer ``k`` with ``P(k) ∝ exp(−|k| / scale)``, sampled as
the difference of two geometric variables whose uniforms come from the CSPRNG (53 bits each).
Integers avoid the floating-point Laplace attack on continuous mechanisms; the geometric inverse
transform still uses a floating-point logarithm, a bounded deviation documented in
docs/privacy.md.
"""

from __future__ import annotations

import math

from tongdao.crypto.randomness import RandomBytes, resolve


def _uniform(rng: RandomBytes) -> float:
    """A uniform float in (0, 1) from 53 random bits."""
    while True:
        value = int.from_bytes(rng(7), "big") >> 3  # 53 bits
        if value:
            return value / float(1 << 53)


def _geometric(p: float, rng: RandomBytes) -> int:
    # number of failures before the first success, P(k) = (1-p)^k p
    return math.floor(math.log(_uniform(rng)) / math.log1p(-p))


def discrete_laplace(scale: float, *, rng: RandomBytes | None = None) -> int:
    """Integer noise with ``P(k) ∝ exp(−|k|/scale)``.

    Args:
        scale: ``sensitivity / epsilon`` (> 0).
        rng: random source for tests only; the CSPRNG otherwise.

    Raises:
        ValueError: non-positive scale.
    """
    if not scale > 0:
        raise ValueError("scale must be positive")
    rand = resolve(rng)
    p = 1.0 - math.exp(-1.0 / scale)
    return _geometric(p, rand) - _geometric(p, rand)
