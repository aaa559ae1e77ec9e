"""Verified 0/1 selections for intersection-sum: the provider never decrypts anything.

Intersection-sum gives the *consumer* a sum of the *provider's* values. So the consumer must hold
the decryption key, and the provider must know that what it homomorphically sums is a 0/1
selection of its rows — otherwise the consumer could pack many values into one result (weights
``2^64·j``) or decrypt single rows. The construction:

1. The consumer draws a fresh Paillier key ``n = p·q`` (2048 bits or more) and sends ``n``, the
   Damgård–Jurik–Nielsen generator ``h`` and a *modulus certificate*: ``n`` has no prime factor
   up to ``2^24`` (the provider checks by a gcd with the primorial) and, for six points ``x_i``
   derived from ``(n, h)`` by SHAKE-256, an ``n``-th root modulo ``n`` — which proves
   ``gcd(n, φ(n)) = 1``, hence ``n`` square-free (Goldberg, Reyzin, Sagga and Baldimtsi,
   "Efficient Noninteractive Certification of RSA Moduli and Beyond", ASIACRYPT 2019: without it
   at most a ``1/p`` fraction of points has a root, ``p > 2^24``, so six roots leave ``2^-144``).
   The provider computes the encryption base ``h_s = h^n mod n²`` itself, so ``h_s`` is an
   ``n``-th power by construction.
2. For every provider row ``j`` (in the order the provider sent its blinded keys) the consumer
   sends ``c_j = Enc(m_j) = (1 + n)^{m_j} · h_s^{a_j}`` with ``m_j = 1`` when the row's key is in
   its set, and a non-interactive proof that ``m_j ∈ {0, 1}``: an OR of two Σ-proofs of a
   discrete logarithm to base ``h_s`` (for ``c_j`` and ``c_j/(1 + n)``; Cramer, Damgård and
   Schoenmakers, CRYPTO 1994), repeated with 24-bit challenges from SHAKE-256 over the session
   context, the row's index, ``c_j`` and the commitments (Fiat–Shamir) — five times at 2048
   bits, six at 3072 and 4096 (:func:`repetitions`: at least the key's strength). Soundness
   needs no trust in the consumer's key: with ``n`` square-free, ``gcd(n, φ(n)) = 1`` and every
   prime factor above ``2^24``, a ciphertext whose plaintext is neither 0 nor 1 passes one
   repetition for at most one challenge in ``2^24`` (the challenge would have to solve
   ``e·m ≡ μ (mod n)`` inside a range shorter than any factor of ``n``), so all five for
   ``2^-120`` per hash evaluation at 2048 bits (the key itself offers 112), six for
   ``2^-144``. Responses are masked by 80 extra bits (statistical zero-knowledge: the provider
   learns nothing about ``m_j``). The consumer proves modulo ``p²`` and ``q²`` (CRT).
3. The provider verifies every proof, computes ``Enc(Σ m_j·v_j)`` and ``Enc(Σ m_j)`` with its
   plaintext values, binds the consumer's claimed count ``k`` by adding ``ρ·(Σ m_j − k)`` for a
   uniformly random ``ρ`` (a false count turns the result into a uniformly random number: the
   difference is nonzero and below every prime factor of ``n``), multiplies by a uniformly
   random ``n``-th power ``u^n`` (so the ciphertext carries nothing but the sum) and returns it.
   It checks ``k`` against the minimum group size before any of this reaches the consumer.

What the consumer can still choose: *which* of the provider's rows are summed (any 0/1
selection of at least the minimum group size — rows it recognises are exactly those whose keys it
holds). Costs and the threat model: docs/privacy.md.

Roles: :class:`SelectionKey` (consumer: prove, decrypt), :class:`SelectionPublicKey` (provider:
verify), :class:`SelectedSum` (provider: sum and seal the result).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import gmpy2
from gmpy2 import mpz

from tongdao.crypto.errors import CryptoError
from tongdao.crypto.paillier import (
    WINDOW_BITS,
    Ciphertext,
    FixedBaseTable,
    InvalidCiphertext,
    PaillierPrivateKey,
    PaillierPublicKey,
    generate_paillier_keypair,
    security_bits,
)
from tongdao.crypto.paillier.arith import random_below as _random_below
from tongdao.crypto.paillier.arith import random_bits as _random_bits
from tongdao.crypto.randomness import RandomBytes, resolve

KEY_BITS = (2048, 3072, 4096)
TRIAL_BITS = 24  # no prime factor of n up to 2^24; also the width of one challenge
CHALLENGE_BITS = TRIAL_BITS
CHALLENGE_BYTES = 3
MODULUS_ROOTS = 6  # (2^-24)^6: probability a modulus with gcd(n, φ(n)) ≠ 1 is certified
STATISTICAL_BITS = 80  # zero-knowledge slack of the responses
_DOMAIN = b"tongdao/v1 intersection-sum selection"
_ROOT_DOMAIN = b"tongdao/v1 intersection-sum modulus"


class SelectionKeyError(CryptoError):
    """A consumer's selection key is malformed, too small or not certified."""


class SelectionProofError(CryptoError):
    """A selection record is malformed or its 0/1 proof does not verify."""


@functools.cache
def _small_primes_product() -> mpz:
    return mpz(gmpy2.primorial(2**TRIAL_BITS))


def _size(bits: int) -> int:
    return (bits + 7) // 8


def _root_points(n: mpz, h: mpz) -> list[mpz]:
    """The ``x_i`` a modulus certificate must take ``n``-th roots of (units of ``Z_n``)."""
    size = _size(int(n).bit_length())
    seed = _ROOT_DOMAIN + int(n).to_bytes(size, "big") + int(h).to_bytes(size, "big")
    out: list[mpz] = []
    counter = 0
    while len(out) < MODULUS_ROOTS:
        # 16 extra bytes make the reduction mod n statistically uniform
        raw = hashlib.shake_256(seed + counter.to_bytes(4, "big")).digest(size + 16)
        counter += 1
        x = mpz(int.from_bytes(raw, "big")) % n
        if x > 1 and gmpy2.gcd(x, n) == 1:
            out.append(x)
    return out


@dataclass(frozen=True, eq=False)
class SelectionPublicKey:
    """The consumer's key as the provider receives it, after every check.

    Attributes:
        paillier: the Paillier public key with ``h_s = h^n mod n²`` computed here.
        h: the Damgård–Jurik–Nielsen generator the consumer sent.
        roots: the modulus certificate (``n``-th roots modulo ``n``).
    """

    paillier: PaillierPublicKey
    h: mpz
    roots: tuple[mpz, ...]

    def to_bytes(self) -> bytes:
        """``len(n) (2 bytes) | n | h | roots`` (big-endian, each ``len(n)`` bytes)."""
        n = self.paillier.n
        size = _size(int(n).bit_length())
        parts = [size.to_bytes(2, "big"), int(n).to_bytes(size, "big")]
        parts += [int(v).to_bytes(size, "big") for v in (self.h, *self.roots)]
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> SelectionPublicKey:
        """Parse and check a key received from the wire.

        Raises:
            SelectionKeyError: wrong length, a modulus not of 2048, 3072 or 4096 bits, even, with
                a prime factor up to ``2^24`` or without a valid certificate, or ``h`` not a unit.
        """
        if len(data) < 2:
            raise SelectionKeyError("selection key is truncated")
        size = int.from_bytes(data[:2], "big")
        if size * 8 not in KEY_BITS or len(data) != 2 + size * (2 + MODULUS_ROOTS):
            raise SelectionKeyError(
                f"selection key must be a {'/'.join(map(str, KEY_BITS))}-bit modulus, h and "
                f"{MODULUS_ROOTS} roots"
            )
        values = [
            mpz(int.from_bytes(data[2 + i * size : 2 + (i + 1) * size], "big"))
            for i in range(2 + MODULUS_ROOTS)
        ]
        n, h, roots = values[0], values[1], tuple(values[2:])
        if int(n).bit_length() != size * 8 or not n % 2:
            raise SelectionKeyError("selection key modulus has the wrong size or is even")
        if gmpy2.gcd(_small_primes_product() % n, n) != 1:
            raise SelectionKeyError(
                f"selection key modulus has a prime factor below 2^{TRIAL_BITS}"
            )
        if not 1 < h < n or gmpy2.gcd(h, n) != 1:
            raise SelectionKeyError("selection key generator is not a unit modulo n")
        for x, root in zip(_root_points(n, h), roots, strict=True):
            if not 0 < root < n or gmpy2.powmod(root, n, n) != x:
                raise SelectionKeyError("selection key modulus certificate does not verify")
        try:
            paillier = PaillierPublicKey(n, gmpy2.powmod(h, n, n * n))
        except InvalidCiphertext:
            raise SelectionKeyError("selection key generator is not a unit modulo n²") from None
        return cls(paillier, h, roots)

    def verifier(self, context: bytes) -> SelectionVerifier:
        """A verifier of this key's selection records, bound to ``context``."""
        return SelectionVerifier(self, context)

    @property
    def record_bytes(self) -> int:
        """Bytes of one selection record (ciphertext and proof)."""
        return self.paillier.ciphertext_bytes + repetitions(self.paillier) * (
            2 * CHALLENGE_BYTES + 2 * _response_bytes(self.paillier)
        )


def repetitions(pk: PaillierPublicKey) -> int:
    """Repetitions of the 24-bit-challenge proof: at least the key's strength in bits (5 at 2048
    bits: 2^-120 against the key's 112; 6 at 3072 and 4096: 2^-144 against 128)."""
    return -(-security_bits(pk.key_bits) // CHALLENGE_BITS)


def _response_bits(pk: PaillierPublicKey) -> int:
    # honest responses k + e·a lie below 2^bits + 2^(exponent + challenge) < 2^(bits + 1)
    return pk.exponent_bits + CHALLENGE_BITS + STATISTICAL_BITS


def _response_bytes(pk: PaillierPublicKey) -> int:
    return _size(_response_bits(pk) + 1)


def _challenges(
    context: bytes, index: int, c: mpz, commitments: Sequence[mpz], width: int, reps: int
) -> list[int]:
    h = hashlib.shake_256(_DOMAIN)
    h.update(len(context).to_bytes(4, "big") + context + index.to_bytes(8, "big"))
    h.update(int(c).to_bytes(width, "big"))
    for t in commitments:
        h.update(int(t).to_bytes(width, "big"))
    raw = h.digest(CHALLENGE_BYTES * reps)
    return [
        int.from_bytes(raw[i * CHALLENGE_BYTES : (i + 1) * CHALLENGE_BYTES], "big")
        for i in range(reps)
    ]


def _powers_of_two(base: mpz, modulus: mpz) -> list[mpz]:
    out = [base]
    for _ in range(CHALLENGE_BITS - 1):
        out.append(out[-1] * out[-1] % modulus)
    return out


def _small_pow(powers: list[mpz], e: int, modulus: mpz) -> mpz:
    """``base^e`` from ``base^(2^i)`` (shared by every challenge on one ciphertext)."""
    acc = mpz(1)
    i = 0
    while e:
        if e & 1:
            acc = acc * powers[i] % modulus
        e >>= 1
        i += 1
    return acc


class SelectionKey:
    """The consumer's side: a fresh Paillier key pair with its certificate; prove and decrypt."""

    def __init__(
        self, private_key: PaillierPrivateKey, h: mpz, *, rng: RandomBytes | None = None
    ) -> None:
        """Use :meth:`generate`; this constructor is for keys read back with :meth:`from_bytes`.

        Raises:
            SelectionKeyError: ``h^n`` is not the key's ``h_s``, or the size is unsupported.
        """
        pk = private_key.public_key
        if pk.key_bits not in KEY_BITS:
            raise SelectionKeyError(f"selection key must be one of {KEY_BITS} bits")
        if gmpy2.powmod(h, pk.n, pk.nsquare) != pk.hs:
            raise SelectionKeyError("h does not match the key's h_s")
        self.private_key = private_key
        self.h = mpz(h)
        phi = (private_key.p - 1) * (private_key.q - 1)
        inverse = gmpy2.invert(pk.n, phi)
        roots = tuple(gmpy2.powmod(x, inverse, pk.n) for x in _root_points(pk.n, self.h))
        self.public_key = SelectionPublicKey(pk, self.h, roots)
        self._rng = resolve(rng)
        self._owner: tuple[FixedBaseTable, FixedBaseTable] | None = None

    def __repr__(self) -> str:
        return f"SelectionKey(key_bits={self.private_key.public_key.key_bits})"

    @classmethod
    def generate(cls, bits: int = 2048, *, rng: RandomBytes | None = None) -> SelectionKey:
        """A fresh key (one per query).

        Raises:
            SelectionKeyError: ``bits`` is not 2048, 3072 or 4096.
        """
        if bits not in KEY_BITS:
            raise SelectionKeyError(f"selection key must be one of {KEY_BITS} bits")
        rand = resolve(rng)
        _, private = generate_paillier_keypair(bits, rng=rand)
        n = private.public_key.n
        x = _random_below(n, rand)
        while x < 2 or gmpy2.gcd(x, n) != 1:
            x = _random_below(n, rand)
        h = (-(x * x)) % n
        pk = PaillierPublicKey(n, gmpy2.powmod(h, n, n * n))
        return cls(PaillierPrivateKey(pk, private.p, private.q), h, rng=rng)

    def to_bytes(self) -> bytes:
        """``Paillier private key bytes | h`` — keep secret (for process pools)."""
        size = _size(self.private_key.public_key.key_bits)
        return self.private_key.to_bytes() + int(self.h).to_bytes(size, "big")

    @classmethod
    def from_bytes(cls, data: bytes, *, rng: RandomBytes | None = None) -> SelectionKey:
        """Inverse of :meth:`to_bytes`.

        Raises:
            SelectionKeyError: the bytes do not form a key.
        """
        if len(data) < 2:
            raise SelectionKeyError("selection key bytes are truncated")
        size = int.from_bytes(data[:2], "big")
        cut = len(data) - size
        try:
            private = PaillierPrivateKey.from_bytes(data[:cut])
        except CryptoError:
            raise SelectionKeyError("selection key bytes do not form a key") from None
        return cls(private, mpz(int.from_bytes(data[cut:], "big")), rng=rng)

    def _tables(self, bits: int) -> tuple[FixedBaseTable, FixedBaseTable]:
        # the owner computes modulo p² and q² (half-size numbers) and joins by the CRT
        if self._owner is None:
            sk = self.private_key
            hs = sk.public_key.hs
            self._owner = (
                FixedBaseTable(hs % sk.psquare, sk.psquare, bits, WINDOW_BITS + 1),
                FixedBaseTable(hs % sk.qsquare, sk.qsquare, bits, WINDOW_BITS + 1),
            )
        return self._owner

    def prove(self, bits: Sequence[int], context: bytes, start: int) -> bytes:
        """Selection records for consecutive rows ``start, start + 1, …``.

        Args:
            bits: 0 or 1 per row (1: the row is summed).
            context: the session context the provider named (binds the proofs to this query).
            start: the index of the first row.

        Returns:
            ``len(bits)`` records of :attr:`SelectionPublicKey.record_bytes` each.

        Raises:
            SelectionProofError: a bit that is not 0 or 1.
        """
        sk = self.private_key
        pk = sk.public_key
        n = pk.n
        p2, q2 = sk.psquare, sk.qsquare
        join_factor = sk.psquare_inverse

        def join(xp: mpz, xq: mpz) -> mpz:
            return xp + (xq - xp) * join_factor % q2 * p2

        width = pk.ciphertext_bytes
        zbytes = _response_bytes(pk)
        zbits = _response_bits(pk)
        tp, tq = self._tables(zbits + 1)
        rng = self._rng
        reps = repetitions(pk)
        g_p, g_q = (1 + n) % p2, (1 + n) % q2
        out = bytearray()
        for offset, m in enumerate(bits):
            if m not in (0, 1):
                raise SelectionProofError("a selection bit must be 0 or 1")
            a = _random_bits(pk.exponent_bits, rng)
            cp = tp.pow(a) * (g_p if m else 1) % p2
            cq = tq.pow(a) * (g_q if m else 1) % q2
            c = join(cp, cq)
            # statements: branch 0 "c = h_s^a", branch 1 "c/(1+n) = h_s^a"; inverses of each
            ip, iq = gmpy2.invert(cp, p2), gmpy2.invert(cq, q2)
            powers = [
                (_powers_of_two(ip, p2), _powers_of_two(iq, q2)),
                (_powers_of_two(ip * g_p % p2, p2), _powers_of_two(iq * g_q % q2, q2)),
            ]
            other = powers[1 - m]
            commitments: list[mpz] = []
            secrets_: list[tuple[mpz, int, mpz]] = []  # (k, simulated e, simulated z)
            for _ in range(reps):
                k = _random_bits(zbits, rng)
                e_sim = int(_random_bits(CHALLENGE_BITS, rng))
                z_sim = _random_bits(zbits, rng)
                real = join(tp.pow(k), tq.pow(k))
                fake = join(
                    tp.pow(z_sim) * _small_pow(other[0], e_sim, p2) % p2,
                    tq.pow(z_sim) * _small_pow(other[1], e_sim, q2) % q2,
                )
                commitments += [real, fake] if m == 0 else [fake, real]
                secrets_.append((k, e_sim, z_sim))
            challenges = _challenges(context, start + offset, c, commitments, width, reps)
            out += int(c).to_bytes(width, "big")
            for (k, e_sim, z_sim), e in zip(secrets_, challenges, strict=True):
                e_real = (e - e_sim) % (1 << CHALLENGE_BITS)
                z_real = k + e_real * a
                es = (e_real, e_sim) if m == 0 else (e_sim, e_real)
                zs = (z_real, z_sim) if m == 0 else (z_sim, z_real)
                out += es[0].to_bytes(CHALLENGE_BYTES, "big")
                out += es[1].to_bytes(CHALLENGE_BYTES, "big")
                out += int(zs[0]).to_bytes(zbytes, "big") + int(zs[1]).to_bytes(zbytes, "big")
        return bytes(out)

    def decrypt_sum(self, data: bytes) -> int:
        """The provider's result (a ciphertext under this key) as a signed integer.

        Raises:
            InvalidCiphertext: not a valid ciphertext under this key.
            PlaintextOverflow: the value lies outside the signed range (a false count garbles it).
        """
        pk = self.private_key.public_key
        return self.private_key.decrypt(Ciphertext.from_bytes(pk, data))


class SelectionVerifier:
    """The provider's check of selection records (one per provider row, in the order sent)."""

    def __init__(self, key: SelectionPublicKey, context: bytes) -> None:
        self.key = key
        self.context = context
        pk = key.paillier
        self._n, self._n2 = pk.n, pk.nsquare
        self._width = pk.ciphertext_bytes
        self._zbytes = _response_bytes(pk)
        self._reps = repetitions(pk)
        self._zlimit = mpz(1) << (_response_bits(pk) + 1)
        self._table = FixedBaseTable(pk.hs, pk.nsquare, _response_bits(pk) + 1)

    def verify(self, records: bytes, start: int) -> list[mpz]:
        """Check records for rows ``start, start + 1, …``; return their ciphertexts.

        Raises:
            SelectionProofError: the length is not a whole number of records, a value is out of
                range, or a proof does not verify.
        """
        size = self.key.record_bytes
        if len(records) % size:
            raise SelectionProofError("selection records have the wrong length")
        n, n2, width, zb = self._n, self._n2, self._width, self._zbytes
        out: list[mpz] = []
        for index, pos in enumerate(range(0, len(records), size), start):
            c = mpz(int.from_bytes(records[pos : pos + width], "big"))
            if not 0 < c < n2 or gmpy2.gcd(c, n) != 1:
                raise SelectionProofError(f"selection {index}: ciphertext out of range")
            inverse = gmpy2.invert(c, n2)
            powers = [_powers_of_two(b, n2) for b in (inverse, inverse * (1 + n) % n2)]
            cursor = pos + width
            commitments: list[mpz] = []
            sums: list[int] = []
            for _ in range(self._reps):
                e0 = int.from_bytes(records[cursor : cursor + CHALLENGE_BYTES], "big")
                e1 = int.from_bytes(
                    records[cursor + CHALLENGE_BYTES : cursor + 2 * CHALLENGE_BYTES], "big"
                )
                cursor += 2 * CHALLENGE_BYTES
                z0 = mpz(int.from_bytes(records[cursor : cursor + zb], "big"))
                z1 = mpz(int.from_bytes(records[cursor + zb : cursor + 2 * zb], "big"))
                cursor += 2 * zb
                if z0 >= self._zlimit or z1 >= self._zlimit:
                    raise SelectionProofError(f"selection {index}: response out of range")
                commitments.append(self._table.pow(z0) * _small_pow(powers[0], e0, n2) % n2)
                commitments.append(self._table.pow(z1) * _small_pow(powers[1], e1, n2) % n2)
                sums.append((e0 + e1) % (1 << CHALLENGE_BITS))
            if _challenges(self.context, index, c, commitments, width, self._reps) != sums:
                raise SelectionProofError(f"selection {index}: the 0/1 proof does not verify")
            out.append(c)
        return out


class SelectedSum:
    """The provider's running ``Enc(Σ m_j·v_j)`` and ``Enc(Σ m_j)`` over verified selections."""

    def __init__(self, key: SelectionPublicKey) -> None:
        self.key = key
        self.weighted = mpz(1)
        self.count = mpz(1)
        self.rows = 0

    def add(self, ciphertexts: Sequence[mpz], values: Sequence[int]) -> None:
        """Add verified selection ciphertexts with the provider's plaintext values.

        Raises:
            SelectionProofError: the lengths differ.
        """
        if len(ciphertexts) != len(values):
            raise SelectionProofError("one selection per row is required")
        w, k = partial_products(self.key.paillier.nsquare, ciphertexts, values)
        self.merge(w, k, len(values))

    def merge(self, weighted: mpz, count: mpz, rows: int) -> None:
        """Add a partial result computed elsewhere (a worker) with :func:`partial_products`."""
        n2 = self.key.paillier.nsquare
        self.weighted = self.weighted * weighted % n2
        self.count = self.count * count % n2
        self.rows += rows

    def result(self, claimed_count: int, *, rng: RandomBytes | None = None) -> bytes:
        """The sum, bound to the claimed count and re-randomised, as the consumer receives it.

        Args:
            claimed_count: the number of rows the consumer says it selected.
            rng: random source for known-answer tests only.

        Returns:
            ``Enc(Σ m_j·v_j + ρ·(Σ m_j − claimed_count)) · u^n`` as fixed-width bytes.
        """
        pk = self.key.paillier
        n, n2 = pk.n, pk.nsquare
        rand = resolve(rng)
        rho = _random_below(n, rand)
        u = _random_below(n, rand)
        while u == 0 or gmpy2.gcd(u, n) != 1:
            u = _random_below(n, rand)
        deviation = self.count * (1 - (claimed_count % n) * n) % n2
        value = self.weighted * gmpy2.powmod(deviation, rho, n2) % n2
        value = value * gmpy2.powmod(u, n, n2) % n2
        return int(value).to_bytes(pk.ciphertext_bytes, "big")


def partial_products(
    nsquare: mpz, ciphertexts: Sequence[mpz], values: Sequence[int]
) -> tuple[mpz, mpz]:
    """``(Π c_j^{v_j}, Π c_j) mod n²`` for verified ciphertexts and signed values."""
    weighted, count = mpz(1), mpz(1)
    for c, v in zip(ciphertexts, values, strict=True):
        weighted = weighted * gmpy2.powmod(c, v, nsquare) % nsquare
        count = count * c % nsquare
    return weighted, count
