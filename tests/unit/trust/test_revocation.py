"""Revocation lists: signed, numbered, never rolled back; a stale list refuses everything."""

import datetime as dt

import pytest

from tongdao.crypto import pki
from tongdao.crypto.errors import RevocationError
from tongdao.crypto.revocation import RevocationList, Revoked, build_crl
from tongdao.proto.identity import RevocationWatcher

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
WEEK = dt.timedelta(days=7)


def authority():
    ca = pki.create_authority(now=NOW)
    return pki.Authority.load(ca.certificate_pem, ca.private_key_pem)


def test_round_trip_with_number_and_reasons():
    ca = authority()
    pem = build_crl(ca, [Revoked(42, NOW, "key_compromise")], number=3, valid_for=WEEK, now=NOW)
    crl = RevocationList.load(pem, ca.certificate)
    assert crl.number == 3 and crl.is_revoked(42) and not crl.is_revoked(43)
    assert crl.revoked[42] == "key_compromise"
    assert not crl.is_stale(NOW + WEEK - dt.timedelta(seconds=1))
    assert crl.is_stale(NOW + WEEK + dt.timedelta(seconds=1))


def test_a_list_from_another_ca_or_garbage_is_refused():
    ca, rogue = authority(), authority()
    pem = build_crl(rogue, [], number=1, valid_for=WEEK, now=NOW)
    with pytest.raises(RevocationError):
        RevocationList.load(pem, ca.certificate)
    for junk in (b"", b"junk", b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"):
        with pytest.raises(RevocationError):
            RevocationList.load(junk, ca.certificate)
    with pytest.raises(RevocationError):
        build_crl(ca, [], number=0, valid_for=WEEK, now=NOW)
    with pytest.raises(RevocationError):
        build_crl(ca, [Revoked(1, NOW, "bored")], number=1, valid_for=WEEK, now=NOW)


def test_the_watcher_never_rolls_back_and_fails_closed_when_stale():
    ca = authority()
    published = {"pem": build_crl(ca, [], number=2, valid_for=WEEK, now=NOW)}
    clock = {"now": NOW}
    watcher = RevocationWatcher(
        ca.certificate_pem, lambda: published["pem"], interval=5, clock=lambda: clock["now"]
    )
    assert watcher.current.number == 2 and watcher.refusal(7) is None
    published["pem"] = build_crl(ca, [Revoked(7, NOW)], number=1, valid_for=WEEK, now=NOW)
    assert not watcher.refresh() and watcher.refusal(7) is None  # an older list is ignored
    published["pem"] = build_crl(ca, [Revoked(7, NOW)], number=3, valid_for=WEEK, now=NOW)
    assert watcher.refresh() and "revoked" in watcher.refusal(7)
    published["pem"] = build_crl(authority(), [], number=9, valid_for=WEEK, now=NOW)
    assert not watcher.refresh() and watcher.current.number == 3  # a forged list is ignored
    clock["now"] = NOW + WEEK + dt.timedelta(minutes=1)
    assert "expired" in watcher.refusal(8)  # stale: every certificate refused


def test_no_list_at_all_refuses_every_certificate():
    ca = authority()

    def missing():
        raise FileNotFoundError(2, "No such file or directory")

    watcher = RevocationWatcher(ca.certificate_pem, missing, interval=5)
    assert watcher.current is None and "no valid revocation list" in watcher.refusal(1)
