"""The trust rule file: each role's warning period is shorter than its certificates' lifetime,
so a freshly issued certificate is never "due for renewal", and a bad file names its key."""

from __future__ import annotations

import datetime as dt

import pytest

from tongdao.crypto.pki import CertificateInfo, Usage, expiry_warning
from tongdao.policies.trust import TRUST_RULES, TrustRulesError, load_trust_rules

NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)


def _issued(role: str, days: float) -> CertificateInfo:
    """A client certificate of ``role`` issued at NOW for ``days``."""
    return CertificateInfo(
        common_name="authority" if role == "authority" else f"x.{role}",
        role=role,
        usages=frozenset({Usage.CLIENT}),
        serial=1,
        not_before=NOW,
        not_after=NOW + dt.timedelta(days=days),
        names=(),
        party_keys_json="",
        is_ca=False,
    )


@pytest.mark.parametrize("role", ["broker", "department", "authority"])
def test_a_fresh_certificate_of_any_role_warns_only_near_its_end(role):
    rules = load_trust_rules()
    lifetime, warn = rules.lifetime_days(role), rules.warn_days_for(role)
    assert 0 < warn < lifetime
    assert expiry_warning(_issued(role, lifetime), warn, NOW) == ""
    late = NOW + dt.timedelta(days=lifetime - warn + 1)
    assert "renew it now" in expiry_warning(_issued(role, lifetime), warn, late)


def test_the_staff_certificates_have_their_own_shorter_warning():
    rules = load_trust_rules()
    assert rules.warn_days_for("authority") == rules.staff_warn_days < rules.staff_days
    assert rules.warn_days_for("department") == rules.warn_days == rules.warn_days_for("")


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("warn_days", 90, "certificates.warn_days"),
        ("staff_warn_days", 30, "certificates.staff_warn_days"),
        ("staff_warn_days", 0, "certificates.staff_warn_days: must be a positive integer"),
    ],
)
def test_a_warning_period_as_long_as_the_lifetime_is_refused(tmp_path, key, value, named):
    text = TRUST_RULES.read_text(encoding="utf-8")
    lines = [
        f"{key} = {value}" if line.split("=")[0].strip() == key else line
        for line in text.splitlines()
    ]
    bad = tmp_path / "trust.toml"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(TrustRulesError, match=named):
        load_trust_rules(bad)
