"""Secrets sealed at rest: they open only with the same key and for the same row."""

from __future__ import annotations

import base64
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongdao.crypto.at_rest import SealedSecrets, is_sealed
from tongdao.crypto.errors import KeyFormatError

MASTER = os.urandom(32)
SEALER = SealedSecrets.derive(MASTER, "account TOTP secrets")


@given(secret=st.text(min_size=1, max_size=64), row=st.text(max_size=64))
def test_a_sealed_secret_opens_to_itself_and_shows_nothing_of_it(secret, row):
    stored = SEALER.seal(secret, row)
    assert is_sealed(stored) and SEALER.open(stored, row) == secret
    if len(secret) >= 4:
        assert secret not in stored


def test_another_row_key_or_purpose_or_an_altered_value_does_not_open():
    stored = SEALER.seal("JBSWY3DPEHPK3PXP", "li.si")
    assert SEALER.seal("JBSWY3DPEHPK3PXP", "li.si") != stored  # a fresh nonce each time
    with pytest.raises(KeyFormatError):
        SEALER.open(stored, "zhang.san")
    with pytest.raises(KeyFormatError):
        SealedSecrets.derive(os.urandom(32), "account TOTP secrets").open(stored, "li.si")
    with pytest.raises(KeyFormatError):
        SealedSecrets.derive(MASTER, "something else").open(stored, "li.si")
    raw = bytearray(base64.urlsafe_b64decode(stored.removeprefix("v1:")))
    raw[len(raw) // 2] ^= 1  # one bit of the ciphertext (a base64 digit may only carry padding)
    flipped = "v1:" + base64.urlsafe_b64encode(bytes(raw)).decode()
    for bad in (flipped, "JBSWY3DPEHPK3PXP", "v1:!!!", "v1:" + "A" * 8):
        with pytest.raises(KeyFormatError):
            SEALER.open(bad, "li.si")
    assert "JBSW" not in repr(SEALER) and MASTER.hex() not in repr(SEALER)
