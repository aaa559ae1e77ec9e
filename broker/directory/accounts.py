"""People's accounts (SEC-2, Art.38): Argon2id passwords under the rule file's policy, lockout
after repeated failures, an optional TOTP second factor, short-lived sessions stored hashed.

Part of the directory context: an account belongs to a party the directory knows (a registered
department or the authority). Plain Python over a caller-owned session; no gRPC. Calls that must
record a refusal (a failed login, a lockout) return it instead of raising, so the caller commits
the ledger entry and then raises.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tongdao.broker.directory.models import Account, AccountSession, PasswordHistory
from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.actor import Actor
from tongdao.broker.kernel.context import AUTHORITY, ContextService
from tongdao.broker.kernel.paging import Page
from tongdao.broker.ledger.chain import Ledger
from tongdao.crypto.at_rest import SealedSecrets, is_sealed
from tongdao.crypto.errors import KeyFormatError
from tongdao.policies.access import (
    AUTHORITY_ROLES,
    DEPARTMENT_ROLES,
    AccountRules,
    password_problem,
)
from tongdao.policies.i18n import msg
from tongdao.proto.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
SESSION_PREFIX = "tds1."
TOTP_WINDOW = 1
"""Time-steps either side of now whose code is accepted (clock drift; RFC 6238 section 6)."""
TOTP_PURPOSE = "account TOTP secrets"
"""What the sealing key is derived for, from the broker's signing key."""


def token_hash(token: str) -> str:
    """What is stored of a session token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def aware(value: dt.datetime) -> dt.datetime:
    """``value`` as timezone-aware UTC (SQLite hands back naive datetimes)."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class LoginResult:
    """An opened session: the token (shown once), its expiry and the account."""

    token: str
    expires_at: dt.datetime
    account: Account


@dataclass(frozen=True)
class Outcome:
    """The result of a call that records refusals: either ``value`` or ``refusal`` to raise
    after the caller commits (so the ledger keeps the failure)."""

    value: object = None
    refusal: DomainError | None = None

    def unwrap(self) -> object:
        """``value``, or raise ``refusal``."""
        if self.refusal is not None:
            raise self.refusal
        return self.value


@dataclass(kw_only=True)
class AccountService(ContextService):
    """Accounts of people acting for a department or the authority.

    ``sealer`` seals second-factor secrets at rest (a key derived from the broker's signing key,
    see :mod:`tongdao.crypto.at_rest`): the database alone never holds a usable TOTP secret.
    """

    ledger: Ledger
    directory: DirectoryService
    sealer: SealedSecrets

    @cached_property
    def hasher(self) -> PasswordHasher:
        """Argon2id (the library's default type) at the rule file's cost."""
        r = self.rules
        return PasswordHasher(
            time_cost=r.argon2_time_cost,
            memory_cost=r.argon2_memory_kib,
            parallelism=r.argon2_parallelism,
        )

    @cached_property
    def _dummy_hash(self) -> str:
        """Verified against when the account does not exist, so both paths cost the same."""
        return self.hasher.hash(secrets.token_urlsafe(16))

    @property
    def rules(self) -> AccountRules:
        return self.policy.account_rules

    def _check(self, password_hash: str, password: str) -> bool:
        return _verify(self.hasher, password_hash, password)

    # ------------------------------------------------------------ administration

    def roles_open_to(self, session: Session, party: str) -> tuple[str, ...]:
        """The roles a person of ``party`` may hold: the authority's three, a department's two."""
        if party == AUTHORITY:
            return AUTHORITY_ROLES
        dept = self.directory.department(session, party, "account.party")
        return AUTHORITY_ROLES if dept.is_authority else DEPARTMENT_ROLES

    def create_account(
        self,
        session: Session,
        caller: str,
        *,
        username: str,
        party: str,
        role: str,
        display_name: str,
        initial_password: str,
    ) -> Account:
        """Create an account holding one role; the person must change the initial password."""
        self.directory.require_authority(session, caller)
        self._username(username, "account.username")
        if party != AUTHORITY:
            v.code(party, "account.party")
        open_roles = self.roles_open_to(session, party)
        if role not in open_roles:
            raise InvalidArgument(
                msg(
                    "must be one of {v1} for {party!r} (one role per person)",
                    v1=", ".join(open_roles),
                    party=party,
                ),
                field="account.role",
                articles=(self.rules.article,),
            )
        name = v.text(display_name, "account.display_name", max_len=200)
        self._check_password(initial_password, username, "account.initial_password")
        if session.get(Account, username) is not None:
            raise AlreadyExists(
                msg("account {username!r} exists", username=username), field="account.username"
            )
        now = self.now()
        account = Account(
            username=username,
            party=party,
            role=role,
            display_name=name,
            password_hash=self.hasher.hash(initial_password),
            password_changed_at=now,
            must_change_password=True,
            disabled=False,
            failed_logins=0,
            locked_until=None,
            totp_secret="",
            totp_enabled=False,
            created_at=now,
        )
        session.add(account)
        self.ledger.append(
            session,
            kind="account.created",
            actor=caller,
            subject=username,
            payload={"party": party, "role": role, "display_name": name},
        )
        return account

    def disable_account(self, session: Session, caller: str, username: str) -> Account:
        """Disable an account and end its sessions."""
        self.directory.require_authority(session, caller)
        account = self._account(session, username)
        account.disabled = True
        session.execute(delete(AccountSession).where(AccountSession.username == username))
        self.ledger.append(
            session, kind="account.disabled", actor=caller, subject=username, payload={}
        )
        return account

    def has_administrator(self, session: Session, party: str) -> bool:
        """Whether an administrator account of ``party`` was ever created (disabled or not):
        from then on the party's bare certificate holds only its service identity's roles."""
        found = session.execute(
            select(Account.username)
            .where(Account.party == party, Account.role == "administrator")
            .limit(1)
        ).first()
        return found is not None

    def list_accounts(self, session: Session, page: Page | None = None) -> Sequence[Account]:
        """Every account (or one page of them), by username."""
        if page is not None:
            return page.fetch(session, select(Account), Account.username)
        return session.execute(select(Account).order_by(Account.username)).scalars().all()

    # ------------------------------------------------------------ login and sessions

    def login(
        self, session: Session, caller: str, username: str, password: str, totp_code: str = ""
    ) -> Outcome:
        """Check the password (and TOTP code) of an account of ``caller``'s party.

        Every failure and every lockout is a ledger entry; after ``max_failures`` failures in a
        row the account is locked for ``lockout_minutes`` (rule file).

        Returns:
            ``Outcome(value=LoginResult)`` or ``Outcome(refusal=…)`` to raise after commit.
        """
        self._username(username, "username")
        now = self.now()
        account = session.get(Account, username)
        if account is None or account.party != caller:
            self._check(self._dummy_hash, password)  # same work whether or not the account exists
            return self._failed(session, caller, username, None, "unknown account for this party")
        if account.locked_until is not None and aware(account.locked_until) > now:
            self.ledger.append(
                session,
                kind="account.login_refused",
                actor=caller,
                subject=username,
                payload={
                    "reason": "locked",
                    "locked_until": aware(account.locked_until).isoformat(),
                },
            )
            return Outcome(refusal=self._locked_error(account))
        if account.disabled:
            self.ledger.append(
                session,
                kind="account.login_refused",
                actor=caller,
                subject=username,
                payload={"reason": "disabled"},
            )
            return Outcome(
                refusal=PermissionDenied(msg("this account is disabled"), field="username")
            )
        if not self._check(account.password_hash, password):
            return self._failed(session, caller, username, account, "wrong password")
        if account.totp_enabled:
            if not totp_code:
                return Outcome(
                    refusal=Unauthenticated(
                        msg("this account has a second factor: give the current TOTP code"),
                        field="totp_code",
                    )
                )
            verdict = self._accept_code(account, totp_code, now)
            if verdict == "replayed":
                return self._failed(
                    session,
                    caller,
                    username,
                    account,
                    "TOTP code already used",
                    Unauthenticated(
                        msg(
                            "this code was already used: wait for the next one of your "
                            "authenticator app"
                        ),
                        field="totp_code",
                        articles=(self.rules.article,),
                    ),
                )
            if verdict != "accepted":
                return self._failed(session, caller, username, account, "wrong TOTP code")
        account.failed_logins = 0
        account.locked_until = None
        if self.hasher.check_needs_rehash(account.password_hash):
            account.password_hash = self.hasher.hash(password)  # the rule file's cost changed
        if account.must_change_password or now - aware(account.password_changed_at) > (
            self.rules.max_age
        ):
            why = (
                msg("an initial password must be changed")
                if account.must_change_password
                else msg("the password is older than {days} days", days=self.rules.max_age_days)
            )
            self.ledger.append(
                session,
                kind="account.login_refused",
                actor=caller,
                subject=username,
                payload={"reason": "password change required"},
            )
            return Outcome(
                refusal=FailedPrecondition(
                    msg("{why}: set a new one first (`tongdao account password`)", why=why),
                    field="password",
                    articles=(self.rules.article,),
                )
            )
        token = SESSION_PREFIX + secrets.token_urlsafe(32)
        expires = now + self.rules.session_lifetime
        session.add(
            AccountSession(
                token_hash=token_hash(token),
                username=username,
                party=caller,
                created_at=now,
                expires_at=expires,
            )
        )
        self.ledger.append(
            session,
            kind="account.login",
            actor=caller,
            subject=username,
            payload={"expires_at": expires.isoformat(), "second_factor": account.totp_enabled},
        )
        return Outcome(value=LoginResult(token, expires, account))

    def logout(self, session: Session, caller: str, token: str) -> bool:
        """End the session ``token``; False when there was none."""
        row = session.get(AccountSession, token_hash(token)) if token else None
        if row is None or row.party != caller:
            return False
        session.delete(row)
        self.ledger.append(
            session, kind="account.logout", actor=caller, subject=row.username, payload={}
        )
        return True

    def resolve_session(self, session: Session, caller: str, token: str) -> Account:
        """The account whose live session ``token`` is, on ``caller``'s certificate.

        Raises:
            Unauthenticated: unknown, expired or ended session, or one opened by another party,
                or the account is disabled.
        """
        row = session.get(AccountSession, token_hash(token))
        if row is None or row.party != caller:
            raise Unauthenticated(msg("unknown or ended login session: run `tongdao login` again"))
        whose = f"{row.username} ({caller})"
        refusal = None
        if aware(row.expires_at) <= self.now():
            refusal = Unauthenticated(
                msg(
                    "the login session of {whose} expired ({session_minutes} "
                    "minutes): run `tongdao login` again",
                    whose=whose,
                    session_minutes=self.rules.session_minutes,
                ),
                articles=(self.rules.article,),
            )
        account = session.get(Account, row.username)
        if refusal is None and (account is None or account.disabled):
            refusal = Unauthenticated(msg("the account of {whose} is disabled", whose=whose))
        if refusal is not None or account is None:
            refusal = refusal or Unauthenticated(msg("no account {whose}", whose=whose))
            refusal.acted_by = Actor(caller, row.username, ())  # the record names the person
            raise refusal
        return account

    def session_expiry(self, session: Session, token: str) -> dt.datetime | None:
        """When the session ``token`` ends, or None."""
        row = session.get(AccountSession, token_hash(token))
        return aware(row.expires_at) if row is not None else None

    # ------------------------------------------------------------ passwords and second factor

    def set_password(
        self, session: Session, caller: str, username: str, current: str, new: str
    ) -> Outcome:
        """Change a password given the current one (counts as a login attempt when wrong)."""
        self._username(username, "username")
        now = self.now()
        account = session.get(Account, username)
        if account is None or account.party != caller:
            self._check(self._dummy_hash, current)
            return self._failed(session, caller, username, None, "unknown account for this party")
        if account.locked_until is not None and aware(account.locked_until) > now:
            return Outcome(refusal=self._locked_error(account))
        if account.disabled:
            return Outcome(
                refusal=PermissionDenied(msg("this account is disabled"), field="username")
            )
        if not self._check(account.password_hash, current):
            return self._failed(session, caller, username, account, "wrong current password")
        self._check_password(new, username, "new_password")
        keep = self.rules.history
        previous = [
            account.password_hash,
            *session.execute(
                select(PasswordHistory.password_hash)
                .where(PasswordHistory.username == username)
                .order_by(PasswordHistory.id.desc())
                .limit(keep - 1)
            ).scalars(),
        ]
        if any(self._check(h, new) for h in previous[:keep]):
            raise InvalidArgument(
                msg("must not be any of the last {keep} passwords", keep=keep),
                field="new_password",
                articles=(self.rules.article,),
            )
        session.add(
            PasswordHistory(username=username, password_hash=account.password_hash, set_at=now)
        )
        account.password_hash = self.hasher.hash(new)
        account.password_changed_at = now
        account.must_change_password = False
        account.failed_logins = 0
        self.ledger.append(
            session, kind="account.password_changed", actor=caller, subject=username, payload={}
        )
        return Outcome(value=account)

    def enrol_totp(self, session: Session, actor: Actor) -> tuple[str, str]:
        """Start enrolling a TOTP second factor for the logged-in person.

        Returns:
            The base32 secret and its ``otpauth://`` URI (shown once; confirm with a code).
        """
        account = self._person(session, actor)
        secret = pyotp.random_base32()
        account.totp_secret = self.sealer.seal(secret, account.username)
        account.totp_enabled = False
        account.totp_last_step = None
        uri = pyotp.TOTP(secret).provisioning_uri(
            name=f"{account.username}@{account.party}", issuer_name=self.rules.totp_issuer
        )
        return secret, uri

    def confirm_totp(self, session: Session, actor: Actor, code: str) -> Account:
        """Turn the second factor on once the person shows a current code."""
        account = self._person(session, actor)
        if not account.totp_secret:
            raise FailedPrecondition(
                msg("no second factor is being enrolled (`tongdao account totp`)")
            )
        if self._accept_code(account, code, self.now()) != "accepted":
            raise InvalidArgument(msg("is not the current code"), field="code")
        account.totp_enabled = True
        self.ledger.append(
            session,
            kind="account.totp_enabled",
            actor=actor.party,
            subject=account.username,
            payload={},
        )
        return account

    # ------------------------------------------------------------ helpers

    def _totp(self, account: Account) -> pyotp.TOTP:
        """The account's TOTP generator, its secret opened from the sealed column (a value
        stored before sealing is sealed now)."""
        stored = account.totp_secret
        if not is_sealed(stored):
            account.totp_secret = self.sealer.seal(stored, account.username)
            return pyotp.TOTP(stored)
        try:
            return pyotp.TOTP(self.sealer.open(stored, account.username))
        except KeyFormatError:
            raise FailedPrecondition(
                msg(
                    "the second factor of this account does not open with this "
                    "broker's key: an administrator disables the account and a new "
                    "one enrols again"
                ),
                field="totp_code",
            ) from None

    def _accept_code(self, account: Account, code: str, now: dt.datetime) -> str:
        """``accepted`` (the time-step is remembered), ``replayed`` (a step already used, or
        older) or ``wrong``."""
        if not account.totp_secret or not code or not code.isdigit() or len(code) > 10:
            return "wrong"
        totp = self._totp(account)
        current = totp.timecode(now)
        for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
            if hmac.compare_digest(totp.generate_otp(step), code):
                if account.totp_last_step is not None and step <= account.totp_last_step:
                    return "replayed"
                account.totp_last_step = step
                return "accepted"
        return "wrong"

    def _person(self, session: Session, actor: Actor) -> Account:
        if not actor.person:
            raise Unauthenticated(
                msg("log in first (`tongdao login`): this acts on your own account")
            )
        return self._account(session, actor.person)

    def _account(self, session: Session, username: str) -> Account:
        account = session.get(Account, self._username(username, "username"))
        if account is None:
            raise NotFound(msg("no account {username!r}", username=username), field="username")
        return account

    @staticmethod
    def _username(value: str, field: str) -> str:
        if not USERNAME.match(value or ""):
            raise InvalidArgument(
                msg("must be 2-63 characters of a-z, 0-9, '.', '_' or '-'"), field=field
            )
        return value

    def _check_password(self, password: str, username: str, field: str) -> None:
        problem = password_problem(self.rules, password, username)
        if problem is not None:
            raise InvalidArgument(problem, field=field, articles=(self.rules.article,))

    def _locked_error(self, account: Account) -> PermissionDenied:
        until = aware(account.locked_until or self.now())
        return PermissionDenied(
            msg(
                "account locked until {v1} after {max_failures} failed logins",
                v1=until.isoformat(timespec="seconds"),
                max_failures=self.rules.max_failures,
            ),
            field="username",
            articles=(self.rules.article,),
        )

    def _failed(
        self,
        session: Session,
        caller: str,
        username: str,
        account: Account | None,
        reason: str,
        refusal: DomainError | None = None,
    ) -> Outcome:
        """Record a failed attempt; lock the account when it reaches the limit."""
        failures = 0
        if account is not None:
            account.failed_logins += 1
            failures = account.failed_logins
        self.ledger.append(
            session,
            kind="account.login_failed",
            actor=caller,
            subject=username,
            payload={"reason": reason, "failures_in_a_row": failures},
        )
        if account is not None and failures >= self.rules.max_failures:
            account.locked_until = self.now() + self.rules.lockout
            account.failed_logins = 0
            self.ledger.append(
                session,
                kind="account.locked",
                actor=caller,
                subject=username,
                payload={
                    "failures": failures,
                    "locked_until": account.locked_until.isoformat(),
                },
            )
            return Outcome(refusal=self._locked_error(account))
        return Outcome(
            refusal=refusal or Unauthenticated(msg("wrong username or password"), field="password")
        )
