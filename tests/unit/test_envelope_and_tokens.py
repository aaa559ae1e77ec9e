"""Envelope sealing and grant tokens: round trips, tampering, binding."""

import dataclasses
import json

import pytest

from tongdao.crypto.envelope import OVERHEAD_BYTES, EncryptionKeyPair, open_sealed, seal
from tongdao.crypto.errors import EnvelopeError, KeyFormatError
from tongdao.crypto.grant_token import (
    GrantClaims,
    GrantTokenError,
    b64url_encode,
    issue_grant_token,
    read_grant_token_unverified,
    verify_grant_token,
)
from tongdao.crypto.signing import SigningKey


def counter_rng():
    state = {"i": 0}

    def rng(n: int) -> bytes:
        out = bytes((state["i"] + k) % 256 for k in range(n))
        state["i"] += n
        return out

    return rng


def test_seal_open_round_trip_and_overhead():
    kp = EncryptionKeyPair.generate()
    env = seal(kp.public_key, b"record", b"grant|req|fetch")
    assert len(env) == len(b"record") + OVERHEAD_BYTES
    assert open_sealed(kp.private_key, env, b"grant|req|fetch") == b"record"


def test_seal_is_deterministic_with_injected_rng_only():
    kp = EncryptionKeyPair.from_private_bytes(bytes(range(32)))
    a = seal(kp.public_key, b"x", b"ad", rng=counter_rng())
    b = seal(kp.public_key, b"x", b"ad", rng=counter_rng())
    assert a == b
    assert seal(kp.public_key, b"x", b"ad") != seal(kp.public_key, b"x", b"ad")


@pytest.mark.parametrize("position", [0, 1, 5, 40, -1])
def test_any_flipped_byte_is_refused(position):
    kp = EncryptionKeyPair.generate()
    env = bytearray(seal(kp.public_key, b"secret value", b"ad"))
    env[position] ^= 0x01
    with pytest.raises(EnvelopeError):
        open_sealed(kp.private_key, bytes(env), b"ad")


def test_wrong_associated_data_or_recipient_is_refused():
    kp, other = EncryptionKeyPair.generate(), EncryptionKeyPair.generate()
    env = seal(kp.public_key, b"secret", b"grant-1|req-1")
    with pytest.raises(EnvelopeError):
        open_sealed(kp.private_key, env, b"grant-1|req-2")
    with pytest.raises(EnvelopeError):
        open_sealed(other.private_key, env, b"grant-1|req-1")
    with pytest.raises(EnvelopeError):
        open_sealed(kp.private_key, env[:20], b"grant-1|req-1")


def test_bad_key_lengths_are_refused():
    with pytest.raises(KeyFormatError):
        seal(b"short", b"x", b"")
    with pytest.raises(KeyFormatError):
        EncryptionKeyPair.from_private_bytes(b"short")


def test_private_key_is_not_in_repr():
    kp = EncryptionKeyPair.generate()
    assert kp.private_key.hex() not in repr(kp)
    sk = SigningKey.generate()
    assert sk.private_key.hex() not in repr(sk)


CLAIMS = GrantClaims(
    grant_id="g-1",
    issuer="broker",
    consumer="hlj.mzt",
    provider="hlj.gat",
    entry_code="gat.population",
    entry_version=1,
    fields=("name", "birth_date"),
    methods=("fetch",),
    purpose="social assistance eligibility",
    regions=(),
    issued_at=1_000,
    expires_at=2_000,
    quota=10,
    consumer_encryption_key="AAAA",
)


def test_token_round_trip():
    key = SigningKey.generate()
    token = issue_grant_token(CLAIMS, key)
    assert verify_grant_token(token, key.verify_key, now=1_500) == CLAIMS
    assert read_grant_token_unverified(token) == CLAIMS


def test_widened_token_is_refused():
    key = SigningKey.generate()
    token = issue_grant_token(CLAIMS, key)
    widened = dataclasses.replace(CLAIMS, fields=("name", "birth_date", "id_number"))
    forged = issue_grant_token(widened, SigningKey.generate())
    # splice the widened claims onto the genuine signature
    spliced = ".".join([*forged.split(".")[:2], token.split(".")[2]])
    for bad in (forged, spliced):
        with pytest.raises(GrantTokenError) as err:
            verify_grant_token(bad, key.verify_key, now=1_500)
        assert err.value.reason == "signature"


def test_expired_and_malformed_tokens_are_refused():
    key = SigningKey.generate()
    token = issue_grant_token(CLAIMS, key)
    with pytest.raises(GrantTokenError) as err:
        verify_grant_token(token, key.verify_key, now=2_000)
    assert err.value.reason == "expired"
    for bad in ("", "tdg1.x", "abc.def.ghi", "tdg1.!!!.sig", "x" * 20_000):
        with pytest.raises(GrantTokenError) as err:
            verify_grant_token(bad, key.verify_key, now=1_500)
        assert err.value.reason == "malformed"


def _respell(segment: str) -> list[str]:
    """Other spellings of a base64url segment that lenient decoders read as the same bytes."""
    middle = len(segment) // 2
    last = segment[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # the last character of a 64-byte signature (86 characters) carries 2 unused bits
    sibling = alphabet[alphabet.index(last) ^ 1]
    return [
        segment[:middle] + "!" + segment[middle:],  # junk skipped by a lenient decoder
        segment[:middle] + " " + segment[middle:],
        segment[:middle] + "\n" + segment[middle:],
        segment + "==",  # padding
        segment.replace("-", "+").replace("_", "/") if set("-_") & set(segment) else segment + "+",
        segment[:-1] + sibling,  # same bytes, non-zero unused bits
    ]


def test_token_segments_are_decoded_strictly():
    key = SigningKey.generate()
    token = issue_grant_token(CLAIMS, key)
    prefix, claims, signature = token.split(".")
    assert len(signature) == 86
    for bad in _respell(signature):
        with pytest.raises(GrantTokenError) as err:
            verify_grant_token(f"{prefix}.{claims}.{bad}", key.verify_key, now=1_500)
        assert err.value.reason == "signature", bad
    for bad in _respell(claims)[:4]:
        with pytest.raises(GrantTokenError) as err:
            verify_grant_token(f"{prefix}.{bad}.{signature}", key.verify_key, now=1_500)
        assert err.value.reason == "malformed", bad


def test_national_suite_round_trip_and_binding():
    from tongdao.crypto.envelope import SUITE_X25519_HKDF_SM3_SM4GCM

    kp = EncryptionKeyPair.generate()
    env = seal(kp.public_key, b"record", b"ad", suite=SUITE_X25519_HKDF_SM3_SM4GCM)
    assert env[1] == SUITE_X25519_HKDF_SM3_SM4GCM
    assert open_sealed(kp.private_key, env, b"ad") == b"record"
    with pytest.raises(EnvelopeError):
        open_sealed(kp.private_key, env, b"other")
    tampered = bytearray(env)
    tampered[1] = 1  # claim the other suite
    with pytest.raises(EnvelopeError):
        open_sealed(kp.private_key, bytes(tampered), b"ad")
    with pytest.raises(EnvelopeError):
        seal(kp.public_key, b"x", b"", suite=9)


def test_catalogue_grades_are_signed_and_read_strictly():
    key = SigningKey.generate()
    graded = dataclasses.replace(CLAIMS, grades={"name": "personal", "birth_date": "personal"})
    token = issue_grant_token(graded, key)
    assert verify_grant_token(token, key.verify_key, now=1_500).grades == graded.grades
    # a laxer grade is a different signed text: the genuine signature does not cover it
    lax = issue_grant_token(dataclasses.replace(graded, grades={"name": "general"}), key)
    spliced = ".".join([*lax.split(".")[:2], token.split(".")[2]])
    with pytest.raises(GrantTokenError) as err:
        verify_grant_token(spliced, key.verify_key, now=1_500)
    assert err.value.reason == "signature"
    # a token signed before grants carried grades reads as carrying none (the node refuses it)
    raw = json.loads(CLAIMS.to_json())
    del raw["grades"]
    old = f"tdg1.{b64url_encode(json.dumps(raw).encode())}.sig"
    assert read_grant_token_unverified(old).grades == {}
    # a malformed map is refused
    raw["grades"] = {"name": 3}
    bad = f"tdg1.{b64url_encode(json.dumps(raw).encode())}.sig"
    with pytest.raises(GrantTokenError) as err:
        read_grant_token_unverified(bad)
    assert err.value.reason == "malformed"


def test_a_verify_key_used_again_is_one_parsed_key_and_a_malformed_one_is_never_kept():
    from tongdao.crypto.errors import SignatureError
    from tongdao.crypto.signing import verify_key_of

    signer = SigningKey.generate()
    key = verify_key_of(signer.verify_key.public_key)
    assert key is verify_key_of(bytes(signer.verify_key.public_key))
    key.verify(signer.sign(b"receipt"), b"receipt")
    with pytest.raises(SignatureError):
        key.verify(signer.sign(b"receipt"), b"another receipt")
    for _ in range(2):  # refused each time, not remembered as a key
        with pytest.raises(KeyFormatError):
            verify_key_of(b"\x00" * 31)
