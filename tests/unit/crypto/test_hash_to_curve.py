"""RFC 9380 hash-to-curve for Curve25519: the RFC's vectors, the fast path, the subgroup."""

from __future__ import annotations

import json
from pathlib import Path

import gmpy2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongdao.crypto import hash_to_curve as h2c
from tongdao.crypto.errors import ParameterError
from tongdao.crypto.psi import PsiBlinder, hash_to_point

DATA = json.loads(
    (Path(__file__).parent / "vectors" / "rfc9380-curve25519-ell2-ro.json").read_text()
)
DST = DATA["dst"].encode()
ORDER = 2**252 + 27742317777372353535851937790883648493


def _hex(x) -> str:
    return f"{int(x):064x}"


@pytest.mark.parametrize("v", DATA["vectors"], ids=lambda v: v["msg"][:8] or "empty")
def test_rfc9380_vectors(v):
    msg = v["msg"].encode()
    u0, u1 = h2c.hash_to_field(msg, DST, 2)
    assert (_hex(u0), _hex(u1)) == (v["u[0]"], v["u[1]"])
    q0, q1 = h2c.map_to_curve_elligator2(u0), h2c.map_to_curve_elligator2(u1)
    assert (_hex(q0[0]), _hex(q0[1]), _hex(q1[0]), _hex(q1[1])) == (
        v["Q0.x"],
        v["Q0.y"],
        v["Q1.x"],
        v["Q1.y"],
    )
    point = h2c.hash_to_curve(msg, DST)
    assert point is not None and (_hex(point[0]), _hex(point[1])) == (v["P.x"], v["P.y"])
    assert h2c.hash_to_u(msg, DST) == int(point[0]).to_bytes(32, "little")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80), st.binary(min_size=1, max_size=40))
def test_fast_path_equals_the_affine_definition(msg, dst):
    point = h2c.hash_to_curve(msg, dst)
    assert point is not None
    assert h2c.hash_to_u(msg, dst) == int(point[0]).to_bytes(32, "little")


def _times(point, k):
    acc = None
    while k:
        if k & 1:
            acc = h2c.add(acc, point)
        point = h2c.double(point)
        k >>= 1
    return acc


def _on_curve(u) -> bool:
    # u is the u-coordinate of a curve point (not the twist): u³ + A·u² + u is a square
    g = (u * u * u + h2c.A * u * u + u) % h2c.P
    return g == 0 or gmpy2.powmod(g, (h2c.P - 1) // 2, h2c.P) == 1


def test_hashed_points_are_in_the_prime_order_subgroup_never_on_the_twist():
    for i in range(40):
        u = int.from_bytes(hash_to_point(f"230102199001{i:06d}".encode()), "little")
        assert _on_curve(u)
        point = h2c.hash_to_curve(
            f"230102199001{i:06d}".encode(), b"tongdao/v1 psi curve25519_XMD:SHA-512_ELL2_RO_"
        )
        assert point is not None and int(point[0]) == u
        assert _times(point, ORDER) is None  # order ℓ


def test_the_old_truncated_hash_would_land_on_the_twist_half_the_time():
    """The property the encoding fixes: a raw 32-byte hash is a twist point about half the time."""
    import hashlib

    raw = [
        int.from_bytes(hashlib.sha512(str(i).encode()).digest()[:32], "little") % 2**255
        for i in range(200)
    ]
    on_twist = sum(not _on_curve(u) for u in raw)
    assert 60 < on_twist < 140
    assert all(
        _on_curve(int.from_bytes(hash_to_point(str(i).encode()), "little")) for i in range(200)
    )


def test_blinding_a_hashed_point_stays_in_the_subgroup():
    u = hash_to_point(b"x")
    blinded = PsiBlinder(bytes(range(32))).reblind(u)
    assert _on_curve(int.from_bytes(blinded, "little"))


def test_domain_tag_limits_are_typed_errors():
    with pytest.raises(ParameterError):
        h2c.expand_message_xmd(b"m", b"d" * 256, 96)
    with pytest.raises(ParameterError):
        h2c.expand_message_xmd(b"m", b"d", 256 * 64)
