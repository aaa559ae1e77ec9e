"""The trust rule file (``policies/rules/trust.toml``): certificate lifetimes and revocation timing.

A bad file is refused whole, naming the file, key and problem (:class:`TrustRulesError`).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TRUST_RULES = Path(__file__).resolve().parent / "rules" / "trust.toml"

_KEYS: dict[str, tuple[str, ...]] = {
    "certificates": (
        "ca_days",
        "broker_days",
        "department_days",
        "staff_days",
        "warn_days",
        "staff_warn_days",
    ),
    "enrolment": ("request_max_age_hours",),
    "revocation": ("crl_valid_hours", "refresh_seconds"),
}


class TrustRulesError(Exception):
    """The trust rule file is missing a key or holds a wrong value (the message names it)."""


@dataclass(frozen=True)
class TrustRules:
    """Certificate lifetimes and revocation timing, each with its stated basis."""

    ca_days: int
    broker_days: int
    department_days: int
    staff_days: int
    warn_days: int
    staff_warn_days: int
    request_max_age: dt.timedelta
    crl_valid: dt.timedelta
    refresh_seconds: int
    bases: dict[str, str]

    def lifetime_days(self, role: str) -> int:
        """The certificate lifetime of a party with ``role``."""
        if role == "broker":
            return self.broker_days
        if role == "department":
            return self.department_days
        return self.staff_days

    def warn_days_for(self, role: str) -> int:
        """How long before expiry a certificate of ``role`` is warned about (the CA's, role "",
        and the broker's and departments' by ``warn_days``; the authority's staff's by
        ``staff_warn_days``)."""
        if role in ("", "broker", "department"):
            return self.warn_days
        return self.staff_warn_days


def load_trust_rules(path: str | Path = TRUST_RULES) -> TrustRules:
    """Read and check the trust rule file.

    Raises:
        TrustRulesError: unreadable, unknown or missing key, or a value out of range.
    """
    p = Path(path)
    try:
        raw: dict[str, Any] = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TrustRulesError(f"{p}: cannot read: {exc}") from None
    values: dict[str, int] = {}
    bases: dict[str, str] = {}
    for section, keys in _KEYS.items():
        table = raw.get(section)
        if not isinstance(table, dict):
            raise TrustRulesError(f"{p}: [{section}]: missing")
        unknown = sorted(set(table) - {*keys, "basis"})
        if unknown:
            raise TrustRulesError(f"{p}: {section}.{unknown[0]}: unknown key")
        for key in keys:
            value = table.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise TrustRulesError(f"{p}: {section}.{key}: must be a positive integer")
            values[key] = value
        bases[section] = str(table.get("basis", ""))
    if values["ca_days"] <= max(values["broker_days"], values["department_days"]):
        raise TrustRulesError(f"{p}: certificates.ca_days: the CA must outlive what it issues")
    # a warning period shorter than the lifetimes it applies to: a fresh certificate never warns
    if values["warn_days"] >= min(values["broker_days"], values["department_days"]):
        raise TrustRulesError(
            f"{p}: certificates.warn_days: must be shorter than broker_days and department_days"
        )
    if values["staff_warn_days"] >= values["staff_days"]:
        raise TrustRulesError(f"{p}: certificates.staff_warn_days: must be shorter than staff_days")
    if values["refresh_seconds"] >= values["crl_valid_hours"] * 3600:
        raise TrustRulesError(f"{p}: revocation.refresh_seconds: must be shorter than the CRL")
    return TrustRules(
        ca_days=values["ca_days"],
        broker_days=values["broker_days"],
        department_days=values["department_days"],
        staff_days=values["staff_days"],
        warn_days=values["warn_days"],
        staff_warn_days=values["staff_warn_days"],
        request_max_age=dt.timedelta(hours=values["request_max_age_hours"]),
        crl_valid=dt.timedelta(hours=values["crl_valid_hours"]),
        refresh_seconds=values["refresh_seconds"],
        bases=bases,
    )
