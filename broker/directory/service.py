"""Directory context: registering and looking up departments; who reviews whose entries.

Plain Python over a caller-owned SQLAlchemy session; no gRPC."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from tongdao.broker.directory.models import Department
from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.context import AUTHORITY, ContextService
from tongdao.broker.kernel.paging import Page
from tongdao.broker.ledger.chain import Ledger
from tongdao.crypto import pki
from tongdao.crypto.enrolment import party_keys_of
from tongdao.crypto.errors import EnrolmentError, KeyFormatError
from tongdao.policies.i18n import msg
from tongdao.proto.errors import (
    AlreadyExists,
    DomainError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)

MAX_CERTIFICATE_BYTES = 16 * 1024
# built once: the relay and the role check read these for every call
_DEPARTMENTS = Department.__table__
_NODE_OF = select(_DEPARTMENTS.c.node_endpoint, _DEPARTMENTS.c.signing_public_key).where(
    _DEPARTMENTS.c.code == bindparam("code")
)
_PARTY_KIND = select(_DEPARTMENTS.c.is_authority).where(_DEPARTMENTS.c.code == bindparam("code"))


@dataclass(frozen=True)
class DepartmentData:
    """What the authority registers about a department."""

    code: str
    name: str
    region: str
    level: str
    node_endpoint: str
    encryption_public_key: bytes
    signing_public_key: bytes
    is_authority: bool = False


@dataclass(kw_only=True)
class DirectoryService(ContextService):
    """The directory's use cases; other contexts reach departments only through it."""

    ledger: Ledger
    authority_ca_pem: bytes = b""

    def department_from_certificate(
        self,
        certificate_pem: bytes,
        *,
        claimed: DepartmentData,
    ) -> DepartmentData:
        """What a department's enrolment certificate says about it, checked.

        The certificate must be the authority CA's, a department's client certificate, unexpired,
        carry the department's keys with a valid proof of possession, and agree with every
        field ``claimed`` sets.

        Raises:
            InvalidArgument: the first check that fails (field ``certificate_pem`` or the
                disagreeing field).
        """
        field = "certificate_pem"
        if not certificate_pem:
            raise InvalidArgument(
                msg(
                    "required: the department's enrolment certificate (`tongdao ca "
                    "sign` of its request); the directory takes no key the "
                    "department has not proved, so keys given without a "
                    "certificate are refused"
                ),
                field=field,
            )
        if not self.authority_ca_pem:
            raise InvalidArgument(msg("this broker knows no authority CA"), field=field)
        if len(certificate_pem) > MAX_CERTIFICATE_BYTES:
            raise InvalidArgument(
                msg(
                    "at most {MAX_CERTIFICATE_BYTES} bytes",
                    MAX_CERTIFICATE_BYTES=MAX_CERTIFICATE_BYTES,
                ),
                field=field,
            )
        try:
            cert = pki.load_certificate(certificate_pem)
            if not pki.issued_by(cert, pki.load_certificate(self.authority_ca_pem)):
                raise InvalidArgument(msg("not issued by the authority CA"), field=field)
            info = pki.certificate_info(cert)
            keys = party_keys_of(cert)
        except (KeyFormatError, EnrolmentError) as exc:
            raise InvalidArgument(str(exc), field=field) from None
        if info.role != "department" or pki.Usage.CLIENT not in info.usages:
            raise InvalidArgument(msg("not a department's client certificate"), field=field)
        if not info.not_before <= self.now() <= info.not_after:
            raise InvalidArgument(
                msg(
                    "expired or not yet valid (until {not_after:%Y-%m-%d})",
                    not_after=info.not_after,
                ),
                field=field,
            )
        data = DepartmentData(
            code=keys.party,
            name=keys.profile.get("name", ""),
            region=keys.profile.get("region", ""),
            level=keys.profile.get("level", ""),
            node_endpoint=claimed.node_endpoint,
            encryption_public_key=keys.encryption_public_key,
            signing_public_key=keys.signing_public_key,
            is_authority=claimed.is_authority,
        )
        for name in ("code", "name", "region", "level"):
            asked = getattr(claimed, name)
            if asked and asked != getattr(data, name):
                raise InvalidArgument(
                    msg(
                        "the certificate says {v1!r}, the request {asked!r}",
                        v1=getattr(data, name),
                        asked=asked,
                    ),
                    field=f"department.{name}",
                )
        for name in ("encryption_public_key", "signing_public_key"):
            asked = getattr(claimed, name)
            if asked and asked != getattr(data, name):
                raise InvalidArgument(
                    msg("differs from the key in the certificate"), field=f"department.{name}"
                )
        return data

    def register_certified_department(
        self,
        session: Session,
        caller: str,
        certificate_pem: bytes,
        claimed: DepartmentData,
    ) -> Department:
        """Register a department from its enrolment certificate (authority only): the only way
        into the directory, so every key it holds was proved by the department that owns it."""
        self.require_authority(session, caller)
        data = self.department_from_certificate(certificate_pem, claimed=claimed)
        return self._register(session, caller, data)

    def record_refused_registration(
        self, session: Session, caller: str, code: str, error: DomainError
    ) -> None:
        """The ledger entry of a refused registration (who tried, for which code, and why)."""
        self.ledger.append(
            session,
            kind="department.registration_refused",
            actor=caller,
            subject=code[:64] or "-",
            payload={
                "status": error.code_name,
                "field": getattr(error, "field", "") or "",
                "reason": str(error)[:300],
            },
        )

    def department(self, session: Session, code: str, field_name: str = "code") -> Department:
        dept = session.get(Department, code)
        if dept is None:
            raise NotFound(
                msg("no department {code!r} in the directory", code=code), field=field_name
            )
        return dept

    def node_of(self, session: Session, code: str) -> tuple[str, bytes]:
        """Department ``code``'s node endpoint ("" when none) and signing public key, read for
        every relayed query (one primary-key read, no ORM unit of work).

        Raises:
            NotFound: no such department.
        """
        session.flush()  # a Core read on the connection: what the session holds is written first
        row = session.connection().execute(_NODE_OF, {"code": code}).first()
        if row is None:
            raise NotFound(msg("no department {code!r} in the directory", code=code), field="code")
        return row.node_endpoint or "", row.signing_public_key

    def party_kind(self, session: Session, code: str) -> str | None:
        """ "authority" or "department" for a registered party ``code`` (read for every call by
        the role check), None when it is not registered."""
        session.flush()  # a Core read on the connection: what the session holds is written first
        flag = session.connection().execute(_PARTY_KIND, {"code": code}).first()
        if flag is None:
            return None
        return "authority" if flag.is_authority else "department"

    def require_authority(self, session: Session, caller: str) -> None:
        if caller == AUTHORITY:
            return
        dept = session.get(Department, caller)
        if dept is None or not dept.is_authority:
            # Art.5: the authority (not a policy rule, so not in the rule file) runs the directory
            raise PermissionDenied(msg("only the data authority may do this"), articles=("Art.5",))

    def require_registered(self, session: Session, caller: str) -> Department:
        dept = session.get(Department, caller)
        if dept is None:
            raise PermissionDenied(
                msg(
                    "caller {caller!r} is not a registered department (ask the authority)",
                    caller=caller,
                )
            )
        return dept

    def _register(self, session: Session, caller: str, data: DepartmentData) -> Department:
        """Add a department whose data its certificate vouched for (authority only)."""
        self.require_authority(session, caller)
        v.code(data.code, "department.code")
        v.text(data.name, "department.name", max_len=200)
        v.region(data.region, "department.region")
        v.level(data.level, "department.level")
        v.text(data.node_endpoint, "department.node_endpoint", required=False, max_len=255)
        v.x25519_key(data.encryption_public_key, "department.encryption_public_key")
        v.key_bytes(data.signing_public_key, "department.signing_public_key")
        if session.get(Department, data.code) is not None:
            raise AlreadyExists(
                msg("department {code!r} is already registered", code=data.code),
                field="department.code",
            )
        dept = Department(
            code=data.code,
            name=data.name.strip(),
            region=data.region,
            level=data.level,
            node_endpoint=data.node_endpoint.strip(),
            encryption_public_key=data.encryption_public_key,
            signing_public_key=data.signing_public_key,
            is_authority=data.is_authority,
            registered_at=self.now(),
        )
        session.add(dept)
        self.ledger.append(
            session,
            kind="department.registered",
            actor=caller,
            subject=data.code,
            payload={
                "name": dept.name,
                "region": dept.region,
                "level": dept.level,
                "node_endpoint": dept.node_endpoint,
                "encryption_public_key": dept.encryption_public_key.hex(),
                "signing_public_key": dept.signing_public_key.hex(),
            },
        )
        return dept

    def get_department(self, session: Session, code: str) -> Department:
        """Look a department up by code."""
        return self.department(session, v.code(code, "code"))

    def list_departments(self, session: Session, page: Page | None = None) -> Sequence[Department]:
        """Every department (or one page of them), by code."""
        if page is not None:
            return page.fetch(session, select(Department), Department.code)
        return session.execute(select(Department).order_by(Department.code)).scalars().all()

    def reviewer_for(self, session: Session, provider: Department) -> str:
        """Who reviews the provider's entries (CAT-5, Art.12).

        A province department's entries go to the authority of its own region; a city's to
        the authority of its province, a county's to the authority of its city ("the next
        level up"). The authority is the registered department with ``is_authority`` in that
        region (the first by code); when none is registered, the broker's operator
        (``authority``, the provincial data authority) reviews.
        """
        region = provider.region
        if provider.level == "county":
            region = region[:4] + "00"
        elif provider.level == "city":
            region = region[:2] + "0000"
        reviewer = session.execute(
            select(Department.code)
            .where(
                Department.region == region,
                Department.is_authority.is_(True),
                Department.code != provider.code,
            )
            .order_by(Department.code)
            .limit(1)
        ).scalar_one_or_none()
        return reviewer or AUTHORITY

    def find(self, session: Session, code: str) -> Department | None:
        """The department ``code``, or None when it is not registered."""
        return session.get(Department, code)

    def regions(self, session: Session) -> dict[str, str]:
        """Every registered department's region code, by department code."""
        return {c: r for c, r in session.execute(select(Department.code, Department.region))}

    def authority_of_region(self, session: Session, region: str) -> str:
        """The data authority of ``region``: the registered department with ``is_authority``
        there (the first by code), else the broker's operator (``authority``, the provincial
        data authority)."""
        code = session.execute(
            select(Department.code)
            .where(Department.region == region, Department.is_authority.is_(True))
            .order_by(Department.code)
            .limit(1)
        ).scalar_one_or_none()
        return code or AUTHORITY

    def review_chain(
        self, session: Session, provider: Department, steps: Sequence[tuple[str, str]]
    ) -> list[str]:
        """The authorities that review ``provider``'s entries, in order (CAT-5, Art.12).

        ``steps`` are (step, region) pairs from the rule file. A region's authority is the
        registered department with ``is_authority`` there (not the provider itself); a city or
        county without one is skipped; the province's is the broker's operator (``authority``)
        when no department is registered as it. Never empty.
        """
        chain: list[str] = []
        for _step, region in steps:
            code = session.execute(
                select(Department.code)
                .where(
                    Department.region == region,
                    Department.is_authority.is_(True),
                    Department.code != provider.code,
                )
                .order_by(Department.code)
                .limit(1)
            ).scalar_one_or_none()
            if code is None and region.endswith("0000"):
                code = AUTHORITY
            if code is not None and code not in chain:
                chain.append(code)
        return chain or [AUTHORITY]
