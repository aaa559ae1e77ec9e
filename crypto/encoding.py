"""Encodings into Paillier plaintexts: fixed-point decimals and packing of many small values.

Packing puts ``slots`` values side by side in one plaintext, each in a slot wide enough for the
sum of ``additions`` values, so one ciphertext, one homomorphic addition and one decryption serve
``slots`` values. Overflow is detected on unpacking — never a silent wrap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from tongdao.crypto.errors import CryptoError, ParameterError
from tongdao.crypto.paillier import (
    Ciphertext,
    PaillierPrivateKey,
    PaillierPublicKey,
    PlaintextOverflow,
)


@dataclass(frozen=True)
class FixedPointEncoder:
    """Decimals as integers scaled by ``10^digits`` (exact for decimal inputs)."""

    digits: int = 6

    def encode(self, value: Decimal | float | int | str) -> int:
        """Scale and round half-even to an integer.

        Raises:
            ParameterError: not a finite number.
        """
        try:
            d = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        except InvalidOperation:
            raise ParameterError("the value is not a number") from None
        if not d.is_finite():
            raise ParameterError("value must be finite")
        return int(d.scaleb(self.digits).to_integral_value())

    def decode(self, value: int) -> Decimal:
        return Decimal(value).scaleb(-self.digits)

    def encrypt(
        self, public_key: PaillierPublicKey, value: Decimal | float | int | str
    ) -> Ciphertext:
        """Encrypt a decimal (overflow detected by the key's encoder)."""
        return public_key.encrypt(self.encode(value))

    def decrypt(self, private_key: PaillierPrivateKey, c: Ciphertext) -> Decimal:
        return self.decode(private_key.decrypt(c))


class PackingOverflow(PlaintextOverflow):
    """A packed slot exceeded its capacity (more additions or larger values than declared)."""


@dataclass(frozen=True)
class PackingScheme:
    """How values in ``[low, high]`` are packed so that up to ``additions`` packed vectors add.

    Attributes:
        low, high: bounds of every input value.
        additions: how many packed vectors may be summed (1 = no addition).
        slot_bits: width of a slot (capacity plus one guard bit).
        slots: values per ciphertext.
    """

    low: int
    high: int
    additions: int
    slot_bits: int
    slots: int

    @classmethod
    def for_bounds(
        cls, public_key: PaillierPublicKey, low: int, high: int, additions: int
    ) -> PackingScheme:
        """Choose the slot width from the value bounds and the number of additions allowed.

        Raises:
            ParameterError: bad bounds, or a single slot does not fit the key.
        """
        if high < low or additions < 1:
            raise ParameterError("need low <= high and additions >= 1")
        capacity = (high - low) * additions
        slot_bits = max(capacity.bit_length(), 1) + 1  # one guard bit makes overflow visible
        usable = public_key.key_bits - 2  # the packed plaintext stays below n
        slots = usable // slot_bits
        if slots < 1:
            raise ParameterError("a single slot does not fit this key")
        return cls(low, high, additions, slot_bits, slots)

    @property
    def capacity(self) -> int:
        return (self.high - self.low) * self.additions

    def pack(self, values: Sequence[int]) -> list[int]:
        """Pack values into plaintexts (the last one may be partly filled).

        Raises:
            PackingOverflow: a value is outside ``[low, high]``.
        """
        out = []
        for start in range(0, len(values), self.slots):
            acc = 0
            for i, v in enumerate(values[start : start + self.slots]):
                if not self.low <= v <= self.high:
                    raise PackingOverflow(
                        f"value at index {start + i} is outside [{self.low}, {self.high}]"
                    )
                acc |= (v - self.low) << (i * self.slot_bits)
            out.append(acc)
        return out

    def unpack(self, plaintexts: Sequence[int], count: int, *, summed: int = 1) -> list[int]:
        """Recover ``count`` values from plaintexts that are the sum of ``summed`` packed vectors.

        Raises:
            PackingOverflow: ``summed`` exceeds the declared additions, or a slot overflowed.
        """
        if not 1 <= summed <= self.additions:
            raise PackingOverflow(f"{summed} vectors summed; the scheme allows {self.additions}")
        mask = (1 << self.slot_bits) - 1
        limit = (self.high - self.low) * summed
        out: list[int] = []
        for p in plaintexts:
            if p < 0 or p.bit_length() > self.slots * self.slot_bits:
                raise PackingOverflow("packed plaintext is out of range")
            for i in range(self.slots):
                if len(out) == count:
                    break
                slot = (p >> (i * self.slot_bits)) & mask
                if slot > limit:
                    raise PackingOverflow(f"slot {len(out)} overflowed")
                out.append(slot + self.low * summed)
        if len(out) != count:
            raise CryptoError(f"plaintexts hold {len(out)} values, {count} expected")
        return out

    def encrypt(self, public_key: PaillierPublicKey, values: Sequence[int]) -> list[Ciphertext]:
        """Pack and encrypt (obfuscated)."""
        return [public_key.encrypt(p) for p in self.pack(values)]

    def decrypt(
        self,
        private_key: PaillierPrivateKey,
        ciphertexts: Sequence[Ciphertext],
        count: int,
        *,
        summed: int = 1,
    ) -> list[int]:
        """Decrypt and unpack (raw decryption: packed plaintexts are non-negative)."""
        return self.unpack(
            [int(private_key.raw_decrypt(c)) for c in ciphertexts], count, summed=summed
        )
