"""The roles of the scheme: encryptor, evaluator, decryptor; and the wire form of a vector."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import gmpy2
from gmpy2 import mpz

from tongdao.crypto.errors import ParameterError
from tongdao.crypto.paillier.arith import digit_product
from tongdao.crypto.paillier.keys import (
    Ciphertext,
    InvalidCiphertext,
    PaillierPrivateKey,
    PaillierPublicKey,
)
from tongdao.crypto.randomness import RandomBytes


class Evaluator:
    """Homomorphic operations with the public key only (the broker's role)."""

    def __init__(self, public_key: PaillierPublicKey) -> None:
        self.public_key = public_key

    def add(self, a: Ciphertext, b: Ciphertext) -> Ciphertext:
        return a + b

    def sum(self, ciphertexts: Iterable[Ciphertext]) -> Ciphertext:
        """Sum of many ciphertexts (one multiplication each)."""
        pk = self.public_key
        n = pk.n
        lo, hi = mpz(1), mpz(0)
        for c in ciphertexts:
            if c.public_key is not pk and c.public_key != pk:
                raise InvalidCiphertext("ciphertexts are under different keys")
            lo, hi = digit_product(n, lo, hi, c.lo, c.hi)  # no Ciphertext object per step
        return Ciphertext._from_digits(pk, lo, hi)

    def sum_received(self, blobs: Iterable[bytes], start: Ciphertext | None = None) -> Ciphertext:
        """Sum ciphertexts received as bytes, validating them as they are added.

        Each value is range-checked (0 < c < n²) on arrival; coprimality with ``n`` is checked
        once, on the product: a product is coprime with ``n`` exactly when every factor is, so
        one gcd stands for thousands (the gcd is what makes per-value checks slow).

        Args:
            blobs: big-endian ciphertexts under this evaluator's key.
            start: a running total to add to (its own checks were done when it was made).

        Returns:
            The encrypted sum (``start`` plus every value).

        Raises:
            InvalidCiphertext: a value out of range, or some value that shares a factor with n.
        """
        pk = self.public_key
        if start is not None and start.public_key != pk:
            raise InvalidCiphertext("ciphertexts are under different keys")
        nsquare = pk.nsquare
        acc = mpz(1)
        for blob in blobs:
            c = mpz(int.from_bytes(blob, "big"))
            if not 0 < c < nsquare:
                raise InvalidCiphertext("ciphertext out of range (0, n²)")
            acc = acc * c % nsquare
        if gmpy2.gcd(acc, pk.n) != 1:
            raise InvalidCiphertext("a ciphertext shares a factor with n")
        total = Ciphertext(pk, acc)
        return total if start is None else total + start

    def add_vectors(self, a: Sequence[Ciphertext], b: Sequence[Ciphertext]) -> list[Ciphertext]:
        if len(a) != len(b):
            raise ParameterError("vectors differ in length")
        return [x + y for x, y in zip(a, b, strict=True)]

    def multiply(self, c: Ciphertext, scalar: int) -> Ciphertext:
        """``c × scalar`` (a signed plaintext integer)."""
        return c * scalar

    def subtract(self, a: Ciphertext, b: Ciphertext) -> Ciphertext:
        """``a − b``."""
        return a - b

    def negate(self, c: Ciphertext) -> Ciphertext:
        """``−c``."""
        return -c

    def add_plain(self, c: Ciphertext, value: int) -> Ciphertext:
        """``c + value`` for a plaintext signed integer (no encryption needed).

        Raises:
            PlaintextOverflow: ``value`` does not fit the key.
        """
        return c + int(value)

    def multiply_vector(
        self, ciphertexts: Sequence[Ciphertext], scalars: Sequence[int] | Any
    ) -> list[Ciphertext]:
        """Element-wise ``c_i × k_i`` (``scalars`` may be a numpy integer array).

        Raises:
            ParameterError: the lengths differ.
        """
        ks = scalars.tolist() if hasattr(scalars, "tolist") else list(scalars)
        if len(ks) != len(ciphertexts):
            raise ParameterError("vectors differ in length")
        return [c * int(k) for c, k in zip(ciphertexts, ks, strict=True)]

    def dot(self, ciphertexts: Sequence[Ciphertext], scalars: Sequence[int] | Any) -> Ciphertext:
        """``Σ c_i × k_i``: an encrypted inner product with a plaintext vector.

        Raises:
            ParameterError: the lengths differ.
        """
        return self.sum(self.multiply_vector(ciphertexts, scalars))


def ciphertexts_to_bytes(ciphertexts: Sequence[Ciphertext]) -> bytes:
    """Concatenate fixed-width ciphertexts: the compact wire form of a vector.

    Args:
        ciphertexts: all under one key.

    Returns:
        ``len(ciphertexts) · ciphertext_bytes`` bytes (empty for an empty list).

    Raises:
        InvalidCiphertext: the ciphertexts are under different keys.
    """
    if not ciphertexts:
        return b""
    pk = ciphertexts[0].public_key
    size = pk.ciphertext_bytes
    out = bytearray()
    for c in ciphertexts:
        if c.public_key is not pk and c.public_key != pk:
            raise InvalidCiphertext("ciphertexts are under different keys")
        out += int(c.value).to_bytes(size, "big")
    return bytes(out)


def ciphertexts_from_bytes(public_key: PaillierPublicKey, data: bytes) -> list[Ciphertext]:
    """Inverse of :func:`ciphertexts_to_bytes`; every ciphertext is validated on arrival.

    Raises:
        InvalidCiphertext: the length is not a multiple of the ciphertext size, or one is invalid.
    """
    size = public_key.ciphertext_bytes
    if len(data) % size:
        raise InvalidCiphertext(f"ciphertext vector length is not a multiple of {size} bytes")
    return [public_key.ciphertext(data[i : i + size]) for i in range(0, len(data), size)]


class Encryptor:
    """The encryptor role: needs only the public key (every data holder)."""

    def __init__(self, public_key: PaillierPublicKey) -> None:
        self.public_key = public_key

    def encrypt(self, value: int, *, rng: RandomBytes | None = None) -> Ciphertext:
        """Encrypt one signed integer (obfuscated). See :meth:`PaillierPublicKey.encrypt`."""
        return self.public_key.encrypt(value, rng=rng)

    def encrypt_many(
        self,
        values: Iterable[int] | Any,
        *,
        workers: int = 1,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Ciphertext]:
        """Encrypt a list or numpy array, optionally on ``workers`` processes.

        Args:
            values: integers (a numpy integer array is accepted).
            workers: processes for large batches (1: this process).
            progress: called as ``progress(done, total)``.

        Returns:
            Ciphertexts in input order.

        Raises:
            PlaintextOverflow: a value does not fit (nothing is returned).
        """
        return self.public_key.encrypt_many(values, workers=workers, progress=progress)


class Decryptor:
    """The decryptor role: holds the private key (the party entitled to the result)."""

    def __init__(self, private_key: PaillierPrivateKey) -> None:
        self.private_key = private_key

    def decrypt(self, c: Ciphertext) -> int:
        """Decrypt one ciphertext to a signed integer. See :meth:`PaillierPrivateKey.decrypt`."""
        return self.private_key.decrypt(c)

    def decrypt_many(
        self,
        ciphertexts: Sequence[Ciphertext],
        *,
        workers: int = 1,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[int]:
        """Decrypt a batch, optionally on ``workers`` processes.

        Raises:
            InvalidCiphertext: one is invalid or under another key.
            PlaintextOverflow: one decrypts outside the signed range.
        """
        return self.private_key.decrypt_many(ciphertexts, workers=workers, progress=progress)

    def decrypt_array(self, ciphertexts: Sequence[Ciphertext]) -> Any:
        """Decrypt to a numpy array: ``int64`` when every value fits, ``object`` otherwise.

        Raises:
            InvalidCiphertext: one is invalid or under another key.
            PlaintextOverflow: one decrypts outside the signed range.
        """
        import numpy as np

        values = self.private_key.decrypt_many(ciphertexts)
        if all(-(2**63) <= v < 2**63 for v in values):
            return np.array(values, dtype=np.int64)
        return np.array(values, dtype=object)
