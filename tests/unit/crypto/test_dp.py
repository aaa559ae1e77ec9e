"""The exact discrete Laplace sampler: its distribution, exactness at large scales, errors."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from fractions import Fraction

import pytest

from tongdao.crypto.dp import bernoulli_exp, discrete_laplace, laplace_scale, uniform_below
from tongdao.crypto.errors import ParameterError, PrivacyBudgetError


def drbg(seed: bytes):
    """A deterministic byte source (SHAKE-256 in counter mode): reproducible statistical tests."""
    counter = 0

    def rng(n: int) -> bytes:
        nonlocal counter
        counter += 1
        return hashlib.shake_256(seed + counter.to_bytes(8, "big")).digest(n)

    return rng


def _chi_square_critical(df: int, z: float = 4.753) -> float:
    """Wilson–Hilferty upper quantile of χ²(df); z = 4.753 is the 10⁻⁶ tail."""
    return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3


def _pmf(k: int, s: Fraction) -> float:
    q = math.exp(-1 / float(s))
    return (1 - q) / (1 + q) * q ** abs(k)


@pytest.mark.parametrize("scale", [Fraction(1, 2), Fraction(3), Fraction(40, 7)])
def test_distribution_matches_the_discrete_laplace_pmf(scale):
    n = 20_000
    rng = drbg(b"tongdao dp " + str(scale).encode())
    counts = Counter(discrete_laplace(scale, rng=rng) for _ in range(n))
    # bins: each k with expected count ≥ 20, and the two tails pooled
    ks = [k for k in range(-200, 201) if n * _pmf(k, scale) >= 20]
    lo, hi = min(ks), max(ks)
    expected = [n * _pmf(k, scale) for k in ks]
    observed = [counts.get(k, 0) for k in ks]
    tail_p = 1 - sum(_pmf(k, scale) for k in ks)
    tail_obs = sum(c for k, c in counts.items() if k < lo or k > hi)
    chi2 = sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True))
    if tail_p * n >= 5:
        chi2 += (tail_obs - tail_p * n) ** 2 / (tail_p * n)
    assert chi2 < _chi_square_critical(len(ks))


def test_a_biased_sampler_fails_the_same_test():
    """The test has power: a sampler at 1.2× the scale is rejected."""
    n, scale = 20_000, Fraction(3)
    rng = drbg(b"tongdao dp biased")
    counts = Counter(discrete_laplace(scale * Fraction(6, 5), rng=rng) for _ in range(n))
    ks = [k for k in range(-50, 51) if n * _pmf(k, scale) >= 20]
    chi2 = sum((counts.get(k, 0) - n * _pmf(k, scale)) ** 2 / (n * _pmf(k, scale)) for k in ks)
    assert chi2 > _chi_square_critical(len(ks))


def test_large_scales_keep_their_spread():
    """At scale 10⁹ (a sum over a wide range) the mean |noise| is the scale, within sampling error:
    no floating-point drift."""
    scale = Fraction(10**9)
    rng = drbg(b"tongdao dp large")
    draws = [discrete_laplace(scale, rng=rng) for _ in range(4000)]
    mean_abs = sum(abs(d) for d in draws) / len(draws) / float(scale)
    assert 0.93 < mean_abs < 1.07
    assert abs(sum(draws) / len(draws)) / float(scale) < 0.07


def test_bernoulli_exp_is_exact_on_average():
    rng = drbg(b"tongdao dp bern")
    for gamma in (Fraction(1, 3), Fraction(5, 2)):
        hits = sum(bernoulli_exp(gamma, rng) for _ in range(20_000))
        p = math.exp(-float(gamma))
        assert abs(hits / 20_000 - p) < 5 * math.sqrt(p * (1 - p) / 20_000)


def test_uniform_below_is_in_range_and_uses_every_value():
    rng = drbg(b"tongdao dp uniform")
    seen = Counter(uniform_below(7, rng) for _ in range(7000))
    assert set(seen) == set(range(7)) and min(seen.values()) > 850


def test_typed_errors_never_zero_division_or_value_error():
    with pytest.raises(PrivacyBudgetError):
        laplace_scale(1, 0)  # a spent budget (epsilon 0) is a typed refusal
    with pytest.raises(PrivacyBudgetError):
        discrete_laplace(0)
    with pytest.raises(ParameterError):
        discrete_laplace(-1)
    with pytest.raises(ParameterError):
        discrete_laplace(2.5)  # type: ignore[arg-type]
    with pytest.raises(ParameterError):
        uniform_below(0, drbg(b"x"))
    assert laplace_scale(300, 1000, shares=4) == Fraction(1200)


def test_injected_randomness_reproduces_the_draws():
    a = [discrete_laplace(Fraction(9, 2), rng=drbg(b"same")) for _ in range(1)]
    b = [discrete_laplace(Fraction(9, 2), rng=drbg(b"same")) for _ in range(1)]
    assert a == b
