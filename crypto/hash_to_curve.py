"""Hashing to Curve25519 as RFC 9380 specifies: suite ``curve25519_XMD:SHA-512_ELL2_RO_``.

``hash_to_curve(msg, dst)`` is the random-oracle encoding of RFC 9380 §3: ``expand_message_xmd``
with SHA-512 (§5.3.1) gives two field elements (``hash_to_field``, L = 48, §5.2), each is mapped
to the Montgomery curve ``v² = u³ + 486662·u² + u`` by Elligator 2 (§6.7.1, Z = 2), the two
points are added, and the cofactor is cleared (``h_eff = 8``, §7). The result lies in the
prime-order subgroup of the curve — never on the twist — and is indistinguishable from a random
subgroup element to anyone without the message (the random-oracle property ECDH-PSI's proof
uses). :func:`hash_to_u` returns its u-coordinate in the 32-byte little-endian encoding X25519
(RFC 7748) takes, so OpenSSL's and crypto_mb's X25519 blind it unchanged.

Arithmetic is on integers modulo ``p = 2²⁵⁵ − 19`` with gmpy2 (constant time is not needed: the
inputs are the party's own items, hashed before any secret is applied). The RFC's test vectors
(Appendix J.4.1) are checked by the tests, from data.
"""

from __future__ import annotations

import hashlib

import gmpy2
from gmpy2 import mpz

from tongdao.crypto.errors import ParameterError

SUITE = "curve25519_XMD:SHA-512_ELL2_RO_"
P = mpz(2**255 - 19)
A = mpz(486662)
Z = mpz(2)
L = 48  # bytes per field element: ceil((255 + 128) / 8)
_B_IN_BYTES = 64
_R_IN_BYTES = 128
_SQRT_EXP = (P + 3) // 8
_SQRT_M1 = gmpy2.powmod(2, (P - 1) // 4, P)
_LEGENDRE_EXP = (P - 1) // 2
MAX_DST = 255

Point = tuple[mpz, mpz] | None
"""An affine point ``(u, v)``; None is the point at infinity."""


def expand_message_xmd(msg: bytes, dst: bytes, length: int) -> bytes:
    """RFC 9380 §5.3.1 with SHA-512.

    Raises:
        ParameterError: a domain separation tag longer than 255 bytes, or a length over 255·64.
    """
    if len(dst) > MAX_DST:
        raise ParameterError("hash-to-curve domain separation tag is longer than 255 bytes")
    ell = -(-length // _B_IN_BYTES)
    if ell > 255 or length > 65535:
        raise ParameterError("hash-to-curve output length is too large")
    dst_prime = dst + bytes([len(dst)])
    b0 = hashlib.sha512(
        bytes(_R_IN_BYTES) + msg + length.to_bytes(2, "big") + b"\x00" + dst_prime
    ).digest()
    b = hashlib.sha512(b0 + b"\x01" + dst_prime).digest()
    out = [b]
    for i in range(2, ell + 1):
        mixed = (int.from_bytes(b0, "big") ^ int.from_bytes(b, "big")).to_bytes(64, "big")
        b = hashlib.sha512(mixed + bytes([i]) + dst_prime).digest()
        out.append(b)
    return b"".join(out)[:length]


def hash_to_field(msg: bytes, dst: bytes, count: int = 2) -> list[mpz]:
    """RFC 9380 §5.2: ``count`` elements of GF(p)."""
    uniform = expand_message_xmd(msg, dst, count * L)
    return [mpz(int.from_bytes(uniform[i * L : (i + 1) * L], "big")) % P for i in range(count)]


def _sqrt(x: mpz) -> mpz | None:
    # p ≡ 5 (mod 8): candidate x^((p+3)/8), times sqrt(−1) if needed
    r = gmpy2.powmod(x, _SQRT_EXP, P)
    if r * r % P == x:
        return r
    r = r * _SQRT_M1 % P
    return r if r * r % P == x else None


def map_to_curve_elligator2(u: mpz) -> tuple[mpz, mpz]:
    """RFC 9380 §6.7.1 for curve25519 (J = A, K = 1, Z = 2): a point ``(s, t)`` on the curve."""
    denominator = (1 + Z * u * u) % P
    inv = gmpy2.invert(denominator, P) if denominator else mpz(0)  # inv0
    x1 = (-A * inv) % P
    if x1 == 0:
        x1 = (-A) % P
    gx1 = (x1 * x1 * x1 + A * x1 * x1 + x1) % P
    y1 = _sqrt(gx1)
    if y1 is not None:
        x, y, sign = x1, y1, 1
    else:
        x = (-x1 - A) % P
        gx2 = (x * x * x + A * x * x + x) % P
        y2 = _sqrt(gx2)
        assert y2 is not None  # gx1 or gx2 is square (Z is a non-square)
        y, sign = y2, 0
    if y % 2 != sign:  # sgn0(y) as the step requires
        y = P - y
    return x, y


def add(p1: Point, p2: Point) -> Point:
    """Affine addition on ``v² = u³ + A·u² + u`` (B = 1)."""
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (u1, v1), (u2, v2) = p1, p2
    if u1 == u2:
        if (v1 + v2) % P == 0:
            return None
        return double(p1)
    lam = (v2 - v1) * gmpy2.invert((u2 - u1) % P, P) % P
    u3 = (lam * lam - A - u1 - u2) % P
    return u3, (lam * (u1 - u3) - v1) % P


def double(p1: Point) -> Point:
    """Affine doubling on the curve."""
    if p1 is None:
        return None
    u, v = p1
    if v == 0:
        return None  # a point of order 2
    lam = (3 * u * u + 2 * A * u + 1) * gmpy2.invert(2 * v % P, P) % P
    u3 = (lam * lam - A - 2 * u) % P
    return u3, (lam * (u - u3) - v) % P


def clear_cofactor(p1: Point) -> Point:
    """Multiply by ``h_eff = 8`` (three doublings)."""
    return double(double(double(p1)))


def hash_to_curve(msg: bytes, dst: bytes) -> Point:
    """RFC 9380 §3 ``hash_to_curve`` for ``curve25519_XMD:SHA-512_ELL2_RO_``.

    Returns:
        The affine point ``(u, v)``, or None for the identity (probability about 2⁻²⁵⁰).
    """
    u0, u1 = hash_to_field(msg, dst, 2)
    return clear_cofactor(add(map_to_curve_elligator2(u0), map_to_curve_elligator2(u1)))


_C4 = (P - 5) // 8
_C2 = gmpy2.powmod(2, (P + 3) // 8, P)


def _elligator2_fractional(u: mpz) -> tuple[mpz, mpz, mpz]:
    """RFC 9380 Appendix G.2.1 (one exponentiation, no inversion): ``(xn, xd, y)``, x = xn/xd."""
    p = P
    tv1 = 2 * u * u % p
    xd = (tv1 + 1) % p  # non-zero: −1 is a square mod p, 2u² + 1 = 0 would make −1/2 one
    x1n = p - A
    tv2 = xd * xd % p
    gxd = tv2 * xd % p
    gx1 = (A * tv1 % p * x1n + tv2) % p * x1n % p
    tv3 = gxd * gxd % p
    tv2 = tv3 * tv3 % p
    tv3 = tv3 * gxd % p * gx1 % p
    y11 = gmpy2.powmod(tv2 * tv3 % p, _C4, p) * tv3 % p
    if y11 * y11 % p * gxd % p == gx1:
        xn, y = x1n, y11
        square = True
    else:
        y12 = y11 * _SQRT_M1 % p
        if y12 * y12 % p * gxd % p == gx1:
            xn, y = x1n, y12
            square = True
        else:
            xn = x1n * tv1 % p
            gx2 = gx1 * tv1 % p
            y21 = y11 * u % p * _C2 % p
            y = y21 if y21 * y21 % p * gxd % p == gx2 else y21 * _SQRT_M1 % p
            square = False
    if (y % 2 == 1) != square:
        y = (p - y) % p
    return xn, xd, y


def hash_to_u(msg: bytes, dst: bytes) -> bytes:
    """The u-coordinate of :func:`hash_to_curve`, 32 bytes little-endian (X25519's encoding).

    Computed without affine intermediate points: the two maps stay fractions, their sum is
    formed projectively and the cofactor is cleared by three u-only doublings, so one inversion
    and two exponentiations per item (the same point as :func:`hash_to_curve`, checked by the
    tests). The identity (probability about 2⁻²⁵⁰) encodes as u = 0, which X25519 callers
    refuse as a low-order point.
    """
    p = P
    f0, f1 = hash_to_field(msg, dst, 2)
    n1, d1, v1 = _elligator2_fractional(f0)
    n2, d2, v2 = _elligator2_fractional(f1)
    w = (n2 * d1 - n1 * d2) % p
    if w == 0:  # equal u-coordinates (probability ≈ 2⁻²⁵⁴): the affine path handles it
        point = hash_to_curve(msg, dst)
        return int(point[0] if point is not None else 0).to_bytes(32, "little")
    d = d1 * d2 % p
    s = (n1 * d2 + n2 * d1) % p
    dv = (v2 - v1) % p
    w2 = w * w % p
    x = (dv * dv % p * d % p * d % p * d - (A * d + s) % p * w2) % p
    z = d * w2 % p
    for _ in range(3):  # u-only doubling: (X² − Z²)², 4XZ(X² + AXZ + Z²)
        xx, zz, xz = x * x % p, z * z % p, x * z % p
        t = (xx - zz) % p
        x, z = t * t % p, 4 * xz * ((xx + A * xz + zz) % p) % p
    u = x * gmpy2.invert(z, p) % p if z else mpz(0)
    return int(u).to_bytes(32, "little")
