"""The RFC 6962 / RFC 9162 Merkle tree: known answers from the reference tree, and laws."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongdao.crypto.errors import ProofError
from tongdao.crypto.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "rfc6962_merkle.json").read_text())


def reference_tree(size: int) -> MemoryTree:
    tree = MemoryTree()
    for leaf in VECTORS["leaves"][:size]:
        tree.append(leaf_hash(bytes.fromhex(leaf)))
    return tree


def tree_of(size: int, tag: bytes = b"") -> MemoryTree:
    tree = MemoryTree()
    for i in range(size):
        tree.append(leaf_hash(tag + i.to_bytes(8, "big")))
    return tree


def test_empty_root_is_sha256_of_nothing():
    assert EMPTY_ROOT.hex() == VECTORS["empty_root"]
    assert MemoryTree().root().hex() == VECTORS["empty_root"]


@pytest.mark.parametrize("size", sorted(VECTORS["roots"], key=int))
def test_reference_roots(size):
    n = int(size)
    tree = reference_tree(n)
    assert tree.root().hex() == VECTORS["roots"][size]
    assert tree.edge.root().hex() == VECTORS["roots"][size]
    leaves = [leaf_hash(bytes.fromhex(x)) for x in VECTORS["leaves"][:n]]
    assert root_of(leaves).hex() == VECTORS["roots"][size]


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: f"{c['index']}of{c['size']}")
def test_reference_inclusion_proofs(case):
    tree = reference_tree(8)
    proof = inclusion_proof(tree.read, case["index"], case["size"])
    assert [p.hex() for p in proof] == case["proof"]
    leaf = leaf_hash(bytes.fromhex(VECTORS["leaves"][case["index"]]))
    root = bytes.fromhex(VECTORS["roots"][str(case["size"])])
    verify_inclusion(case["index"], case["size"], leaf, proof, root)


@pytest.mark.parametrize("case", VECTORS["consistency"], ids=lambda c: f"{c['old']}to{c['new']}")
def test_reference_consistency_proofs(case):
    tree = reference_tree(8)
    proof = consistency_proof(tree.read, case["old"], case["new"])
    assert [p.hex() for p in proof] == case["proof"]
    verify_consistency(
        case["old"],
        case["new"],
        bytes.fromhex(VECTORS["roots"][str(case["old"])]),
        bytes.fromhex(VECTORS["roots"][str(case["new"])]),
        proof,
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_every_leaf_proves_inclusion_and_no_other_leaf_does(case):
    size, index = case
    tree = tree_of(size)
    proof = inclusion_proof(tree.read, index, size)
    assert len(proof) <= 2 * size.bit_length()
    verify_inclusion(index, size, tree.read(0, index), proof, tree.root())
    with pytest.raises(ProofError):
        verify_inclusion(index, size, leaf_hash(b"another entry"), proof, tree.root())
    if size > 1:
        with pytest.raises(ProofError):
            verify_inclusion((index + 1) % size, size, tree.read(0, index), proof, tree.root())


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_consistency_holds_for_prefixes_and_fails_for_forks(case):
    old, new = case
    tree = tree_of(new)
    proof = consistency_proof(tree.read, old, new)
    verify_consistency(old, new, tree.root(old), tree.root(new), proof)
    if old > 0:
        forked = tree_of(old, tag=b"fork")
        with pytest.raises(ProofError):
            verify_consistency(old, new, forked.root(), tree.root(new), proof)
    if old < new and old > 0:
        with pytest.raises(ProofError):  # a smaller tree never extends a larger one
            verify_consistency(new, old, tree.root(new), tree.root(old), proof)


def test_compact_range_round_trips_and_matches_the_tree():
    tree = tree_of(37)
    again = CompactRange.from_bytes(37, tree.edge.to_bytes())
    assert again.root() == tree.root()
    with pytest.raises(ProofError):
        CompactRange.from_bytes(39, tree.edge.to_bytes())


def test_hostile_proofs_are_refused_with_typed_errors():
    tree = tree_of(8)
    with pytest.raises(ProofError):
        verify_inclusion(0, 8, tree.read(0, 0), [b"short"], tree.root())
    with pytest.raises(ProofError):
        verify_inclusion(0, 8, tree.read(0, 0), [bytes(32)] * 500, tree.root())
    with pytest.raises(ProofError):
        verify_inclusion(8, 8, tree.read(0, 0), [], tree.root())
    with pytest.raises(ProofError):
        verify_consistency(3, 8, tree.root(3), tree.root(8), [])
    with pytest.raises(ProofError):
        inclusion_proof(tree.read, 0, 9)
