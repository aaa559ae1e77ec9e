"""Per-element CPU cost of the PSI blinding candidates (docs/crypto.md, "Measurements").

Run: ``python -m tongdao.benchmarks.psi_candidates [N]``. CPU time (``time.process_time``), best
of 3, so other jobs on a shared machine do not distort it. Candidates whose library is not installed
(PyNaCl, coincurve, system libsodium, crypto_mb) are skipped with a note; install them in a
scratch directory (``pip install --target DIR pynacl coincurve`` and ``PYTHONPATH=DIR``) to measure.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import sys
import time
from collections.abc import Callable


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 20000
    from tongdao.crypto.psi import DEFAULT_DOMAIN, PsiBlinder, hash_to_points, split_points

    items = [f"2301{i:014d}".encode() for i in range(n)]
    packed = hash_to_points(items)
    points = split_points(packed)
    scalar = os.urandom(32)

    def rate(name: str, fn: Callable[[], object], count: int = n) -> None:
        best = float("inf")
        for _ in range(3):
            start = time.process_time()
            fn()
            best = min(best, time.process_time() - start)
        print(f"{name:72s} {1e6 * best / count:8.2f} µs  {count / best:12,.0f}/s", flush=True)

    rate("SHA-512 hash to u (hash_to_points)", lambda: hash_to_points(items, DEFAULT_DOMAIN))

    from cryptography.hazmat.primitives.asymmetric.x25519 import (
        X25519PrivateKey,
        X25519PublicKey,
    )

    key = X25519PrivateKey.from_private_bytes(scalar)
    load = X25519PublicKey.from_public_bytes
    loaded = [load(p) for p in points]
    rate("cryptography X25519: from_public_bytes alone", lambda: [load(p) for p in points])
    rate("cryptography X25519: exchange alone", lambda: [key.exchange(p) for p in loaded])
    rate("cryptography X25519: load + exchange", lambda: [key.exchange(load(p)) for p in points])

    try:
        import nacl.bindings as nb
        from nacl._sodium import ffi as sodium_ffi  # type: ignore[import-not-found]
        from nacl._sodium import lib as sodium_lib

        out = sodium_ffi.new("unsigned char[32]")
        rate("PyNaCl crypto_scalarmult", lambda: [nb.crypto_scalarmult(scalar, p) for p in points])
        rate(
            "PyNaCl bundled libsodium, cffi lib directly",
            lambda: [sodium_lib.crypto_scalarmult(out, scalar, p) for p in points],
        )
    except ImportError:
        print("PyNaCl: not installed, skipped")

    sodium_path = ctypes.util.find_library("sodium")
    if sodium_path:
        sodium = ctypes.CDLL(sodium_path)
        sodium.sodium_init()
        buf = ctypes.create_string_buffer(32)
        wide = [hashlib.sha512(p).digest() for p in points]
        rist = []
        for h in wide:
            sodium.crypto_core_ristretto255_from_hash(buf, h)
            rist.append(buf.raw)
        k = ctypes.create_string_buffer(32)
        sodium.crypto_core_ristretto255_scalar_random(k)
        rate(
            "system libsodium ristretto255 from_hash",
            lambda: [sodium.crypto_core_ristretto255_from_hash(buf, h) for h in wide],
        )
        rate(
            "system libsodium ristretto255 scalar mult",
            lambda: [sodium.crypto_scalarmult_ristretto255(buf, k, p) for p in rist],
        )
    else:
        print("system libsodium: not found, skipped")

    try:
        import coincurve
        from coincurve._libsecp256k1 import ffi as k1_ffi
        from coincurve._libsecp256k1 import lib as k1

        ctx = coincurve.context.GLOBAL_CONTEXT.ctx
        pub = k1_ffi.new("secp256k1_pubkey *")
        compressed = []
        for p in points:  # try-and-increment to a valid x-coordinate (not timed)
            c = 0
            while not k1.secp256k1_ec_pubkey_parse(
                ctx, pub, cand := b"\x02" + hashlib.sha256(p + bytes([c])).digest(), 33
            ):
                c += 1
            compressed.append(cand)
        tweak = hashlib.sha256(scalar).digest()
        ser = k1_ffi.new("unsigned char[33]")
        size = k1_ffi.new("size_t *")

        def secp() -> None:
            for c in compressed:
                k1.secp256k1_ec_pubkey_parse(ctx, pub, c, 33)
                k1.secp256k1_ec_pubkey_tweak_mul(ctx, pub, tweak)
                size[0] = 33
                k1.secp256k1_ec_pubkey_serialize(ctx, ser, size, pub, 258)

        rate("secp256k1 (coincurve) parse + tweak_mul + serialize", secp)
    except ImportError:
        print("coincurve: not installed, skipped")

    from cryptography.hazmat.primitives.asymmetric import ec

    p256 = ec.generate_private_key(ec.SECP256R1())
    peers = [ec.generate_private_key(ec.SECP256R1()).public_key() for _ in range(2000)]
    rate("P-256 ECDH (cryptography)", lambda: [p256.exchange(ec.ECDH(), q) for q in peers], 2000)

    from tongdao.crypto import crypto_mb

    try:
        mb = crypto_mb.load()
        rate("Intel crypto_mb mbx_x25519_mb8 (8 per call)", lambda: mb.x25519(scalar, packed))
    except crypto_mb.CryptoMbUnavailable as exc:
        print(f"crypto_mb: {exc}")

    blinder = PsiBlinder(scalar)
    rate("Tongdao blind_packed (hash + backend + checks)", lambda: blinder.blind_packed(items))
    peer = blinder.blind_packed(items)
    rate("Tongdao reblind_packed (peer points: OpenSSL)", lambda: blinder.reblind_packed(peer))


if __name__ == "__main__":
    main(sys.argv[1:])
