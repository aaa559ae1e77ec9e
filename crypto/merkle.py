"""The RFC 9162 (RFC 6962) Merkle tree of a transparency log: hashes, proofs and their checks.

Leaves hash as ``SHA-256(0x00 || entry)`` and interior nodes as ``SHA-256(0x01 || left || right)``;
a tree of ``n`` leaves splits at the largest power of two smaller than ``n`` (RFC 9162 §2.1.1).
Proof *generation* reads the hashes of complete ("perfect", aligned) subtrees through a
caller-given function, so the same code serves an in-memory tree, a database table of stored
nodes, or an archive; proof *verification* needs only the proof, the sizes and the roots.

:class:`CompactRange` is the right edge of a tree (one hash per set bit of its size): appending a
leaf costs O(log n) hashes and names the complete subtrees it finished, which a store keeps so
that any later proof costs O(log n) reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from tongdao.crypto.errors import ProofError

HASH_BYTES = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()
MAX_PROOF_HASHES = 128  # 2·64: no proof for a tree below 2⁶⁴ leaves is longer

NodeReader = Callable[[int, int], bytes]
"""Returns the hash of the complete subtree at ``(level, index)``: leaves ``[index·2^level,
(index+1)·2^level)``; level 0 is a leaf hash."""


def leaf_hash(entry: bytes) -> bytes:
    """The hash of one leaf: ``SHA-256(0x00 || entry)``."""
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n`` ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """The root of the tree over ``leaf_hashes`` (the RFC's MTH), in memory; for tests and
    small archives."""
    if not leaf_hashes:
        return EMPTY_ROOT
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = _split(len(leaf_hashes))
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


@dataclass
class CompactRange:
    """The right edge of a tree: the roots of its complete subtrees, largest first.

    Attributes:
        size: number of leaves.
        hashes: one hash per set bit of ``size``, from the highest bit down.
    """

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.size < 0 or len(self.hashes) != self.size.bit_count():
            raise ProofError("a compact range needs one hash per set bit of its size")
        if any(len(h) != HASH_BYTES for h in self.hashes):
            raise ProofError(f"compact range hashes must be {HASH_BYTES} bytes")

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; return the complete subtrees it finished as (level, index, hash),
        the leaf itself first."""
        index = self.size
        finished = [(0, index, leaf)]
        current, level = leaf, 0
        while (index >> level) & 1:
            current = node_hash(self.hashes.pop(), current)
            level += 1
            finished.append((level, index >> level, current))
        self.hashes.append(current)
        self.size += 1
        return finished

    def root(self) -> bytes:
        """The tree's root hash (the empty string's SHA-256 for an empty tree)."""
        if not self.hashes:
            return EMPTY_ROOT
        current = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            current = node_hash(h, current)
        return current

    def to_bytes(self) -> bytes:
        """The hashes concatenated (the size is stored beside them)."""
        return b"".join(self.hashes)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> CompactRange:
        """Rebuild from :meth:`to_bytes`.

        Raises:
            ProofError: the data does not hold one hash per set bit of ``size``.
        """
        if len(data) != HASH_BYTES * size.bit_count():
            raise ProofError("stored compact range has the wrong length")
        return cls(size, [data[i : i + HASH_BYTES] for i in range(0, len(data), HASH_BYTES)])


def subtree_hash(read: NodeReader, start: int, end: int) -> bytes:
    """The hash of leaves ``[start, end)`` as the RFC splits them, from complete subtrees."""
    n = end - start
    if n <= 0:
        raise ProofError("empty subtree")
    level = n.bit_length() - 1
    if n == 1 << level and start % n == 0:
        return read(level, start >> level)
    k = _split(n)
    return node_hash(subtree_hash(read, start, start + k), subtree_hash(read, start + k, end))


def inclusion_proof(read: NodeReader, index: int, size: int) -> list[bytes]:
    """The audit path of leaf ``index`` (0-based) in the tree of ``size`` leaves (RFC PATH).

    Raises:
        ProofError: ``index`` is not below ``size``.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    proof: list[bytes] = []
    start, end, m = 0, size, index
    stack: list[bytes] = []
    while end - start > 1:
        k = _split(end - start)
        if m < k:
            stack.append(subtree_hash(read, start + k, end))
            end = start + k
        else:
            stack.append(subtree_hash(read, start, start + k))
            start, m = start + k, m - k
    proof.extend(reversed(stack))
    return proof


def consistency_proof(read: NodeReader, old_size: int, new_size: int) -> list[bytes]:
    """The proof that the tree of ``old_size`` leaves is a prefix of the one of ``new_size``
    (RFC SUBPROOF with ``b`` true).

    Raises:
        ProofError: ``old_size`` is not in ``[0, new_size]``.
    """
    if not 0 <= old_size <= new_size:
        raise ProofError(f"no consistency proof from size {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    stack: list[bytes] = []
    start, end, m, complete = 0, new_size, old_size, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            stack.append(subtree_hash(read, start + k, end))
            end = start + k
        else:
            stack.append(subtree_hash(read, start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        stack.append(subtree_hash(read, start, end))
    return list(reversed(stack))


def _check_hashes(proof: Iterable[bytes]) -> list[bytes]:
    hashes = list(proof)
    if len(hashes) > MAX_PROOF_HASHES:
        raise ProofError("proof is longer than any tree below 2^64 leaves needs")
    if any(len(h) != HASH_BYTES for h in hashes):
        raise ProofError(f"proof hashes must be {HASH_BYTES} bytes")
    return hashes


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Iterable[bytes]) -> bytes:
    """The root that ``proof`` implies for leaf hash ``leaf`` at ``index`` (RFC 9162 §2.1.3.2).

    Raises:
        ProofError: the proof is malformed or has the wrong length for ``index`` and ``size``.
    """
    hashes = _check_hashes(proof)
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    fn, sn, r = index, size - 1, leaf
    for p in hashes:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Iterable[bytes], root: bytes
) -> None:
    """Check that leaf hash ``leaf`` is leaf ``index`` of the tree of ``size`` with ``root``.

    Raises:
        ProofError: it is not (or the proof is malformed).
    """
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError(f"leaf {index} is not in the tree of size {size} with that root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Iterable[bytes]
) -> None:
    """Check that the tree (``old_size``, ``old_root``) is a prefix of (``new_size``,
    ``new_root``) (RFC 9162 §2.1.4.2).

    Raises:
        ProofError: it is not: a smaller new tree, a fork, or a malformed proof.
    """
    hashes = _check_hashes(proof)
    if not 0 <= old_size <= new_size:
        raise ProofError(f"a tree of {new_size} leaves cannot extend one of {old_size}")
    if old_size == new_size:
        if hashes:
            raise ProofError("a proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError(f"two different roots for the same size {old_size}")
        return
    if old_size == 0:
        if hashes:
            raise ProofError("a proof from the empty tree must be empty")
        return
    if not hashes:
        raise ProofError("consistency proof is empty")
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is a node of the new tree
        hashes = [old_root, *hashes]
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = hashes[0]
    for c in hashes[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != old_root:
        raise ProofError(f"the tree of size {new_size} does not contain the old root of {old_size}")
    if sr != new_root:
        raise ProofError(f"consistency proof does not lead to the root of size {new_size}")


class MemoryTree:
    """A whole tree in memory: the leaf and complete-subtree hashes, appended in O(log n).

    For tests, benchmarks and offline verification of an export.
    """

    def __init__(self) -> None:
        self.edge = CompactRange()
        self.levels: list[list[bytes]] = []

    @property
    def size(self) -> int:
        return self.edge.size

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash."""
        for level, index, h in self.edge.append(leaf):
            if level == len(self.levels):
                self.levels.append([])
            row = self.levels[level]
            if index != len(row):
                raise ProofError("complete subtrees must arrive in order")
            row.append(h)

    def read(self, level: int, index: int) -> bytes:
        """A :data:`NodeReader` over this tree."""
        try:
            return self.levels[level][index]
        except IndexError:
            raise ProofError(f"no complete subtree at level {level} index {index}") from None

    def root(self, size: int | None = None) -> bytes:
        """The root of the first ``size`` leaves (default: all)."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ProofError(f"the tree has {self.size} leaves, not {size}")
        return EMPTY_ROOT if size == 0 else subtree_hash(self.read, 0, size)
