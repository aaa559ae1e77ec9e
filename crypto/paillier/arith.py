"""Arithmetic under the Paillier scheme: random numbers, fixed-base window tables, digit products.

Nothing here is secret-aware on its own; :mod:`tongdao.crypto.paillier.keys` uses it.
"""

from __future__ import annotations

import math

import gmpy2
from gmpy2 import mpz

from tongdao.crypto.randomness import RandomBytes

WINDOW_BITS = 10  # 2^10-entry rows: 23 multiplications per 224-bit exponent (~12 MB at 2048)


def random_below(bound: mpz, rng: RandomBytes) -> mpz:
    """Uniform in [0, bound) by rejection sampling from ``rng``."""
    bits = int(bound).bit_length()
    while True:
        value = random_bits(bits, rng)
        if value < bound:
            return value


def random_bits(bits: int, rng: RandomBytes) -> mpz:
    nbytes = (bits + 7) // 8
    return mpz(int.from_bytes(rng(nbytes), "big") >> (8 * nbytes - bits))


def random_prime(bits: int, rng: RandomBytes) -> mpz:
    # a random start with the top two bits set, then the next prime (GMP's sieve and
    # probabilistic tests), confirmed with 40 Miller-Rabin rounds; the top bits make n = p·q
    # exactly 2·bits long
    while True:
        start = random_bits(bits, rng) | (mpz(3) << (bits - 2))
        candidate = gmpy2.next_prime(start)
        if int(candidate).bit_length() == bits and gmpy2.is_prime(candidate, 40):
            return mpz(candidate)


class FixedBaseTable:
    """Window table for ``base^e mod modulus`` with exponents up to ``exponent_bits``.

    ``table[i][d] = base^(d · 2^(w·i))``, so an exponentiation is one multiplication per window.
    """

    def __init__(
        self, base: mpz, modulus: mpz, exponent_bits: int, window: int = WINDOW_BITS
    ) -> None:
        self.modulus = modulus
        self.window = window
        self.windows = math.ceil(exponent_bits / window)
        self.mask = (1 << window) - 1
        rows: list[list[mpz]] = []
        b = base % modulus
        for _ in range(self.windows):
            row = [mpz(1), b]
            for _ in range(2, 1 << window):
                row.append(row[-1] * b % modulus)
            rows.append(row)
            b = row[-1] * b % modulus  # base^(2^w) for the next window
        self.rows = rows

    @property
    def bytes(self) -> int:
        """Approximate memory held by the table."""
        size = (int(self.modulus).bit_length() + 7) // 8
        return self.windows * (1 << self.window) * size

    def pow(self, exponent: mpz) -> mpz:
        """``base^exponent mod modulus`` for 0 <= exponent < 2^(windows·w)."""
        result: mpz | None = None
        m = self.modulus
        w, mask = self.window, self.mask
        e = int(exponent)
        for row in self.rows:
            digit = e & mask
            e >>= w
            if digit:
                # the first non-zero window is a table entry as it is: one multiplication saved
                result = row[digit] if result is None else result * row[digit] % m
        return mpz(1) if result is None else result


def digit_product(n: mpz, x0: mpz, x1: mpz, y0: mpz, y1: mpz) -> tuple[mpz, mpz]:
    """``(x₁n + x₀)·(y₁n + y₀) mod n²`` as base-``n`` digits ``(lo, hi)``.

    The one implementation of the product behind ciphertext addition (see :class:`Ciphertext`).

    Args:
        n: the modulus.
        x0, x1: the first factor's digits.
        y0, y1: the second factor's digits.

    Returns:
        ``(lo, hi)`` with both in ``[0, n)``.
    """
    t1, t0 = gmpy2.f_divmod(x0 * y0, n)
    return t0, (t1 + x1 * y0 + x0 * y1) % n
