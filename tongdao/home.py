"""A Tongdao home directory: one party's (or several local parties') keys and certificates.

Layout::

    HOME/authority-ca/ca.crt                   the authority CA certificate (the trust anchor);
                                               only the CA's own home also holds ca.key, the
                                               revocation list and the issued-certificate index
                                               (see tongdao.ca_home)
    HOME/parties/<party>/tls.key               the party's TLS key (ECDSA P-256, PKCS#8)
                         request.csr           its last enrolment request (for the authority)
                         client.crt            clientAuth certificate (what it presents calling)
                         server.crt            serverAuth certificate (broker; a node's department)
                         signing.key           Ed25519 (a department signs receipts; the broker
                                               signs grants and the ledger head)
                         encryption.key        X25519 (results are sealed to a department)
                         department.json       name, region, level
    HOME/parties/broker/signing.pub            the broker's public grant-signing key

Every private key is created here, on the party's own machine, and never leaves it: the authority
receives only the request. Keys are PKCS#8, encrypted when a passphrase is configured
(:data:`PASSPHRASE_ENV`). Directories are created 0700 and files 0600.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519

from tongdao.crypto import enrolment, pki
from tongdao.crypto.envelope import EncryptionKeyPair
from tongdao.crypto.errors import CryptoError, EnrolmentError, KeyFormatError, PassphraseError
from tongdao.crypto.signing import SigningKey, VerifyKey
from tongdao.policies.i18n import msg
from tongdao.proto.transport import TlsMaterial, TlsSource

BROKER = "broker"
AUTHORITY = "authority"
PARTY_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
PASSPHRASE_ENV = "TONGDAO_KEY_PASSPHRASE"  # noqa: S105 (the variable's name, not a secret)
"""Environment variable holding the passphrase that encrypts a home's private keys."""
_FROM_ENV = object()


class HomeError(Exception):
    """The home directory is missing something, a name is invalid or a key will not open."""


@dataclass(frozen=True)
class DepartmentProfile:
    """How a department describes itself in its enrolment request."""

    code: str
    name: str
    region: str
    level: str
    node_endpoint: str = ""


def make_private_dir(path: Path) -> None:
    """Create ``path`` and any missing parent with mode 0700 (``path`` itself is made 0700)."""
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)
    os.chmod(path, 0o700)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with mode 0600 (atomically: a reader sees old or new)."""
    make_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise HomeError(msg("missing {path}", path=path)) from None


def split_pem(data: bytes) -> list[bytes]:
    """The PEM certificates in ``data``, in order."""
    marker = b"-----END CERTIFICATE-----"
    out = []
    for part in data.split(marker)[:-1]:
        start = part.find(b"-----BEGIN CERTIFICATE-----")
        if start >= 0:
            out.append(part[start:] + marker + b"\n")
    return out


class Home:
    """Access to a Tongdao home directory.

    Args:
        root: the directory.
        passphrase: encrypts and opens private keys; by default read from
            :data:`PASSPHRASE_ENV` (None: keys stored unencrypted).
    """

    def __init__(self, root: str | os.PathLike[str], passphrase: bytes | object | None = _FROM_ENV):
        self.root = Path(root)
        if passphrase is _FROM_ENV:
            env = os.environ.get(PASSPHRASE_ENV, "")
            passphrase = env.encode() if env else None
        self._passphrase: bytes | None = passphrase  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Home({str(self.root)!r})"

    # ------------------------------------------------------------------ paths
    @property
    def ca_dir(self) -> Path:
        return self.root / "authority-ca"

    @property
    def ca_certificate_path(self) -> Path:
        return self.ca_dir / "ca.crt"

    def party_dir(self, name: str) -> Path:
        if not PARTY_NAME.match(name):
            raise HomeError(
                msg(
                    "invalid party name {name!r}: use lower-case letters, digits, '.', '_' or '-'",
                    name=name,
                )
            )
        return self.root / "parties" / name

    def exists(self) -> bool:
        return self.ca_certificate_path.exists()

    def parties(self) -> list[str]:
        parties = self.root / "parties"
        if not parties.exists():
            return []
        return sorted(p.name for p in parties.iterdir() if p.is_dir())

    # ------------------------------------------------------------------ keys
    def _write_key(self, path: Path, key: pki.PrivateKey) -> None:
        write_private(path, pki.private_key_pem(key, self._passphrase))

    def _load_key(self, path: Path) -> pki.PrivateKey:
        try:
            return pki.load_private_key(read_file(path), self._passphrase)
        except PassphraseError as exc:
            hint = f" (set {PASSPHRASE_ENV})" if "no passphrase" in str(exc) else ""
            raise HomeError(
                msg("cannot open {path}: {exc}{hint}", path=path, exc=exc, hint=hint)
            ) from None
        except KeyFormatError as exc:
            raise HomeError(msg("cannot open {path}: {exc}", path=path, exc=exc)) from None

    def signing_key(self, name: str) -> SigningKey:
        key = self._load_key(self.party_dir(name) / "signing.key")
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise HomeError(
                msg("{v0} is not an Ed25519 key", v0=self.party_dir(name) / "signing.key")
            )
        return SigningKey(key.private_bytes_raw())

    def encryption_keys(self, name: str) -> EncryptionKeyPair:
        key = self._load_key(self.party_dir(name) / "encryption.key")
        if not isinstance(key, x25519.X25519PrivateKey):
            raise HomeError(
                msg("{v0} is not an X25519 key", v0=self.party_dir(name) / "encryption.key")
            )
        return EncryptionKeyPair.from_private_bytes(key.private_bytes_raw())

    def broker_verify_key(self) -> VerifyKey:
        path = self.party_dir(BROKER) / "signing.pub"
        return VerifyKey(bytes.fromhex(read_file(path).decode()))

    def install_broker_certificate(self, certificate_pem: bytes) -> VerifyKey:
        """Trust the broker's grant-signing key, read from its CA-signed certificate.

        Raises:
            HomeError: not the broker's certificate from this home's CA.
        """
        pems = split_pem(certificate_pem)
        if not pems:
            raise HomeError(msg("no PEM certificate given for the broker"))
        try:
            cert = pki.load_certificate(pems[0])
            ca = pki.load_certificate(read_file(self.ca_certificate_path))
            if not pki.issued_by(cert, ca):
                raise HomeError(msg("the broker certificate is not from the authority CA"))
            keys = enrolment.party_keys_of(cert)
        except (KeyFormatError, EnrolmentError) as exc:
            raise HomeError(msg("broker certificate: {exc}", exc=exc)) from None
        if keys.party != BROKER or keys.role != "broker" or not keys.signing_public_key:
            raise HomeError(msg("that is not the broker's certificate"))
        key = VerifyKey(keys.signing_public_key)
        self.install_broker_verify_key(key)
        return key

    def install_broker_verify_key(self, key: VerifyKey) -> None:
        """Record the broker's public grant-signing key (published by the authority)."""
        write_private(self.party_dir(BROKER) / "signing.pub", key.public_key.hex().encode())

    # ------------------------------------------------------------------ enrolment
    def request(
        self,
        party: str,
        *,
        role: str,
        profile: DepartmentProfile | None = None,
        server_names: tuple[str, ...] = (),
        renew: bool = False,
        now: dt.datetime | None = None,
    ) -> bytes:
        """Create the party's keys here and return its enrolment request (also in request.csr).

        A first request creates every key the role needs. ``renew`` makes a fresh TLS key (kept
        aside until the new certificates are installed) and keeps the data keys, so results
        sealed to the department stay readable and its directory entry keeps its keys.

        Raises:
            HomeError: the party already has keys (first request) or none (renewal), or a bad name.
        """
        folder = self.party_dir(party)
        if role == "department" and party in (BROKER, AUTHORITY):
            raise HomeError(msg("{party!r} is reserved", party=party))
        has_keys = (folder / "tls.key").exists()
        if renew and not has_keys:
            raise HomeError(msg("{party} has no keys to renew; make a first request", party=party))
        if not renew and has_keys:
            raise HomeError(
                msg("{party} already has keys in {folder}; use --renew", party=party, folder=folder)
            )
        make_private_dir(folder)
        tls_key = pki.generate_tls_key()
        self._write_key(folder / ("tls.key.next" if renew else "tls.key"), tls_key)
        signing: SigningKey | None = None
        encryption = b""
        if role in ("department", "broker"):
            if renew:
                signing = self.signing_key(party)
            else:
                signing = SigningKey.generate()
                self._write_key(
                    folder / "signing.key",
                    ed25519.Ed25519PrivateKey.from_private_bytes(signing.private_key),
                )
                if role == "broker":
                    self.install_broker_verify_key(signing.verify_key)
        if role == "department":
            if renew:
                encryption = self.encryption_keys(party).public_key
            else:
                pair = EncryptionKeyPair.generate()
                self._write_key(
                    folder / "encryption.key",
                    x25519.X25519PrivateKey.from_private_bytes(pair.private_key),
                )
                encryption = pair.public_key
            if profile is not None:
                self.save_profile(profile)
        details = {}
        if role == "department":
            known = profile or self.profile(party)
            details = {"name": known.name, "region": known.region, "level": known.level}
        try:
            csr = enrolment.build_request(
                tls_key,
                party,
                role=role,
                profile=details,
                encryption_public_key=encryption,
                signing_key=signing,
                server_names=server_names,
                now=now,
            )
        except EnrolmentError as exc:
            raise HomeError(msg("{field}: {exc}", field=exc.field, exc=exc)) from None
        write_private(folder / "request.csr", csr)
        return csr

    def install(self, bundle: bytes) -> list[pki.CertificateInfo]:
        """Install the certificates the authority returned for this home's pending request.

        The bundle holds the client certificate, the server certificate (if any) and the CA
        certificate. Each must be issued by the CA (the one already trusted here, or the bundle's
        on a first install), name the party, match its pending TLS key and carry its data keys.

        Raises:
            HomeError: what does not match, named.
        """
        pems = split_pem(bundle)
        if len(pems) < 2:
            raise HomeError(
                msg("a certificate bundle holds the party's certificate(s) and the CA's")
            )
        try:
            certs = [pki.load_certificate(p) for p in pems]
        except KeyFormatError as exc:
            raise HomeError(msg("bundle: {exc}", exc=exc)) from None
        ca, issued = certs[-1], certs[:-1]
        if self.exists():
            trusted = pki.load_certificate(read_file(self.ca_certificate_path))
            if trusted != ca:
                raise HomeError(msg("the bundle's CA is not the authority CA this home trusts"))
        infos = [pki.certificate_info(c) for c in issued]
        party = infos[0].common_name
        folder = self.party_dir(party)
        pending = folder / "tls.key.next"
        key_path = pending if pending.exists() else folder / "tls.key"
        key = self._load_key(key_path)
        targets: dict[str, bytes] = {}
        for cert, info, pem in zip(issued, infos, pems, strict=False):
            if not pki.issued_by(cert, ca):
                raise HomeError(
                    msg("the {party} certificate is not signed by the bundle's CA", party=party)
                )
            if info.common_name != party:
                raise HomeError(msg("the bundle's certificates name different parties"))
            if not pki.public_key_matches(cert, key):
                raise HomeError(
                    msg(
                        "the certificate does not match {party}'s pending key {key_path}",
                        party=party,
                        key_path=key_path,
                    )
                )
            usage = "server" if pki.Usage.SERVER in info.usages else "client"
            if f"{usage}.crt" in targets:
                raise HomeError(msg("the bundle holds two {usage} certificates", usage=usage))
            targets[f"{usage}.crt"] = pem
            if info.party_keys_json:
                self._check_data_keys(party, cert)
        if "client.crt" not in targets:
            raise HomeError(msg("the bundle holds no client certificate"))
        if not self.exists():
            write_private(self.ca_certificate_path, ca.public_bytes(serialization.Encoding.PEM))
        if key_path == pending:
            os.replace(pending, folder / "tls.key")
        for name, pem in targets.items():
            write_private(folder / name, pem)
        if "server.crt" not in targets and (folder / "server.crt").exists():
            (folder / "server.crt").unlink()
        return infos

    def _check_data_keys(self, party: str, cert: x509.Certificate) -> None:
        try:
            keys = enrolment.party_keys_of(cert)
        except EnrolmentError as exc:
            raise HomeError(msg("{party} certificate: {exc}", party=party, exc=exc)) from None
        folder = self.party_dir(party)
        mine = (
            self.signing_key(party).verify_key.public_key
            if (folder / "signing.key").exists()
            else None
        )
        if keys.signing_public_key and mine is not None and mine != keys.signing_public_key:
            raise HomeError(
                msg("the certificate carries another Ed25519 key than {party}'s", party=party)
            )
        has_x25519 = (folder / "encryption.key").exists()
        ours = self.encryption_keys(party).public_key if has_x25519 else None
        if keys.encryption_public_key and ours is not None and ours != keys.encryption_public_key:
            raise HomeError(
                msg("the certificate carries another X25519 key than {party}'s", party=party)
            )

    def save_profile(self, profile: DepartmentProfile) -> None:
        data = json.dumps(profile.__dict__, ensure_ascii=False, indent=2).encode()
        write_private(self.party_dir(profile.code) / "department.json", data)

    # ------------------------------------------------------------------ reading
    def _tls(self, name: str, certificate: str) -> TlsMaterial:
        folder = self.party_dir(name)
        key = self._load_key(folder / "tls.key")
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise HomeError(msg("{v0} is not an EC key", v0=folder / "tls.key"))
        path = folder / certificate
        if not path.exists():
            raise HomeError(
                msg(
                    "missing {path}: {name} is not enrolled yet (install the "
                    "authority's certificates)",
                    path=path,
                    name=name,
                )
            )
        return TlsMaterial(
            ca_pem=read_file(self.ca_certificate_path),
            certificate_pem=read_file(path),
            private_key_pem=pki.private_key_pem(key),
        )

    def tls(self, name: str) -> TlsMaterial:
        """Client mutual-TLS material of party ``name`` (what it presents when calling)."""
        return self._tls(name, "client.crt")

    def server_tls(self, name: str) -> TlsMaterial:
        """Server TLS material of party ``name`` (the broker; a department's node)."""
        return self._tls(name, "server.crt")

    def tls_source(self, name: str, *, server: bool) -> TlsSource:
        """A source of ``name``'s current material, re-read when its files change (renewal)."""
        folder = self.party_dir(name)
        files = [folder / "tls.key", folder / ("server.crt" if server else "client.crt")]
        files.append(self.ca_certificate_path)
        cache: dict[str, object] = {}

        def current() -> TlsMaterial:
            stamp = tuple((p.stat().st_mtime_ns, p.stat().st_size) for p in files)
            if cache.get("stamp") != stamp:
                material = self.server_tls(name) if server else self.tls(name)
                cert = pki.load_certificate(material.certificate_pem)
                key = pki.load_private_key(material.private_key_pem)
                if not pki.public_key_matches(cert, key):
                    raise HomeError(msg("certificate and key do not match (renewal in progress)"))
                cache.update(stamp=stamp, material=material)
            return cache["material"]  # type: ignore[return-value]

        return current

    def profile(self, code: str) -> DepartmentProfile:
        data = json.loads(read_file(self.party_dir(code) / "department.json"))
        return DepartmentProfile(**data)

    def departments(self) -> list[str]:
        return [p for p in self.parties() if (self.party_dir(p) / "department.json").exists()]

    def certificates(self) -> list[tuple[Path, pki.CertificateInfo]]:
        """Every certificate in this home (the CA's, then each party's), read back."""
        paths = [self.ca_certificate_path] if self.exists() else []
        for party in self.parties():
            paths += [self.party_dir(party) / n for n in ("client.crt", "server.crt")]
        out = []
        for path in paths:
            if path.exists():
                try:
                    out.append((path, pki.certificate_info(path.read_bytes())))
                except (KeyFormatError, CryptoError) as exc:
                    raise HomeError(msg("{path}: {exc}", path=path, exc=exc)) from None
        return out


def enrol(
    home: Home,
    sign: Callable[[bytes], bytes],
    party: str,
    *,
    role: str,
    profile: DepartmentProfile | None = None,
    server_names: tuple[str, ...] = (),
    renew: bool = False,
) -> list[pki.CertificateInfo]:
    """Request, have signed and install in one go (``sign`` carries the request to the CA and
    returns its bundle) — the demo and tests, where every party is on this machine."""
    csr = home.request(party, role=role, profile=profile, server_names=server_names, renew=renew)
    return home.install(sign(csr))


class HomeSet:
    """Several homes on one machine (the demo): each party's keys are read from its own home.

    Args:
        homes: party → the home that holds its keys.
    """

    def __init__(self, homes: dict[str, Home]) -> None:
        self.homes = dict(homes)

    def home_of(self, party: str) -> Home:
        try:
            return self.homes[party]
        except KeyError:
            raise HomeError(msg("no home holds {party!r}", party=party)) from None

    def tls(self, party: str) -> TlsMaterial:
        return self.home_of(party).tls(party)

    def encryption_keys(self, party: str) -> EncryptionKeyPair:
        return self.home_of(party).encryption_keys(party)

    def signing_key(self, party: str) -> SigningKey:
        return self.home_of(party).signing_key(party)

    def broker_verify_key(self) -> VerifyKey:
        return self.home_of(BROKER).broker_verify_key()


def private_key_texts(home: Home, party: str) -> list[bytes]:
    """Every encoding of ``party``'s private keys that could leak: raw bytes, hex and the PEM
    bodies as stored (what a scan of another home or of logs looks for)."""
    out: list[bytes] = []
    folder = home.party_dir(party)
    for name in ("tls.key", "signing.key", "encryption.key"):
        path = folder / name
        if not path.exists():
            continue
        stored = path.read_bytes()
        out += [line for line in stored.splitlines() if len(line) >= 40 and b"-----" not in line]
        key = home._load_key(path)
        clear = pki.private_key_pem(key)
        out += [line for line in clear.splitlines() if len(line) >= 40 and b"-----" not in line]
        if isinstance(key, ed25519.Ed25519PrivateKey | x25519.X25519PrivateKey):
            raw = key.private_bytes_raw()
            out += [raw, raw.hex().encode()]
    return out


def scan_for(root: Path, needles: list[bytes]) -> list[Path]:
    """Files under ``root`` containing any of ``needles``."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if any(n in data for n in needles):
            found.append(path)
    return found
