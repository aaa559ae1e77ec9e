"""The role table (rule file ``[access.rpcs]``) names every RPC of every v1 service, from the
generated descriptors, and nothing else; the account policy's checks are pure rules."""

from __future__ import annotations

import importlib
import pkgutil
import tomllib
from pathlib import Path

import pytest

import tongdao.v1
from tongdao.policies.access import (
    ANY_REGISTERED,
    AUTHORITY_ROLES,
    BROKER_ONLY,
    DEPARTMENT_ROLES,
    PUBLIC,
    character_classes,
    password_problem,
)
from tongdao.policies.loader import RULES_DIR, load_policy
from tongdao.policies.model import PolicyError
from tongdao.proto.stubs import BROKER_SERVICES, PUBLIC_SERVICES

POLICY = load_policy()
RULES = POLICY.access_rules
ACCOUNTS = POLICY.account_rules


def every_rpc() -> dict[str, str]:
    """Full method name → service name, for every service in the generated v1 modules."""
    found: dict[str, str] = {}
    for info in pkgutil.iter_modules(tongdao.v1.__path__):
        if not info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(f"tongdao.v1.{info.name}")
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                found[f"/{service.full_name}/{method.name}"] = service.full_name
    return found


def test_every_rpc_of_every_service_is_in_the_role_table_and_nothing_else():
    rpcs = every_rpc()
    assert len(rpcs) > 40
    missing = sorted(set(rpcs) - set(RULES.rpcs))
    stale = sorted(set(RULES.rpcs) - set(rpcs))
    assert missing == [], f"RPCs with no roles in the rule file: {missing}"
    assert stale == [], f"role table names RPCs that do not exist: {stale}"


def test_markers_fit_the_listener_that_serves_the_rpc():
    for method, service in every_rpc().items():
        roles = RULES.rpcs[method]
        if service == "tongdao.v1.Node":
            assert roles == (BROKER_ONLY,), method
        elif service in PUBLIC_SERVICES:
            assert roles == (PUBLIC,), method
        else:
            assert service in BROKER_SERVICES, method
            assert BROKER_ONLY not in roles and PUBLIC not in roles, method


def test_separation_of_duties():
    changes_something = {
        m
        for m, roles in RULES.rpcs.items()
        if m.rsplit("/", 1)[1].startswith(
            (
                "Create",
                "Submit",
                "Publish",
                "Return",
                "Revise",
                "Require",
                "Decide",
                "File",
                "Fulfil",
                "Import",
                "Extend",
                "Withdraw",
                "Register",
                "Disable",
                "Request",
            )
        )
    }
    assert changes_something
    for method in changes_something:
        assert "auditor" not in RULES.rpcs[method], f"the auditor changes nothing: {method}"
    assert RULES.rpcs["/tongdao.v1.Ledger/GetLedger"] == ("auditor",)
    assert RULES.rpcs["/tongdao.v1.Directory/RegisterDepartment"] == ("administrator",)
    for method in ("/tongdao.v1.Catalogue/PublishCatalogueEntry", "/tongdao.v1.Query/Query"):
        assert "administrator" not in RULES.rpcs[method]
    assert set(RULES.service_identity["department"]) <= set(DEPARTMENT_ROLES)
    assert set(RULES.service_identity["authority"]) <= set(AUTHORITY_ROLES)
    assert RULES.rpcs["/tongdao.v1.Accounts/Login"] == (ANY_REGISTERED,)


def _broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = (RULES_DIR / "heilongjiang-2025.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        (
            '"/tongdao.v1.Ledger/GetLedger" = ["auditor"]',
            '"/tongdao.v1.Ledger/GetLedger" = ["janitor"]',
            "access.rpcs./tongdao.v1.Ledger/GetLedger",
        ),
        (
            'department = ["operator", "auditor"]',
            'department = ["administrator"]',
            "access.service_identity.department",
        ),
        ("lockout_minutes = 15", "lockout_minutes = 0", "accounts.lockout_minutes"),
        (
            '[access.bootstrap]\nauthority = ["administrator", "operator", "auditor"]',
            '[access.bootstrap]\nauthority = ["root"]',
            "access.bootstrap.authority",
        ),
        (
            'common_passwords = "common-passwords.txt"',
            'common_passwords = "../x.txt"',
            "accounts.common_passwords",
        ),
    ],
)
def test_a_bad_role_or_account_rule_is_refused_naming_the_key(tmp_path, old, new, key):
    with pytest.raises(PolicyError) as err:
        load_policy(_broken_copy(tmp_path, old, new))
    assert key in str(err.value)


def test_the_numbers_come_from_the_rule_file():
    raw = tomllib.loads((RULES_DIR / "heilongjiang-2025.toml").read_text(encoding="utf-8"))
    accounts = raw["accounts"]
    assert (ACCOUNTS.min_length, ACCOUNTS.max_failures, ACCOUNTS.lockout_minutes) == (
        accounts["min_length"],
        accounts["max_failures"],
        accounts["lockout_minutes"],
    )
    assert (ACCOUNTS.max_age_days, ACCOUNTS.history) == (90, 5)
    assert "123456" in ACCOUNTS.common_passwords


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Ab1!", "at least 12 characters"),
        ("abcdefghijklmn", "must mix at least 3"),
        ("ABCDEFGH12345", "must mix at least 3"),
        ("password@2026", "list of common passwords"),
        ("xx-li.si-Harbin9", "must not contain the account name"),
        ("Snow#Songhua-River9", None),
        ("冰雪大世界Harbin2026", None),
    ],
)
def test_password_policy(password, problem):
    result = password_problem(ACCOUNTS, password, "li.si")
    if problem is None:
        assert result is None
    else:
        assert result is not None and problem in result
        assert password not in result


def test_character_classes():
    assert character_classes("aA1!") == {"lower", "upper", "digit", "symbol"}
    assert character_classes("") == set()


def test_the_authority_certificate_alone_holds_no_role_after_its_bootstrap():
    assert RULES.service_identity["authority"] == ()
    assert RULES.certificate_roles("authority", has_administrator=True) == ()
    assert set(RULES.certificate_roles("authority", has_administrator=False)) == set(
        AUTHORITY_ROLES
    )
    # a department has no bootstrap: its certificate is its systems, the same before and after
    for founded in (False, True):
        assert (
            RULES.certificate_roles("department", has_administrator=founded)
            == (RULES.service_identity["department"])
        )
