"""The Tongdao home directory: the authority CA and every party's certificate and keys.

Layout (created by ``tongdao init``)::

    HOME/authority-ca/ca.crt, ca.key          the authority's CA (keep ca.key offline in production)
    HOME/parties/broker/                      tls.crt, tls.key, signing.key, signing.pub
    HOME/parties/authority/                   tls.crt, tls.key (the authority operator's client)
    HOME/parties/<department code>/           tls.crt, tls.key, encryption.key, signing.key,
                                              department.json (name, region, level, node endpoint)

Private keys are written with mode 0600. In a real deployment each department keeps only its own
``parties/<code>`` folder plus ``authority-ca/ca.crt`` and ``parties/broker/signing.pub``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from tongdao.crypto.envelope import EncryptionKeyPair
from tongdao.crypto.pki import DEFAULT_SANS, CertifiedKey, create_authority, issue_certificate
from tongdao.crypto.signing import SigningKey, VerifyKey
from tongdao.proto.transport import TlsMaterial

BROKER = "broker"
AUTHORITY = "authority"
PARTY_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


class HomeError(Exception):
    """The home directory is missing something or a name is invalid."""


@dataclass(frozen=True)
class DepartmentProfile:
    """What ``tongdao init`` records about a department (registered with the broker later)."""

    code: str
    name: str
    region: str
    level: str
    node_endpoint: str = ""


def _write_secret(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise HomeError(f"missing {path} (run `tongdao init` first?)") from None


class Home:
    """Access to a Tongdao home directory."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    # ------------------------------------------------------------------ paths
    @property
    def ca_dir(self) -> Path:
        return self.root / "authority-ca"

    def party_dir(self, name: str) -> Path:
        if not PARTY_NAME.match(name):
            raise HomeError(
                f"invalid party name {name!r}: use lower-case letters, digits, '.', '_' or '-'"
            )
        return self.root / "parties" / name

    def exists(self) -> bool:
        return (self.ca_dir / "ca.crt").exists()

    # ------------------------------------------------------------------ creation
    def create_authority(self) -> None:
        """Create the CA, the broker and the authority operator (refuses to overwrite)."""
        if self.exists():
            raise HomeError(f"{self.ca_dir} already holds a CA; refusing to overwrite it")
        ca = create_authority()
        self.ca_dir.mkdir(parents=True, exist_ok=True)
        (self.ca_dir / "ca.crt").write_bytes(ca.certificate_pem)
        _write_secret(self.ca_dir / "ca.key", ca.private_key_pem)
        self._issue(BROKER, "broker")
        broker_key = SigningKey.generate()
        _write_secret(self.party_dir(BROKER) / "signing.key", broker_key.private_key.hex().encode())
        (self.party_dir(BROKER) / "signing.pub").write_text(broker_key.verify_key.public_key.hex())
        self._issue(AUTHORITY, "operator")

    def add_department(
        self, profile: DepartmentProfile, sans: tuple[str, ...] = DEFAULT_SANS
    ) -> None:
        """Issue a department's certificate and keys (refuses to overwrite an existing one)."""
        if profile.code in (BROKER, AUTHORITY):
            raise HomeError(f"{profile.code!r} is reserved")
        folder = self.party_dir(profile.code)
        if (folder / "tls.crt").exists():
            raise HomeError(f"department {profile.code!r} already exists in {self.root}")
        self._issue(profile.code, "department", sans)
        _write_secret(
            folder / "encryption.key", EncryptionKeyPair.generate().private_key.hex().encode()
        )
        _write_secret(folder / "signing.key", SigningKey.generate().private_key.hex().encode())
        self.save_profile(profile)

    def save_profile(self, profile: DepartmentProfile) -> None:
        path = self.party_dir(profile.code) / "department.json"
        path.write_text(json.dumps(profile.__dict__, ensure_ascii=False, indent=2))

    def _issue(self, name: str, role: str, sans: tuple[str, ...] = DEFAULT_SANS) -> None:
        ca = CertifiedKey(_read(self.ca_dir / "ca.crt"), _read(self.ca_dir / "ca.key"))
        cert = issue_certificate(ca, name, role=role, sans=sans)
        folder = self.party_dir(name)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "tls.crt").write_bytes(cert.certificate_pem)
        _write_secret(folder / "tls.key", cert.private_key_pem)

    # ------------------------------------------------------------------ reading
    def tls(self, name: str) -> TlsMaterial:
        """Mutual-TLS material of party ``name``."""
        folder = self.party_dir(name)
        return TlsMaterial(
            ca_pem=_read(self.ca_dir / "ca.crt"),
            certificate_pem=_read(folder / "tls.crt"),
            private_key_pem=_read(folder / "tls.key"),
        )

    def signing_key(self, name: str) -> SigningKey:
        return SigningKey(bytes.fromhex(_read(self.party_dir(name) / "signing.key").decode()))

    def encryption_keys(self, name: str) -> EncryptionKeyPair:
        raw = bytes.fromhex(_read(self.party_dir(name) / "encryption.key").decode())
        return EncryptionKeyPair.from_private_bytes(raw)

    def broker_verify_key(self) -> VerifyKey:
        return VerifyKey(bytes.fromhex(_read(self.party_dir(BROKER) / "signing.pub").decode()))

    def profile(self, code: str) -> DepartmentProfile:
        data = json.loads(_read(self.party_dir(code) / "department.json"))
        return DepartmentProfile(**data)

    def departments(self) -> list[str]:
        parties = self.root / "parties"
        if not parties.exists():
            return []
        return sorted(p.name for p in parties.iterdir() if (p / "department.json").exists())
