"""Correction envelopes and receipts, cross-verification digests (Art.24): the laws they keep."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongdao.crypto.correction import (
    CorrectionFormatError,
    CorrectionReceipt,
    open_correction,
    record_digest,
    seal_correction,
)
from tongdao.crypto.cross_check import (
    key_digest,
    open_check,
    open_record_key,
    seal_check,
    seal_record_key,
    value_digest,
)
from tongdao.crypto.envelope import EncryptionKeyPair
from tongdao.crypto.errors import EnvelopeError, SignatureError
from tongdao.crypto.signing import SigningKey

NODE = EncryptionKeyPair.generate()
OTHER = EncryptionKeyPair.generate()
CID = "5b3c1f0e-8f51-4c52-9d6a-0a7f1b2c3d4e"
texts = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
keys = texts.filter(lambda t: t.strip())  # a blank record key is refused


@given(
    key=keys,
    values=st.dictionaries(
        st.from_regex(r"[a-z_]{1,12}", fullmatch=True), texts, min_size=1, max_size=5
    ),
)
def test_a_correction_opens_only_where_it_was_sealed_for(key, values):
    sealed = seal_correction(
        NODE.public_key,
        provider="hlj.gat",
        entry_code="gat.population",
        correction_id=CID,
        record_key=key,
        values=values,
    )
    opened = open_correction(
        NODE.private_key,
        sealed,
        provider="hlj.gat",
        entry_code="gat.population",
        correction_id=CID,
    )
    assert opened == (key, values)
    for provider, entry, cid, private in [
        ("hlj.mzt", "gat.population", CID, NODE.private_key),
        ("hlj.gat", "mzt.marriage", CID, NODE.private_key),
        ("hlj.gat", "gat.population", CID.replace("5b", "6b"), NODE.private_key),
        ("hlj.gat", "gat.population", CID, OTHER.private_key),
    ]:
        with pytest.raises(EnvelopeError):
            open_correction(private, sealed, provider=provider, entry_code=entry, correction_id=cid)


def test_a_receipt_verifies_and_any_change_breaks_it():
    key = SigningKey.generate()
    receipt = CorrectionReceipt(
        request_id=CID,
        department="hlj.gat",
        entry_code="gat.population",
        correction_id=CID,
        fields=("name",),
        before_digest=b"\x01" * 32,
        after_digest=b"\x02" * 32,
        key_id="k",
        decided_at="2026-12-01T09:00:00+08:00",
    ).signed(key)
    receipt.verify(key.verify_key)
    for change in ({"after_digest": b"\x03" * 32}, {"refusal": "no"}, {"fields": ("gender",)}):
        with pytest.raises(SignatureError):
            dataclasses.replace(receipt, **change).verify(key.verify_key)


@given(record=st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), texts, min_size=1))
def test_a_record_digest_ignores_column_order_and_needs_the_key(record):
    reordered = dict(reversed(list(record.items())))
    assert record_digest(b"k" * 32, record) == record_digest(b"k" * 32, reordered)
    assert record_digest(b"k" * 32, record) != record_digest(b"j" * 32, record)


@given(key=texts, value=texts)
def test_cross_check_digests_agree_across_full_and_half_width(key, value):
    check = b"c" * 32
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in value)
    kd = key_digest(check, key)
    assert kd == key_digest(check, f" {key} ")
    assert value_digest(check, kd, value) == value_digest(check, kd, wide)
    assert kd != key_digest(b"d" * 32, key)


def test_check_requests_and_notice_keys_are_bound_to_run_provider_and_entry():
    sealed = seal_check(
        NODE.public_key,
        run_id=CID,
        provider="hlj.gat",
        entry_code="e",
        item="name",
        check_key=b"c" * 32,
        record_keys=["1", "2"],
    )
    assert open_check(NODE.private_key, sealed, run_id=CID, provider="hlj.gat", entry_code="e") == (
        b"c" * 32,
        "name",
        ["1", "2"],
    )
    with pytest.raises(EnvelopeError):
        open_check(NODE.private_key, sealed, run_id=CID, provider="hlj.mzt", entry_code="e")
    notice = seal_record_key(
        NODE.public_key, run_id=CID, provider="hlj.gat", entry_code="e", record_key="230103"
    )
    assert (
        open_record_key(NODE.private_key, notice, run_id=CID, provider="hlj.gat", entry_code="e")
        == "230103"
    )
    with pytest.raises(EnvelopeError):  # a check envelope is not a notice
        open_record_key(NODE.private_key, sealed, run_id=CID, provider="hlj.gat", entry_code="e")


def test_a_blank_record_key_is_refused():
    sealed = seal_correction(
        NODE.public_key,
        provider="p",
        entry_code="e",
        correction_id=CID,
        record_key=" \r",
        values={"a": "1"},
    )
    with pytest.raises(CorrectionFormatError, match="no record key"):
        open_correction(NODE.private_key, sealed, provider="p", entry_code="e", correction_id=CID)
