"""Enrolment as users run it: the CA in its own home, a department on its own machine.

`tongdao ca init` → `tongdao department keygen` → `tongdao ca sign` → `tongdao department
install` → `tongdao certificates` → `tongdao ca revoke`; and every bad input refused with a clear
message and exit code 2, never a traceback. Keys at rest: encrypted under a passphrase, 0700/0600.
"""

import datetime as dt
import hashlib
import json
import stat

import pytest

from tongdao.ca_home import CaError, CaHome
from tongdao.cli import main
from tongdao.crypto import pki
from tongdao.crypto.revocation import RevocationList
from tongdao.home import DepartmentProfile, Home, HomeError, private_key_texts, scan_for

GAT = DepartmentProfile("hlj.gat", "黑龙江省公安厅", "230000", "province")


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out, out.err


@pytest.fixture
def places(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TONGDAO_CA_PASSPHRASE", "ca-secret-passphrase")
    monkeypatch.setenv("TONGDAO_KEY_PASSPHRASE", "gat-secret-passphrase")
    return tmp_path / "ca", tmp_path / "gat", tmp_path / "authority"


def enrol_gat(capsys, ca, gat):
    assert run(capsys, "ca", "init", "--home", str(ca))[0] == 0
    code, out, _ = run(
        capsys, "department", "keygen", GAT.code, "--home", str(gat), "--name", GAT.name,
        "--region", GAT.region, "--level", GAT.level, "--endpoint", "127.0.0.1:7501",
    )  # fmt: skip
    assert code == 0 and "request.csr" in out
    csr = gat / "parties" / GAT.code / "request.csr"
    code, out, _ = run(capsys, "ca", "sign", str(csr), "--home", str(ca), "--party", GAT.code)
    assert code == 0 and "possession proved" in out
    assert f"{GAT.name} · region {GAT.region} · province level" in out
    return csr


def test_the_whole_enrolment_by_command(places, capsys):
    ca, gat, authority = places
    enrol_gat(capsys, ca, gat)
    code, out, _ = run(capsys, "department", "install", "hlj.gat.bundle.pem", "--home", str(gat))
    assert code == 0 and "client certificate" in out and "server certificate" in out
    # a node cannot start without the CA's revocation list: install says where it goes
    assert f"copy the authority CA's revocation list (its crl.pem) to {gat}/authority-ca" in out
    (gat / "authority-ca" / "crl.pem").write_bytes((ca / "authority-ca" / "crl.pem").read_bytes())
    code, out, _ = run(capsys, "certificates", "--home", str(gat))
    assert code == 0 and "90 days left" in out and "authority-ca/ca.crt" in out
    code, out, _ = run(capsys, "init", "--home", str(authority), "--ca-home", str(ca))
    assert code == 0 and "enrolled the broker" in out
    assert f"next: start the broker (`tongdao broker serve --home {authority}`)" in out
    assert (authority / "authority-ca" / "crl.pem").exists()
    code, out, _ = run(capsys, "ca", "list", "--home", str(ca))
    assert code == 0 and out.count("hlj.gat") == 2 and "administrator" in out
    code, out, _ = run(capsys, "ca", "revoke", "--party", GAT.code, "--home", str(ca))
    assert code == 0 and "revocation list #2" in out
    crl = RevocationList.load(
        (ca / "authority-ca" / "crl.pem").read_bytes(),
        pki.load_certificate((ca / "authority-ca" / "ca.crt").read_bytes()),
    )
    serial = pki.certificate_info(Home(gat).tls(GAT.code).certificate_pem).serial
    assert crl.is_revoked(serial)
    assert "REVOKED" in run(capsys, "ca", "list", "--home", str(ca))[1]


def test_renewal_keeps_the_data_keys_and_swaps_the_tls_key(places, capsys):
    ca, gat, _ = places
    enrol_gat(capsys, ca, gat)
    run(capsys, "department", "install", "hlj.gat.bundle.pem", "--home", str(gat))
    home = Home(gat)
    before_tls, before_x25519 = home.tls(GAT.code), home.encryption_keys(GAT.code).public_key
    code, _, _ = run(capsys, "department", "keygen", GAT.code, "--home", str(gat), "--renew")
    assert code == 0
    assert home.tls(GAT.code) == before_tls  # the old certificate serves until installation
    csr = gat / "parties" / GAT.code / "request.csr"
    assert run(capsys, "ca", "sign", str(csr), "--home", str(ca), "--out", "renewed.pem")[0] == 0
    assert run(capsys, "department", "install", "renewed.pem", "--home", str(gat))[0] == 0
    after = home.tls(GAT.code)
    assert after.private_key_pem != before_tls.private_key_pem
    assert home.encryption_keys(GAT.code).public_key == before_x25519


def test_bad_requests_are_refused_clearly(places, capsys, tmp_path):
    ca, gat, _ = places
    csr = enrol_gat(capsys, ca, gat)
    code, _, err = run(capsys, "ca", "sign", str(csr), "--home", str(ca))
    assert code == 2 and "request refused (request)" in err and "already signed" in err
    code, _, err = run(capsys, "ca", "sign", str(csr), "--home", str(ca), "--party", "hlj.mzt")
    assert code == 2 and "names 'hlj.gat', not 'hlj.mzt'" in err
    (tmp_path / "junk.csr").write_bytes(b"-----BEGIN CERTIFICATE REQUEST-----\nxx\n")
    code, _, err = run(capsys, "ca", "sign", str(tmp_path / "junk.csr"), "--home", str(ca))
    assert code == 2 and "PKCS#10" in err and "Traceback" not in err
    # the offline CA keeps its own record of every refused request (no secret in it)
    kept = CaHome(ca).refusals()[-3:]
    assert [r["field"] for r in kept] == ["request", "subject", "request"]
    assert "already signed" in kept[0]["reason"] and kept[1]["expected_party"] == "hlj.mzt"
    assert kept[0]["request_sha256"] == hashlib.sha256(csr.read_bytes()).hexdigest()
    code, _, err = run(capsys, "ca", "sign", str(tmp_path / "missing.csr"), "--home", str(ca))
    assert code == 2 and "missing.csr: no such file or directory" in err
    code, _, err = run(capsys, "department", "install", str(csr), "--home", str(gat))
    assert code == 2 and "bundle" in err


def test_a_bundle_for_another_key_or_from_another_ca_is_refused(places, capsys, tmp_path):
    ca, gat, _ = places
    enrol_gat(capsys, ca, gat)
    Home(gat).install((tmp_path / "hlj.gat.bundle.pem").read_bytes())
    # someone else's machine asks for hlj.gat: the CA signs their key, not ours
    impostor = Home(tmp_path / "impostor", passphrase=None)
    request = impostor.request(GAT.code, role="department", profile=GAT)
    with pytest.raises(CaError, match="enrolled with other data keys") as err:
        CaHome(ca).sign(request)  # someone else asking in hlj.gat's name
    assert err.value.field == "party_keys"
    theirs = CaHome(ca).sign(request, rekey=True).bundle  # even if the operator is fooled …
    with pytest.raises(HomeError, match="does not match"):  # … it does not install here
        Home(gat).install(theirs)
    rogue = CaHome(tmp_path / "rogue", passphrase=None)
    rogue.init()
    other = Home(tmp_path / "other", passphrase=None)
    foreign = rogue.sign(other.request(GAT.code, role="department", profile=GAT)).bundle
    with pytest.raises(HomeError, match="not the authority CA this home trusts"):
        Home(gat).install(foreign)


def test_keys_at_rest_are_encrypted_and_private(places, capsys):
    ca, gat, _ = places
    enrol_gat(capsys, ca, gat)
    run(capsys, "department", "install", "hlj.gat.bundle.pem", "--home", str(gat))
    folder = gat / "parties" / GAT.code
    for name in ("tls.key", "signing.key", "encryption.key"):
        assert (folder / name).read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert (ca / "authority-ca" / "ca.key").read_bytes().startswith(b"-----BEGIN ENCRYPTED")
    for path in [gat, *gat.rglob("*"), ca, *ca.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path}: {oct(mode)}"
    with pytest.raises(HomeError, match="wrong passphrase"):
        Home(gat, passphrase=b"not it").signing_key(GAT.code)
    with pytest.raises(HomeError, match="TONGDAO_KEY_PASSPHRASE"):
        Home(gat, passphrase=None).tls(GAT.code)
    with pytest.raises(CaError, match="wrong passphrase") as err:
        CaHome(ca, passphrase=b"not it").authority()
    assert err.value.field == "passphrase"


def test_wrong_passphrase_on_the_command_line(places, capsys, monkeypatch):
    ca, gat, _ = places
    csr = enrol_gat(capsys, ca, gat)
    monkeypatch.setenv("TONGDAO_CA_PASSPHRASE", "guess")
    code, _, err = run(capsys, "ca", "revoke", "--party", GAT.code, "--home", str(ca))
    assert code == 2 and "wrong passphrase" in err
    code, _, err = run(capsys, "ca", "sign", str(csr), "--home", str(ca))
    assert code == 2 and "wrong passphrase" in err and "Traceback" not in err
    refused = CaHome(ca).refusals()[-1]
    assert refused["field"] == "passphrase" and "guess" not in json.dumps(refused)
    monkeypatch.setenv("TONGDAO_KEY_PASSPHRASE", "guess")
    code, _, err = run(capsys, "department", "install", "hlj.gat.bundle.pem", "--home", str(gat))
    assert code == 2 and "wrong passphrase" in err
    assert csr.exists()


def test_the_authority_home_holds_no_department_private_key(places, capsys):
    ca, gat, authority = places
    enrol_gat(capsys, ca, gat)
    run(capsys, "department", "install", "hlj.gat.bundle.pem", "--home", str(gat))
    run(capsys, "init", "--home", str(authority), "--ca-home", str(ca))
    needles = private_key_texts(Home(gat), GAT.code)
    assert len(needles) >= 6
    assert scan_for(authority, needles) == [] and scan_for(ca, needles) == []
    assert scan_for(gat, needles)  # the scan finds them where they are


def test_expiry_warning_ahead_of_time(tmp_path, capsys):
    ca = CaHome(tmp_path / "ca", passphrase=None)
    ca.init()
    home = Home(tmp_path / "gat", passphrase=None)
    issued = dt.datetime.now(dt.UTC) - dt.timedelta(days=70)  # 90-day lifetime: 20 days left
    csr = home.request(GAT.code, role="department", profile=GAT, now=issued)
    home.install(ca.sign(csr, now=issued).bundle)
    code, out, _ = run(capsys, "certificates", "--home", str(tmp_path / "gat"))
    assert code == 1 and "RENEW (20 days left)" in out
    info = pki.certificate_info(home.tls(GAT.code).certificate_pem)
    assert "renew it now" in pki.expiry_warning(info, 30)
    assert pki.expiry_warning(info, 10) == ""


def test_the_cli_says_when_its_own_certificate_has_expired(tmp_path, capsys):
    ca = CaHome(tmp_path / "ca", passphrase=None)
    ca.init()
    home = Home(tmp_path / "rsj", passphrase=None)
    issued = dt.datetime.now(dt.UTC) - dt.timedelta(days=100)
    profile = DepartmentProfile("hrb.rsj", "哈尔滨市人社局", "230100", "city")
    home.install(ca.sign(home.request("hrb.rsj", role="department", profile=profile, now=issued),
                         now=issued).bundle)  # fmt: skip
    code, _, err = run(
        capsys, "consumer", "grant", "g", "--home", str(tmp_path / "rsj"), "--as", "hrb.rsj",
        "--broker", "127.0.0.1:1",
    )  # fmt: skip
    assert code == 2 and "expired on" in err and "--renew" in err
