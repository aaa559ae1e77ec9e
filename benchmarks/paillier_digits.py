"""Where the time of one ciphertext addition goes, and what the base-n digit form saves.

Run: ``python -m tongdao.benchmarks.paillier_digits [--key-sizes 2048,3072] [--repeats 15]``.

Times, interleaved and as medians of ``--repeats`` rounds over 200 ciphertext pairs:

* ``x·y`` and ``z mod n²`` alone (GMP through gmpy2): the two halves of the textbook product;
* ``x·y mod n²``: the textbook ciphertext addition with no Python object around it;
* the digit-form product (three half-size products, two half-size divisions), also bare;
* ``Ciphertext + Ciphertext`` (this project) and ``EncryptedNumber + EncryptedNumber`` (phe).

The point of the script is the evidence behind docs/crypto.md ("ciphertexts as base-n digits"):
it is a measurement, not a test, and it asserts only that both forms compute the same product.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable


def _median_us(fn: Callable[[], object], per_call: int, rounds: list[float]) -> None:
    start = time.perf_counter()
    fn()
    rounds.append((time.perf_counter() - start) / per_call * 1e6)


def measure(bits: int, repeats: int) -> dict[str, float]:
    """Microseconds per operation at ``bits``, medians of interleaved rounds.

    Args:
        bits: key size.
        repeats: rounds; each round times every variant once, in a rotating order.

    Returns:
        variant name -> median microseconds per operation.
    """
    from tongdao.crypto.paillier import Encryptor, digit_product, generate_paillier_keypair

    pk, _ = generate_paillier_keypair(bits)
    n, nsq = pk.n, pk.nsquare
    cts = [Encryptor(pk).encrypt(i) for i in range(200)]
    pairs = list(zip(cts, cts[1:] + cts[:1], strict=True))
    phe_pairs = [(a.to_phe(), b.to_phe()) for a, b in pairs]
    values = [(a.value, b.value) for a, b in pairs]
    products = [x * y for x, y in values]
    digits = [(a.lo, a.hi, b.lo, b.hi) for a, b in pairs]

    def digit_products() -> list[tuple[object, object]]:
        return [digit_product(n, x0, x1, y0, y1) for x0, x1, y0, y1 in digits]

    for (x, y), (lo, hi) in zip(values, digit_products(), strict=True):
        assert x * y % nsq == hi * n + lo  # type: ignore[operator]

    variants: dict[str, Callable[[], object]] = {
        "x·y (full size)": lambda: [x * y for x, y in values],
        "z mod n² (full size)": lambda: [z % nsq for z in products],
        "x·y mod n²": lambda: [x * y % nsq for x, y in values],
        "digit-form product": digit_products,
        "tongdao ct + ct": lambda: [a + b for a, b in pairs],
        "phe ct + ct": lambda: [a + b for a, b in phe_pairs],
    }
    rounds: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for i in range(repeats):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            _median_us(variants[name], len(pairs), rounds[name])
    return {name: statistics.median(r) for name, r in rounds.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--key-sizes", default="2048,3072")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    for bits in (int(b) for b in args.key_sizes.split(",")):
        result = measure(bits, args.repeats)
        phe_add = result["phe ct + ct"]
        print(f"{bits}-bit key (n² of {2 * bits} bits), µs per operation, median:")
        for name, us in result.items():
            print(f"  {name:<22} {us:8.2f}   phe's addition / this: {phe_add / us:.2f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
