"""Differential-privacy noise for aggregate answers: an exact discrete Laplace sampler.

``discrete_laplace(scale)`` returns an integer ``k`` with ``P(k) = (1 − e^{−1/s}) / (1 + e^{−1/s})
· e^{−|k|/s}`` for a rational scale ``s``, *exactly*: the sampler of Canonne, Kamath and Steinke
("The Discrete Gaussian for Differential Privacy", NeurIPS 2020, Algorithms 1 and 2) uses only
integer arithmetic and uniform integers drawn from the random source — no floating point, so no
rounding attack (Mironov 2012) and no drift of ε at large scales. Bernoulli(e^{−γ}) trials are
built from Bernoulli(γ/k) trials (von Neumann's method), a geometric variable from those, and the
Laplace variable from a geometric magnitude and a fair sign.

Randomness comes from a :data:`~crypto.randomness.RandomBytes` source (the CSPRNG by default,
injectable for known-answer and statistical tests). Running time is random (expected a few dozen
uniform draws); it depends on the noise drawn, not on the data.
"""

from __future__ import annotations

from fractions import Fraction

from tongdao.crypto.errors import ParameterError, PrivacyBudgetError
from tongdao.crypto.randomness import RandomBytes, resolve

Scale = Fraction | int
"""An exact scale: ``sensitivity / epsilon`` as a fraction (never a float)."""


def uniform_below(n: int, rng: RandomBytes) -> int:
    """A uniform integer in ``[0, n)`` by rejection (no modulo bias).

    Raises:
        ParameterError: ``n < 1``.
    """
    if n < 1:
        raise ParameterError("the range of a uniform draw must be at least 1")
    if n == 1:
        return 0
    bits = (n - 1).bit_length()
    nbytes = (bits + 7) // 8
    excess = 8 * nbytes - bits
    while True:
        value = int.from_bytes(rng(nbytes), "big") >> excess
        if value < n:
            return value


def bernoulli(p: Fraction, rng: RandomBytes) -> bool:
    """True with probability exactly ``p`` (a fraction in [0, 1])."""
    return uniform_below(p.denominator, rng) < p.numerator


def _bernoulli_exp_at_most_1(gamma: Fraction, rng: RandomBytes) -> bool:
    # CKS Algorithm 1, γ ∈ [0, 1]: K is the first k with a failed Bernoulli(γ/k); P(K odd) = e^−γ
    k = 1
    while bernoulli(gamma / k, rng):
        k += 1
    return k % 2 == 1


def bernoulli_exp(gamma: Fraction, rng: RandomBytes) -> bool:
    """True with probability exactly ``e^{−γ}`` for a fraction ``γ ≥ 0``."""
    while gamma > 1:
        if not _bernoulli_exp_at_most_1(Fraction(1), rng):
            return False
        gamma -= 1
    return _bernoulli_exp_at_most_1(gamma, rng)


def _geometric_exp(x: Fraction, rng: RandomBytes) -> int:
    """``P(k) = (1 − e^{−x}) e^{−kx}`` for k ≥ 0 (CKS Algorithm 2, steps 1–4, x = t/s)."""
    s, t = x.numerator, x.denominator
    while True:
        u = uniform_below(t, rng)
        if bernoulli_exp(Fraction(u, t), rng):
            break
    v = 0
    while bernoulli_exp(Fraction(1), rng):
        v += 1
    return (u + t * v) // s


def discrete_laplace(scale: Scale, *, rng: RandomBytes | None = None) -> int:
    """Integer noise with ``P(k) ∝ e^{−|k|/scale}``, sampled exactly.

    Args:
        scale: ``sensitivity / epsilon`` as an exact :class:`~fractions.Fraction` (or int) > 0.
        rng: random source for tests only; the CSPRNG otherwise.

    Raises:
        PrivacyBudgetError: a zero scale (epsilon infinite or the budget arithmetic went wrong).
        ParameterError: a negative scale, or a float (floats are not exact).
    """
    if isinstance(scale, float) or not isinstance(scale, Fraction | int):
        raise ParameterError("the noise scale must be an exact fraction, not a float")
    scale = Fraction(scale)
    if scale == 0:
        raise PrivacyBudgetError("a noise scale of zero gives no privacy")
    if scale < 0:
        raise ParameterError("the noise scale must be positive")
    rand = resolve(rng)
    x = 1 / scale
    while True:
        negative = bernoulli(Fraction(1, 2), rand)
        magnitude = _geometric_exp(x, rand)
        if negative and magnitude == 0:
            continue  # 0 would otherwise be drawn twice as often
        return -magnitude if negative else magnitude


def laplace_scale(sensitivity: int, epsilon_milli: int, shares: int = 1) -> Fraction:
    """The exact scale ``sensitivity / (ε / shares)`` for ε given in thousandths.

    Raises:
        PrivacyBudgetError: ε is zero (no budget to spend on the release).
        ParameterError: a negative ε or sensitivity, or fewer than one share.
    """
    if epsilon_milli == 0:
        raise PrivacyBudgetError("epsilon is zero: this release has no privacy budget")
    if epsilon_milli < 0 or sensitivity < 0 or shares < 1:
        raise ParameterError("epsilon and sensitivity must be positive, shares at least 1")
    return Fraction(sensitivity * shares * 1000, epsilon_milli)
