"""Paillier encryption, fast and compatible with ``phe`` (python-paillier).

Roles are split as in the design: anyone with the public key *encrypts*
(:meth:`PaillierPublicKey.encrypt`) and *evaluates* (:class:`Evaluator`: add, subtract, negate,
multiply by a plaintext scalar); only the private key *decrypts*
(:meth:`PaillierPrivateKey.decrypt`). The broker holds public keys only.

Speed-ups, each with its security assumption in ``docs/crypto.md``:

* ``g = n + 1``, so ``g^m = 1 + m·n (mod n²)``: no exponentiation for the message.
* Damgård–Jurik–Nielsen short-exponent obfuscation for public-key holders: the public key carries
  ``h_s = h^n mod n²`` with ``h = −x² mod n`` for a random ``x``; encryption uses ``h_s^a`` with a
  random exponent ``a`` of twice the security level (224 bits at 2048, 256 at 3072) through a
  fixed-base window table (one table per key, built once, ~3.7 MB at 2048 bits).
* The key owner encrypts with the same short exponent through tables modulo ``p²`` and ``q²``
  and the Chinese remainder theorem.
* CRT decryption.
* Ciphertexts are kept as their two base-``n`` digits, ``c = hi·n + lo``: a product modulo ``n²``
  is then three half-size multiplications and two half-size reductions instead of a full-size
  multiplication and a full-size division (an exact identity, no assumption; see
  :class:`Ciphertext`).

Ciphertexts arriving from elsewhere are validated (``0 < c < n²`` and ``gcd(c, n) = 1``); an
invalid one raises :class:`InvalidCiphertext`, never decrypts to an answer.
"""

from __future__ import annotations

from tongdao.crypto.paillier.arith import WINDOW_BITS, FixedBaseTable, digit_product
from tongdao.crypto.paillier.keys import (
    DEFAULT_KEY_BITS,
    MIN_WIRE_KEY_BITS,
    SUPPORTED_KEY_BITS,
    Ciphertext,
    EncryptedNumber,
    InvalidCiphertext,
    PaillierPrivateKey,
    PaillierPublicKey,
    PlaintextOverflow,
    generate_paillier_keypair,
    security_bits,
)
from tongdao.crypto.paillier.roles import (
    Decryptor,
    Encryptor,
    Evaluator,
    ciphertexts_from_bytes,
    ciphertexts_to_bytes,
)

__all__ = [
    "DEFAULT_KEY_BITS",
    "MIN_WIRE_KEY_BITS",
    "SUPPORTED_KEY_BITS",
    "WINDOW_BITS",
    "Ciphertext",
    "Decryptor",
    "EncryptedNumber",
    "Encryptor",
    "Evaluator",
    "FixedBaseTable",
    "InvalidCiphertext",
    "PaillierPrivateKey",
    "PaillierPublicKey",
    "PlaintextOverflow",
    "ciphertexts_from_bytes",
    "ciphertexts_to_bytes",
    "digit_product",
    "generate_paillier_keypair",
    "security_bits",
]
