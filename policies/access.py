"""Separated roles and people's accounts as data: who may call which RPC, and the password,
lockout and session rules (SEC-2, Art.38; GB/T 39477 and the 等保 separation of administrator,
auditor and operator).

Pure Python: the rules come from the rule file's ``[access]`` and ``[accounts]`` tables (read by
:mod:`tongdao.policies.loader`); the broker's access interceptor and account service apply them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

AUTHORITY_ROLES: tuple[str, ...] = ("administrator", "operator", "auditor")
"""Roles a person (or the service identity) may hold at the data authority."""

DEPARTMENT_ROLES: tuple[str, ...] = ("operator", "auditor")
"""Roles a person (or the service identity) may hold at a department."""

STAFF_ROLES: tuple[str, ...] = AUTHORITY_ROLES
"""Every role the role table may name."""

ANY_REGISTERED = "registered"
"""Table marker: any caller whose certificate names a registered department or the authority
(logging in, changing one's own password)."""

BROKER_ONLY = "broker"
"""Table marker: served by a node, callable only with the broker's certificate."""

PUBLIC = "public"
"""Table marker: the public listener, no certificate (the open catalogue)."""

MARKERS: tuple[str, ...] = (ANY_REGISTERED, BROKER_ONLY, PUBLIC)

CHARACTER_CLASSES: tuple[str, ...] = ("lower", "upper", "digit", "symbol")

LISTS_DIR = Path(__file__).resolve().parent / "lists"


@dataclass(frozen=True)
class AccessRules:
    """The role table and who holds which role without a person logged in.

    Attributes:
        rpcs: full method name (``/tongdao.v1.Service/Method``) → the roles (or one marker) that
            may call it.
        service_identity: party kind (``authority`` / ``department``) → the roles a call with a
            certificate and no person's session acts with (recorded as the service identity).
        articles: what the table rests on, named in every refusal.
        bootstrap: party kind → the roles its bare certificate holds instead while the party
            has no administrator account yet (the first one is created with it); a kind
            missing here has no bootstrap.
    """

    rpcs: Mapping[str, tuple[str, ...]]
    service_identity: Mapping[str, tuple[str, ...]]
    articles: tuple[str, ...]
    bootstrap: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def required(self, method: str) -> tuple[str, ...] | None:
        """The roles ``method`` needs, or None when the table does not name it (refuse)."""
        return self.rpcs.get(method)

    def certificate_roles(self, kind: str, *, has_administrator: bool) -> tuple[str, ...]:
        """The roles a call with a ``kind`` party's certificate and no login session holds.

        Until the party has an administrator account, its bootstrap roles (when the table
        names some for ``kind``); from then on, for good, its service identity's.
        """
        if not has_administrator and kind in self.bootstrap:
            return self.bootstrap[kind]
        return self.service_identity.get(kind, ())


@dataclass(frozen=True)
class AccountRules:
    """Password, lockout and session rules for people's accounts (SEC-2, Art.38)."""

    article: str
    min_length: int
    character_classes: int
    common_passwords_file: str
    max_age_days: int
    history: int
    max_failures: int
    lockout_minutes: int
    session_minutes: int
    totp_issuer: str
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19456
    argon2_parallelism: int = 1
    common_passwords: frozenset[str] = field(default_factory=frozenset, repr=False)

    @property
    def max_age(self) -> dt.timedelta:
        return dt.timedelta(days=self.max_age_days)

    @property
    def lockout(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.lockout_minutes)

    @property
    def session_lifetime(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.session_minutes)


def character_classes(password: str) -> set[str]:
    """Which of lower / upper / digit / symbol ``password`` uses."""
    found: set[str] = set()
    for ch in password:
        if ch.isdigit():
            found.add("digit")
        elif ch.islower():
            found.add("lower")
        elif ch.isupper():
            found.add("upper")
        else:
            found.add("symbol")
    return found


def password_problem(rules: AccountRules, password: str, username: str) -> str | None:
    """Why ``password`` is refused by the policy, or None when it is acceptable.

    The message names the rule, never the password.
    """
    if len(password) < rules.min_length:
        return f"must be at least {rules.min_length} characters"
    if len(password) > 256:
        return "must be at most 256 characters"
    used = character_classes(password)
    if len(used) < rules.character_classes:
        return (
            f"must mix at least {rules.character_classes} of lower case, upper case, digits "
            f"and symbols (it has {len(used)})"
        )
    lowered = password.lower()
    if lowered in rules.common_passwords:
        return "is on the list of common passwords"
    if username and username.lower() in lowered:
        return "must not contain the account name"
    return None


def load_common_passwords(name: str) -> frozenset[str]:
    """The shipped list ``policies/lists/NAME`` (one password a line, ``#`` comments)."""
    path = LISTS_DIR / name
    words = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.add(line.lower())
    return frozenset(words)
