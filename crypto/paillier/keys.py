"""Paillier keys and ciphertexts (see :mod:`tongdao.crypto.paillier` for the design)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import gmpy2
from gmpy2 import mpz

from tongdao.crypto.errors import CryptoError, KeyFormatError, ParameterError
from tongdao.crypto.paillier.arith import (
    WINDOW_BITS,
    FixedBaseTable,
    digit_product,
    random_below,
    random_bits,
    random_prime,
)
from tongdao.crypto.randomness import RandomBytes, resolve

DEFAULT_KEY_BITS = 2048
SUPPORTED_KEY_BITS = (1024, 2048, 3072, 4096)  # 1024 only for fast tests; never for production
MIN_WIRE_KEY_BITS = 2048  # a key received from elsewhere must be at least this large


class InvalidCiphertext(CryptoError):
    """A ciphertext is out of range, not a unit mod n, or belongs to another key."""


class PlaintextOverflow(CryptoError, OverflowError):
    """A value does not fit the plaintext space (or a decrypted value wrapped around)."""


def security_bits(key_bits: int) -> int:
    """NIST SP 800-57 strength of an RSA-type modulus of ``key_bits``."""
    if key_bits >= 3072:
        return 128
    if key_bits >= 2048:
        return 112
    return 80


@dataclass(eq=False)
class PaillierPublicKey:
    """Public key: encrypt and evaluate.

    Attributes:
        n: the modulus.
        hs: the DJN base ``h^n mod n²`` (part of the public key).
    """

    n: mpz
    hs: mpz
    nsquare: mpz = field(init=False)
    max_int: mpz = field(init=False)
    exponent_bits: int = field(init=False)
    _table: FixedBaseTable | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.n = mpz(self.n)
        self.hs = mpz(self.hs)
        self.nsquare = self.n * self.n
        self.max_int = self.n // 3 - 1  # as phe: signed values live in [-max_int, max_int]
        self.exponent_bits = 2 * security_bits(int(self.n).bit_length())
        if not 0 < self.hs < self.nsquare or gmpy2.gcd(self.hs, self.n) != 1:
            raise InvalidCiphertext("public key base h_s is not a unit modulo n²")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PaillierPublicKey) and (self.n, self.hs) == (other.n, other.hs)

    def __hash__(self) -> int:
        return hash((int(self.n), int(self.hs)))

    @property
    def key_bits(self) -> int:
        return int(self.n).bit_length()

    @property
    def table(self) -> FixedBaseTable:
        """The fixed-base table for ``h_s`` (built on first use, kept for the key's life)."""
        if self._table is None:
            self._table = FixedBaseTable(self.hs, self.nsquare, self.exponent_bits)
        return self._table

    # ------------------------------------------------------------------ encoding
    def encode(self, value: int) -> mpz:
        """A signed integer as a plaintext in [0, n).

        Raises:
            PlaintextOverflow: ``|value| > max_int``.
        """
        v = int(value)
        if not -self.max_int <= v <= self.max_int:
            raise PlaintextOverflow(
                f"value of {v.bit_length()} bits does not fit a {self.key_bits}-bit key"
            )
        return mpz(v) % self.n

    # ------------------------------------------------------------------ encryption
    def obfuscator(self, rng: RandomBytes | None = None) -> mpz:
        """A fresh ``h_s^a`` with a random short exponent ``a``."""
        return self.table.pow(random_bits(self.exponent_bits, resolve(rng)))

    def encrypt(self, value: int, *, rng: RandomBytes | None = None) -> Ciphertext:
        """Encrypt a signed integer (the safe default: always obfuscated).

        Args:
            value: in ``[-max_int, max_int]``.
            rng: random source for known-answer tests only.

        Raises:
            PlaintextOverflow: the value does not fit.
        """
        return self._combine(self.encode(value), self.obfuscator(rng))

    def _combine(self, m: mpz, r: mpz) -> Ciphertext:
        # (1 + m·n)·(r_hi·n + r_lo) = r_lo + n·(r_hi + m·r_lo)  (mod n²): the ciphertext's digits
        # from one half-size multiplication and two half-size reductions
        n = self.n
        r_hi, r_lo = gmpy2.f_divmod(r, n)
        return Ciphertext._from_digits(self, r_lo, (r_hi + m * r_lo) % n)

    def raw_encrypt_unobfuscated(self, plaintext: int) -> Ciphertext:
        """``1 + m·n`` with no randomness: NOT semantically secure (tests, re-randomised sums)."""
        return Ciphertext._from_digits(self, mpz(1), mpz(plaintext) % self.n)

    def encrypt_many(
        self,
        values: Iterable[int] | Any,
        *,
        workers: int = 1,
        progress: Callable[[int, int], None] | None = None,
        rng: RandomBytes | None = None,
    ) -> list[Ciphertext]:
        """Encrypt a list or numpy array; ``workers > 1`` spreads large batches over processes.

        Args:
            values: integers (a numpy integer array is accepted).
            workers: processes to use (1: this process).
            progress: called as ``progress(done, total)``.
            rng: random source for known-answer tests only (single process).
        """
        items = [int(v) for v in (values.tolist() if hasattr(values, "tolist") else values)]
        if workers > 1 and len(items) >= 256 and rng is None:
            from tongdao.crypto.parallel import encrypt_parallel

            raw = encrypt_parallel(self, items, workers=workers, progress=progress)
            return [Ciphertext(self, c) for c in raw]
        out = []
        total = len(items)
        for i, v in enumerate(items, 1):
            out.append(self.encrypt(v, rng=rng))
            if progress and (i % 1024 == 0 or i == total):
                progress(i, total)
        return out

    # ------------------------------------------------------------------ arrival checks
    def ciphertext(self, value: int | bytes) -> Ciphertext:
        """Accept a ciphertext received from elsewhere, after validating it.

        Raises:
            InvalidCiphertext: not in (0, n²) or not coprime with n.
        """
        c = mpz(int.from_bytes(value, "big")) if isinstance(value, bytes) else mpz(value)
        if not 0 < c < self.nsquare:
            raise InvalidCiphertext("ciphertext out of range (0, n²)")
        if gmpy2.gcd(c, self.n) != 1:
            raise InvalidCiphertext("ciphertext shares a factor with n")
        return Ciphertext(self, c)

    # ------------------------------------------------------------------ serialisation
    def to_bytes(self) -> bytes:
        """``len(n) | n | h_s`` (big-endian)."""
        size = (self.key_bits + 7) // 8
        return (
            size.to_bytes(2, "big")
            + int(self.n).to_bytes(size, "big")
            + int(self.hs).to_bytes(2 * size, "big")
        )

    @classmethod
    def from_bytes(cls, data: bytes, *, min_key_bits: int = MIN_WIRE_KEY_BITS) -> PaillierPublicKey:
        """Inverse of :meth:`to_bytes`, for a key received from elsewhere: every parameter checked.

        Args:
            data: the key bytes.
            min_key_bits: the smallest modulus accepted (2048; only tests lower it, to 1024).

        Raises:
            KeyFormatError: malformed key bytes, a modulus smaller than ``min_key_bits`` or of a
                size other than :data:`SUPPORTED_KEY_BITS`, an undersized value in a full-size
                field (leading zeros), an even modulus, or a base ``h_s`` that is not a unit.
        """
        if len(data) < 2:
            raise KeyFormatError("Paillier public key bytes are truncated")
        size = int.from_bytes(data[:2], "big")
        if len(data) != 2 + 3 * size or size * 8 not in SUPPORTED_KEY_BITS:
            raise KeyFormatError("Paillier public key bytes have the wrong length")
        if size * 8 < min_key_bits:
            raise KeyFormatError(
                f"Paillier modulus of {size * 8} bits is below the minimum {min_key_bits}"
            )
        n = mpz(int.from_bytes(data[2 : 2 + size], "big"))
        hs = mpz(int.from_bytes(data[2 + size :], "big"))
        if int(n).bit_length() != size * 8:
            raise KeyFormatError("Paillier modulus is shorter than its declared size")
        if not n % 2 or gmpy2.is_square(n) or gmpy2.is_prime(n):
            raise KeyFormatError("Paillier modulus is not an odd product of two primes")
        try:
            return cls(n, hs)
        except InvalidCiphertext:
            raise KeyFormatError("Paillier public key base h_s is not a unit modulo n²") from None

    @property
    def ciphertext_bytes(self) -> int:
        return (int(self.nsquare).bit_length() + 7) // 8

    def to_phe(self) -> Any:
        """The equivalent ``phe.PaillierPublicKey``."""
        import phe

        return phe.PaillierPublicKey(int(self.n))

    @classmethod
    def from_phe(cls, public_key: Any, *, rng: RandomBytes | None = None) -> PaillierPublicKey:
        """Adopt a ``phe.PaillierPublicKey``.

        phe keys carry only ``n``; the DJN base ``h_s`` needs no secret, so it is drawn here.

        Args:
            public_key: a ``phe.PaillierPublicKey`` with ``g = n + 1`` (phe always uses it).
            rng: random source for known-answer tests only.

        Raises:
            InvalidCiphertext: ``g`` is not ``n + 1`` or the size is unsupported.
        """
        n = mpz(public_key.n)
        if int(public_key.g) != int(n) + 1:
            raise InvalidCiphertext("only keys with g = n + 1 are supported")
        if int(n).bit_length() not in SUPPORTED_KEY_BITS:
            raise InvalidCiphertext(f"key size must be one of {SUPPORTED_KEY_BITS}")
        return cls(n, _djn_base(n, resolve(rng)))

    def encrypt_raw(self, plaintext: int, obfuscator: int) -> Ciphertext:
        """``(1 + m·n)·r mod n²`` with a caller-supplied ``r``: raw, for known-answer tests.

        Args:
            plaintext: in ``[0, n)`` (no signed encoding, no range check beyond reduction).
            obfuscator: a unit modulo ``n²`` of the form ``h_s^a`` or ``x^n``.

        Returns:
            The ciphertext; semantically secure only if ``obfuscator`` is fresh and random.
        """
        return self._combine(mpz(plaintext) % self.n, mpz(obfuscator))


class Ciphertext:
    """A Paillier ciphertext under ``public_key``. Arithmetic needs only the public key.

    A ciphertext is kept as its two base-``n`` digits, ``c = hi·n + lo``. For ``c = c₁n + c₀``
    and ``d = d₁n + d₀``, ``c·d ≡ c₀d₀ + n·(c₁d₀ + c₀d₁) (mod n²)``: with ``c₀d₀ = t₁n + t₀``
    the product's digits are ``t₀`` and ``(t₁ + c₁d₀ + c₀d₁) mod n``. That is three half-size
    multiplications and two half-size reductions where ``c·d mod n²`` is one full-size
    multiplication and a full-size division; GMP's division is the dearer part, and the digit
    form adds ciphertexts about a fifth faster at 3072 bits. ``value``, the integer in
    ``[0, n²)``, is computed when first asked for (serialisation, decryption, ``× scalar``) and
    kept.

    Attributes:
        public_key: the key the ciphertext is under.
        lo: ``c mod n``.
        hi: ``c div n``.
    """

    __slots__ = ("_value", "hi", "lo", "public_key")

    def __init__(self, public_key: PaillierPublicKey, value: mpz | int) -> None:
        value = mpz(value)
        self.public_key = public_key
        self.hi, self.lo = gmpy2.f_divmod(value, public_key.n)
        self._value: mpz | None = value

    @classmethod
    def _from_digits(
        cls, public_key: PaillierPublicKey, lo: mpz, hi: mpz, _new: Any = object.__new__
    ) -> Ciphertext:
        # the constructor for results of arithmetic: no division, value computed on demand
        c: Ciphertext = _new(cls)
        c.public_key = public_key
        c.lo = lo
        c.hi = hi
        c._value = None
        return c

    @property
    def value(self) -> mpz:
        """The ciphertext as an integer in ``[0, n²)``."""
        v = self._value
        if v is None:
            v = self._value = self.hi * self.public_key.n + self.lo
        return v

    def __repr__(self) -> str:
        return f"Ciphertext(<{self.public_key.key_bits}-bit key>)"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Ciphertext)
            and other.public_key == self.public_key
            and other.value == self.value
        )

    def __hash__(self) -> int:
        return hash(int(self.value))

    def __add__(self, other: Ciphertext | int) -> Ciphertext:
        pk = self.public_key
        n = pk.n
        if type(other) is Ciphertext:
            if other.public_key is not pk and other.public_key != pk:
                raise InvalidCiphertext("ciphertexts are under different keys")
            return Ciphertext._from_digits(
                pk, *digit_product(n, self.lo, self.hi, other.lo, other.hi)
            )
        if isinstance(other, Ciphertext):  # a subclass: same rules
            return self + Ciphertext(other.public_key, other.value)
        # c·(1 + k·n) = c₀ + n·(c₁ + k·c₀)  (mod n²): no full-size work for a plaintext addend
        return Ciphertext._from_digits(pk, self.lo, (self.hi + pk.encode(other) * self.lo) % n)

    __radd__ = __add__

    def __neg__(self) -> Ciphertext:
        return Ciphertext(self.public_key, gmpy2.invert(self.value, self.public_key.nsquare))

    def __sub__(self, other: Ciphertext | int) -> Ciphertext:
        return self + (-other if isinstance(other, Ciphertext) else -int(other))

    def __mul__(self, scalar: int) -> Ciphertext:
        if isinstance(scalar, Ciphertext):
            raise TypeError("Paillier cannot multiply two ciphertexts")
        pk = self.public_key
        k = int(scalar)
        if k < 0:
            return Ciphertext(
                pk, gmpy2.powmod(gmpy2.invert(self.value, pk.nsquare), -k, pk.nsquare)
            )
        return Ciphertext(pk, gmpy2.powmod(self.value, k, pk.nsquare))

    __rmul__ = __mul__

    def rerandomise(self, rng: RandomBytes | None = None) -> Ciphertext:
        """The same plaintext under fresh randomness (before sending a sum onward)."""
        pk = self.public_key
        return self + Ciphertext(pk, pk.obfuscator(rng))

    def to_bytes(self) -> bytes:
        """Fixed-length big-endian bytes (``ciphertext_bytes`` long)."""
        return int(self.value).to_bytes(self.public_key.ciphertext_bytes, "big")

    @classmethod
    def from_bytes(cls, public_key: PaillierPublicKey, data: bytes) -> Ciphertext:
        """Inverse of :meth:`to_bytes`, validated on arrival.

        Raises:
            InvalidCiphertext: wrong length, out of range or not a unit modulo ``n``.
        """
        if len(data) != public_key.ciphertext_bytes:
            raise InvalidCiphertext(
                f"ciphertext must be {public_key.ciphertext_bytes} bytes, got {len(data)}"
            )
        return public_key.ciphertext(data)

    def to_phe(self) -> Any:
        """The equivalent ``phe.EncryptedNumber`` (integer encoding, exponent 0)."""
        import phe

        return phe.EncryptedNumber(self.public_key.to_phe(), int(self.value), 0)

    @classmethod
    def from_phe(cls, public_key: PaillierPublicKey, encrypted: Any) -> Ciphertext:
        """Adopt a ``phe.EncryptedNumber`` with exponent 0 (integers), after validation.

        Raises:
            InvalidCiphertext: another key, a non-integer encoding, or an invalid value.
        """
        if int(encrypted.public_key.n) != int(public_key.n):
            raise InvalidCiphertext("phe ciphertext is under another key")
        if encrypted.exponent != 0:
            raise InvalidCiphertext(
                "phe ciphertext encodes a non-integer; decrease_exponent_to(0) first"
            )
        return public_key.ciphertext(encrypted.ciphertext(be_secure=False))


@dataclass(eq=False)
class PaillierPrivateKey:
    """Private key: decrypt (and encrypt faster than a public-key holder)."""

    public_key: PaillierPublicKey
    p: mpz
    q: mpz

    def __post_init__(self) -> None:
        self.p, self.q = mpz(self.p), mpz(self.q)
        if self.p * self.q != self.public_key.n:
            raise CryptoError("p·q does not equal the public modulus")
        if self.q < self.p:
            self.p, self.q = self.q, self.p
        self.psquare = self.p * self.p
        self.qsquare = self.q * self.q
        self.p_inverse = gmpy2.invert(self.p, self.q)
        self.hp = self._h(self.p, self.psquare)
        self.hq = self._h(self.q, self.qsquare)
        self.psquare_inverse = gmpy2.invert(self.psquare, self.qsquare)
        self._tables: tuple[FixedBaseTable, FixedBaseTable] | None = None

    def __repr__(self) -> str:  # never print p or q
        return f"PaillierPrivateKey(key_bits={self.public_key.key_bits})"

    def _h(self, x: mpz, xsquare: mpz) -> mpz:
        # h_x = L_x(g^(x-1) mod x²)^-1 mod x, with g = n + 1
        return gmpy2.invert((gmpy2.powmod(self.public_key.n + 1, x - 1, xsquare) - 1) // x, x)

    # ------------------------------------------------------------------ decryption
    def raw_decrypt(self, c: Ciphertext) -> mpz:
        """The plaintext in [0, n) (no signed decoding). Validates the ciphertext.

        Raises:
            InvalidCiphertext: another key or an invalid value.
        """
        pk = self.public_key
        if c.public_key is not pk and c.public_key != pk:
            raise InvalidCiphertext("ciphertext is under another key")
        value = c.value
        # range and unit checks; with p and q known, gcd(c, n) = 1 is two cheap remainders
        if not 0 < value < pk.nsquare or not value % self.p or not value % self.q:
            raise InvalidCiphertext("ciphertext out of range or not a unit modulo n")
        mp = (gmpy2.powmod(value, self.p - 1, self.psquare) - 1) // self.p * self.hp % self.p
        mq = (gmpy2.powmod(value, self.q - 1, self.qsquare) - 1) // self.q * self.hq % self.q
        u = (mq - mp) * self.p_inverse % self.q
        return mp + u * self.p

    def decrypt(self, c: Ciphertext) -> int:
        """The signed integer.

        Raises:
            PlaintextOverflow: the plaintext lies outside ``[-max_int, max_int]`` (a sum wrapped).
            InvalidCiphertext: another key or an invalid value.
        """
        pk = self.public_key
        m = self.raw_decrypt(c)
        if m <= pk.max_int:
            return int(m)
        if m >= pk.n - pk.max_int:
            return int(m - pk.n)
        raise PlaintextOverflow("decrypted value overflowed the signed range (sum too large)")

    def decrypt_many(
        self,
        ciphertexts: Iterable[Ciphertext],
        *,
        workers: int = 1,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[int]:
        """Decrypt a batch (a list, or a numpy object array of ciphertexts).

        Args:
            ciphertexts: under this key.
            workers: processes for large batches (1: this process). The workers receive the
                private key over a local pipe; use them only on the key owner's machine.
            progress: called as ``progress(done, total)``.

        Returns:
            Signed integers, in input order.

        Raises:
            InvalidCiphertext: one is invalid or under another key.
            PlaintextOverflow: one decrypts outside the signed range.
        """
        items = list(ciphertexts)
        total = len(items)
        if workers > 1 and total >= 256:
            from tongdao.crypto.parallel import decrypt_parallel

            for c in items:  # key checks here: workers see only the values
                if c.public_key is not self.public_key and c.public_key != self.public_key:
                    raise InvalidCiphertext("ciphertext is under another key")
            return decrypt_parallel(self, items, workers=workers, progress=progress)
        out = []
        for i, c in enumerate(items, 1):
            out.append(self.decrypt(c))
            if progress and (i % 256 == 0 or i == total):
                progress(i, total)
        return out

    # ------------------------------------------------------------------ owner encryption
    def _owner_tables(self) -> tuple[FixedBaseTable, FixedBaseTable]:
        if self._tables is None:
            pk = self.public_key
            self._tables = (
                # half-size entries, so a wider window costs the same memory as the public table
                FixedBaseTable(
                    pk.hs % self.psquare, self.psquare, pk.exponent_bits, WINDOW_BITS + 1
                ),
                FixedBaseTable(
                    pk.hs % self.qsquare, self.qsquare, pk.exponent_bits, WINDOW_BITS + 1
                ),
            )
        return self._tables

    def encrypt(self, value: int, *, rng: RandomBytes | None = None) -> Ciphertext:
        """Encrypt as the key owner: the same ciphertext distribution, computed mod p² and q²."""
        pk = self.public_key
        m = pk.encode(value)
        tp, tq = self._owner_tables()
        a = random_bits(pk.exponent_bits, resolve(rng))
        rp, rq = tp.pow(a), tq.pow(a)
        # CRT: r ≡ rp (mod p²), r ≡ rq (mod q²)
        r = rp + (rq - rp) * self.psquare_inverse % self.qsquare * self.psquare
        return pk._combine(m, r)

    def encrypt_many(
        self, values: Iterable[int] | Any, *, rng: RandomBytes | None = None
    ) -> list[Ciphertext]:
        items = values.tolist() if hasattr(values, "tolist") else values
        return [self.encrypt(int(v), rng=rng) for v in items]

    # ------------------------------------------------------------------ conversion
    def to_phe(self) -> Any:
        """The equivalent ``phe.PaillierPrivateKey``."""
        import phe

        return phe.PaillierPrivateKey(self.public_key.to_phe(), int(self.p), int(self.q))

    @classmethod
    def from_phe(cls, private_key: Any, *, rng: RandomBytes | None = None) -> PaillierPrivateKey:
        """Adopt a ``phe`` key pair (a DJN base is added to the public key)."""
        p, q = mpz(private_key.p), mpz(private_key.q)
        return cls(PaillierPublicKey(p * q, _djn_base(p * q, resolve(rng))), p, q)

    def to_bytes(self) -> bytes:
        """``public key bytes | p`` — keep secret."""
        size = (self.public_key.key_bits // 2 + 7) // 8
        return self.public_key.to_bytes() + int(self.p).to_bytes(size, "big")

    @classmethod
    def from_bytes(cls, data: bytes) -> PaillierPrivateKey:
        """Inverse of :meth:`to_bytes` (one's own key: any supported size).

        Raises:
            KeyFormatError: malformed key bytes.
            CryptoError: ``p`` does not divide the modulus.
        """
        size = int.from_bytes(data[:2], "big")
        pk = PaillierPublicKey.from_bytes(data[: 2 + 3 * size], min_key_bits=SUPPORTED_KEY_BITS[0])
        p = mpz(int.from_bytes(data[2 + 3 * size :], "big"))
        if p < 2 or pk.n % p:
            raise CryptoError("private key bytes do not match the public key")
        return cls(pk, p, pk.n // p)


EncryptedNumber = Ciphertext
"""Alias, for readers coming from ``phe``: the same ciphertext type."""


def _djn_base(n: mpz, rng: RandomBytes) -> mpz:
    x = random_below(n, rng)
    while gmpy2.gcd(x, n) != 1 or x == 0:
        x = random_below(n, rng)
    h = (-(x * x)) % n
    return gmpy2.powmod(h, n, n * n)


def generate_paillier_keypair(
    bits: int = DEFAULT_KEY_BITS, *, rng: RandomBytes | None = None
) -> tuple[PaillierPublicKey, PaillierPrivateKey]:
    """Generate a key pair with ``n`` of exactly ``bits`` bits.

    Args:
        bits: 2048 (default) or 3072 (4096 allowed; 1024 only for tests).
        rng: random source for known-answer tests only.

    Raises:
        ParameterError: unsupported size.
    """
    if bits not in SUPPORTED_KEY_BITS:
        raise ParameterError(f"key size must be one of {SUPPORTED_KEY_BITS}")
    rand = resolve(rng)
    while True:
        p = random_prime(bits // 2, rand)
        q = random_prime(bits // 2, rand)
        n = p * q
        if p != q and int(n).bit_length() == bits and gmpy2.gcd(n, (p - 1) * (q - 1)) == 1:
            break
    public = PaillierPublicKey(n, _djn_base(n, rand))
    return public, PaillierPrivateKey(public, p, q)
