"""The authority CA's own home: its key, what it issued, what it revoked, its revocation list.

Layout::

    CA_HOME/authority-ca/ca.crt        the CA certificate (give it to every party)
                         ca.key        the CA key (PKCS#8; encrypted with TONGDAO_CA_PASSPHRASE)
                         issued.json   every certificate issued: serial, party, role, usage,
                                       expiry, and the request and key fingerprints
                         revoked.json  every revocation: serial, time, reason
                         crl.pem       the current signed, numbered revocation list (publish it)

The CA home needs no network and holds no party's private key: it reads requests and writes
certificate bundles and revocation lists, so it can run on an offline machine.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tongdao.crypto import enrolment, pki
from tongdao.crypto.errors import EnrolmentError, KeyFormatError, PassphraseError, RevocationError
from tongdao.crypto.revocation import Revoked, build_crl
from tongdao.home import (
    AUTHORITY,
    BROKER,
    DepartmentProfile,
    Home,
    enrol,
    make_private_dir,
    read_file,
    write_private,
)
from tongdao.i18n import said
from tongdao.policies.i18n import msg
from tongdao.policies.trust import TrustRules, load_trust_rules

CA_PASSPHRASE_ENV = "TONGDAO_CA_PASSPHRASE"  # noqa: S105 (the variable's name, not a secret)
_FROM_ENV = object()
KEPT_REFUSALS = 10_000
"""How many refused requests ``refused.json`` keeps (the newest)."""


class CaError(Exception):
    """The CA refuses a request or an operation; ``field`` names what is at fault."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Signed:
    """The outcome of signing one request."""

    request: enrolment.EnrolmentRequest
    issued: enrolment.IssuedCertificates
    bundle: bytes
    serials: tuple[int, ...]


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


class CaHome:
    """Operations of the authority CA on its home directory.

    Args:
        root: the CA's home.
        passphrase: opens the CA key; by default :data:`CA_PASSPHRASE_ENV` (None: unencrypted).
        rules: lifetimes and revocation timing (the bundled trust rule file by default).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        passphrase: bytes | object | None = _FROM_ENV,
        rules: TrustRules | None = None,
    ) -> None:
        self.root = Path(root)
        if passphrase is _FROM_ENV:
            env = os.environ.get(CA_PASSPHRASE_ENV, "")
            passphrase = env.encode() if env else None
        self._passphrase: bytes | None = passphrase  # type: ignore[assignment]
        self.rules = rules or load_trust_rules()

    @property
    def dir(self) -> Path:
        return self.root / "authority-ca"

    @property
    def certificate_path(self) -> Path:
        return self.dir / "ca.crt"

    @property
    def crl_path(self) -> Path:
        return self.dir / "crl.pem"

    def exists(self) -> bool:
        return (self.dir / "ca.key").exists()

    # ------------------------------------------------------------------ creation
    def init(self, *, now: dt.datetime | None = None) -> None:
        """Create the CA and publish its first (empty) revocation list.

        Raises:
            CaError: a CA already exists here.
        """
        if self.exists():
            raise CaError(
                msg("{dir} already holds a CA key; refusing to overwrite it", dir=self.dir)
            )
        ca = pki.create_authority(valid_days=self.rules.ca_days, now=now)
        make_private_dir(self.dir)
        write_private(self.certificate_path, ca.certificate_pem)
        key = pki.load_private_key(ca.private_key_pem)
        write_private(self.dir / "ca.key", pki.private_key_pem(key, self._passphrase))
        self._save("issued.json", [])
        self._save("revoked.json", [])
        self.publish_crl(now=now)

    def authority(self) -> pki.Authority:
        """The CA, its key decrypted in memory.

        Raises:
            CaError: no CA here, or the passphrase is missing or wrong.
        """
        if not self.exists():
            raise CaError(
                msg("{root} is not a CA home (run `tongdao ca init --home {root}`)", root=self.root)
            )
        try:
            return pki.Authority.load(
                read_file(self.certificate_path), read_file(self.dir / "ca.key"), self._passphrase
            )
        except PassphraseError as exc:
            hint = f" (set {CA_PASSPHRASE_ENV})" if "no passphrase" in str(exc) else ""
            raise CaError(
                msg("cannot open the CA key: {exc}{hint}", exc=exc, hint=hint), field="passphrase"
            ) from None
        except KeyFormatError as exc:
            raise CaError(msg("cannot open the CA: {exc}", exc=exc)) from None

    @property
    def ca_pem(self) -> bytes:
        return read_file(self.certificate_path)

    # ------------------------------------------------------------------ records
    def _load(self, name: str) -> list[dict[str, Any]]:
        path = self.dir / name
        if not path.exists():
            return []
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, list) else []

    def _save(self, name: str, rows: list[dict[str, Any]]) -> None:
        write_private(self.dir / name, json.dumps(rows, ensure_ascii=False, indent=1).encode())

    def issued(self) -> list[dict[str, Any]]:
        """Every certificate issued, oldest first (serial as hex)."""
        return self._load("issued.json")

    def revoked(self) -> list[Revoked]:
        return [
            Revoked(int(r["serial"], 16), _utc(r["revoked_at"]), r["reason"])
            for r in self._load("revoked.json")
        ]

    # ------------------------------------------------------------------ signing
    def sign(
        self,
        data: bytes,
        *,
        expect_party: str | None = None,
        server_names: tuple[str, ...] | None = None,
        rekey: bool = False,
        now: dt.datetime | None = None,
    ) -> Signed:
        """Check a request and issue its certificates.

        Args:
            data: the PEM or DER request.
            expect_party: the party the operator expects (refuse a request naming another).
            server_names: the node's registered endpoint host(s), overriding the request's.
            rekey: allow other data keys than the party's unrevoked, unexpired certificates
                carry (after a compromise; revoke the old certificates too). Without it, a
                request for a party that is enrolled with other keys is refused: someone else
                asking in its name.
            now: issuance time (injectable).

        Raises:
            CaError: a malformed, forged, stale, replayed or misnamed request (field named);
                each refusal is also kept in ``refused.json`` (see :meth:`refusals`).
        """
        now = now or dt.datetime.now(dt.UTC)
        try:
            return self._sign(
                data, expect_party=expect_party, server_names=server_names, rekey=rekey, now=now
            )
        except CaError as exc:
            if self.exists():
                self._record_refusal(data, exc, now, expect_party)
            raise

    def refusals(self) -> list[dict[str, Any]]:
        """Every request the CA refused, oldest first (the newest :data:`KEPT_REFUSALS`): when,
        which field, why, the request's SHA-256 — the offline CA's record of bad input."""
        return self._load("refused.json")

    def _record_refusal(
        self, data: bytes, exc: CaError, now: dt.datetime, expect_party: str | None
    ) -> None:
        rows = self.refusals()
        rows.append(
            {
                "at": now.isoformat(),
                "field": exc.field,
                "reason": str(exc)[:300],
                "request_sha256": hashlib.sha256(data).hexdigest(),
                "expected_party": expect_party or "",
            }
        )
        self._save("refused.json", rows[-KEPT_REFUSALS:])

    def _sign(
        self,
        data: bytes,
        *,
        expect_party: str | None,
        server_names: tuple[str, ...] | None,
        rekey: bool,
        now: dt.datetime,
    ) -> Signed:
        authority = self.authority()
        try:
            request = enrolment.parse_request(data, max_age=self.rules.request_max_age, now=now)
        except EnrolmentError as exc:
            raise CaError(said(exc), field=exc.field) from None
        if expect_party is not None and request.party != expect_party:
            raise CaError(
                msg(
                    "the request names {party!r}, not {expect_party!r}",
                    party=request.party,
                    expect_party=expect_party,
                ),
                field="subject",
            )
        issued = self.issued()
        revoked = {f"{r.serial:x}" for r in self.revoked()}
        mine = (request.encryption_public_key.hex(), request.signing_public_key.hex())
        for row in issued:
            current = row["serial"] not in revoked and _utc(row["not_after"]) > now
            theirs = (row.get("x25519", ""), row.get("ed25519", ""))
            if row["party"] == request.party and current and theirs != mine and not rekey:
                raise CaError(
                    msg(
                        "{party} is enrolled with other data keys (serial {v2}); a "
                        "renewal keeps them — if its keys were lost, revoke the old "
                        "certificates and sign with --rekey",
                        party=request.party,
                        v2=row["serial"],
                    ),
                    field="party_keys",
                )
            if row["request"] == request.fingerprint:
                raise CaError(
                    msg(
                        "this request was already signed on {v1} (serial {v3}); a "
                        "department makes a new request to renew",
                        v1=row["issued_at"][:10],
                        v3=row["serial"],
                    ),
                    field="request",
                )
            if row["key"] == request.key_fingerprint:
                raise CaError(
                    msg(
                        "this TLS key was already certified for {v1!r} (serial {v3}); "
                        "renewal uses a fresh key",
                        v1=row["party"],
                        v3=row["serial"],
                    ),
                    field="public_key",
                )
        try:
            certificates = enrolment.sign_request(
                authority,
                request,
                valid_days=self.rules.lifetime_days(request.role),
                server_names=server_names,
                now=now,
            )
        except EnrolmentError as exc:
            raise CaError(str(exc), field=exc.field) from None
        serials = []
        for pem in (certificates.client_pem, certificates.server_pem):
            if pem is None:
                continue
            info = pki.certificate_info(pem)
            serials.append(info.serial)
            issued.append(
                {
                    "serial": f"{info.serial:x}",
                    "party": info.common_name,
                    "role": info.role,
                    "usage": "server" if pki.Usage.SERVER in info.usages else "client",
                    "not_after": info.not_after.isoformat(),
                    "issued_at": now.isoformat(),
                    "request": request.fingerprint,
                    "key": request.key_fingerprint,
                    "names": list(info.names),
                    "x25519": request.encryption_public_key.hex(),
                    "ed25519": request.signing_public_key.hex(),
                }
            )
        self._save("issued.json", issued)
        bundle = certificates.bundle(self.ca_pem)
        return Signed(request, certificates, bundle, tuple(serials))

    # ------------------------------------------------------------------ revocation
    def revoke(
        self,
        *,
        serial: str | None = None,
        party: str | None = None,
        reason: str = "unspecified",
        now: dt.datetime | None = None,
    ) -> list[str]:
        """Revoke one certificate (by hex serial) or every unexpired one of ``party``, then
        publish a new revocation list. Returns the serials revoked.

        Raises:
            CaError: nothing matches, or an unknown reason.
        """
        now = now or dt.datetime.now(dt.UTC)
        issued = self.issued()
        already = {f"{r.serial:x}" for r in self.revoked()}
        if serial is not None:
            wanted = serial.lower().removeprefix("0x")
            matches = [r for r in issued if r["serial"] == wanted]
            if not matches:
                raise CaError(
                    msg("no certificate with serial {serial} was issued here", serial=serial),
                    field="serial",
                )
        else:
            matches = [r for r in issued if r["party"] == party and _utc(r["not_after"]) > now]
            if not matches:
                raise CaError(
                    msg("no unexpired certificate of {party!r} was issued here", party=party),
                    field="party",
                )
        new = [r["serial"] for r in matches if r["serial"] not in already]
        if not new:
            raise CaError(msg("already revoked"), field="serial")
        rows = self._load("revoked.json")
        rows += [{"serial": s, "revoked_at": now.isoformat(), "reason": reason} for s in new]
        self._save("revoked.json", rows)
        try:
            self.publish_crl(now=now)
        except RevocationError as exc:
            self._save("revoked.json", rows[: -len(new)])
            raise CaError(str(exc), field="reason") from None
        return new

    def crl_number(self) -> int:
        path = self.dir / "crl-number"
        return int(path.read_text()) if path.exists() else 0

    def publish_crl(self, *, now: dt.datetime | None = None) -> Path:
        """Sign the next revocation list (number + 1) and write it to ``crl.pem``."""
        number = self.crl_number() + 1
        pem = build_crl(
            self.authority(), self.revoked(), number=number, valid_for=self.rules.crl_valid, now=now
        )
        write_private(self.crl_path, pem)
        write_private(self.dir / "crl-number", str(number).encode())
        return self.crl_path

    def enrol_locally(
        self,
        home: Home,
        party: str,
        *,
        role: str,
        profile: DepartmentProfile | None = None,
        server_names: tuple[str, ...] = (),
    ) -> list[pki.CertificateInfo]:
        """Enrol ``party`` of ``home`` through this CA in one go: its keys are made in ``home``,
        only the request and the bundle pass between them (the demo and tests, where every party
        is on one machine)."""

        def sign(csr: bytes) -> bytes:
            return self.sign(csr, expect_party=party, server_names=server_names or None).bundle

        return enrol(home, sign, party, role=role, profile=profile, server_names=server_names)

    def publish_to(self, home: Home) -> Path:
        """Copy the current revocation list into ``home``'s authority-ca folder (where the broker
        and nodes read it by default) — what an operator does with the file after revoking."""
        target = home.ca_dir / "crl.pem"
        write_private(target, read_file(self.crl_path))
        return target


def enrol_all_locally(
    home: Home,
    ca_root: Path,
    departments: tuple[DepartmentProfile, ...] = (),
    *,
    server_names: tuple[str, ...] = ("127.0.0.1",),
) -> CaHome:
    """A new CA in ``ca_root`` that enrols the broker, the administrator and ``departments`` into
    ``home`` and publishes its revocation list there — tests and benchmarks, where one folder
    stands in for every party's machine (the demo gives each its own home)."""
    ca = CaHome(ca_root)
    ca.init()
    ca.enrol_locally(home, BROKER, role="broker", server_names=server_names)
    ca.enrol_locally(home, AUTHORITY, role="administrator")
    for profile in departments:
        ca.enrol_locally(
            home, profile.code, role="department", profile=profile, server_names=server_names
        )
    ca.publish_to(home)
    return ca
