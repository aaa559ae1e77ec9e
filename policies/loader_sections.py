"""The rule file's sections that stand on their own: the role table, the account rules,
catalogue review, disputes and typical cases (read by
:func:`tongdao.policies.loader.load_policy`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tongdao.policies.access import (
    AUTHORITY_ROLES,
    DEPARTMENT_ROLES,
    LISTS_DIR,
    MARKERS,
    STAFF_ROLES,
    AccessRules,
    AccountRules,
    load_common_passwords,
)
from tongdao.policies.catalogue_rules import ENTRY_FIELDS, REVIEW_STEPS, CatalogueRules
from tongdao.policies.cross_verification import CrossVerificationRules
from tongdao.policies.disputes import SUBJECT_KINDS, DisputeRules
from tongdao.policies.model import (
    Policy,
)
from tongdao.policies.open_data import IDENTITY_FIELDS, OpenDataRules
from tongdao.policies.regional import METHODS, ON_WITHDRAWAL, RegionalRules
from tongdao.policies.typical_cases import CASE_FIELDS, TypicalCaseRules

if TYPE_CHECKING:
    from tongdao.policies.loader import _Reader as Reader


def disputes(root: Reader, policy: Policy) -> DisputeRules:
    """``[disputes]``: what a dispute may be about and the clocks of its stages (Art.25)."""
    t = root.table("disputes")
    rules = DisputeRules(
        article=t.article(),
        subjects=t.texts("subjects", allowed=SUBJECT_KINDS),
        handling_clock=t.text("handling_clock"),
        coordination_clock=t.text("coordination_clock"),
    )
    if not rules.subjects:
        raise t.fail("subjects", "names nothing a dispute could be about")
    for key in ("handling_clock", "coordination_clock"):
        if getattr(rules, key) not in policy.deadlines:
            raise t.fail(key, f"names no [deadlines.{getattr(rules, key)}] table")
    t.text("description")
    t.text("quote", required=False)
    return rules


def catalogue(root: Reader) -> CatalogueRules:
    """``[catalogue]``: what an entry states before review (Art.13, 14) and who reviews it."""
    t = root.table("catalogue")
    rules = CatalogueRules(
        required=t.texts("required", allowed=ENTRY_FIELDS),
        review_chain=t.texts("review_chain", allowed=REVIEW_STEPS),
        review_article=t.article("review_article"),
    )
    if not rules.review_chain:
        raise t.fail("review_chain", "names no review step (an entry nobody reviews)")
    t.text("description")
    return rules


def typical_cases(root: Reader) -> TypicalCaseRules:
    """``[typical_cases]``: what a typical use case must state (Art.31)."""
    t = root.table("typical_cases")
    rules = TypicalCaseRules(
        article=t.article(),
        required=t.texts("required", allowed=CASE_FIELDS),
        max_grants=t.integer("max_grants", minimum=1) or 1,
    )
    t.text("description")
    t.text("quote", required=False)
    return rules


def cross_verification(root: Reader, policy: Policy) -> CrossVerificationRules:
    """``[cross_verification]``: how many keys one run may check, and the notices' clock."""
    t = root.table("cross_verification")
    rules = CrossVerificationRules(
        article=t.article(),
        max_keys=t.integer("max_keys", minimum=1) or 1,
        notice_clock=t.text("notice_clock"),
    )
    if rules.notice_clock not in policy.deadlines:
        raise t.fail("notice_clock", f"names no [deadlines] kind: {rules.notice_clock!r}")
    t.text("description")
    t.text("quote", required=False)
    return rules


def access(root: Reader) -> AccessRules:
    """``[access]``: the role table (every RPC → roles), the service identities' roles and the
    authority's bootstrap roles (optional ``[access.bootstrap]``)."""
    t = root.table("access")
    articles = t.texts("articles")
    if not articles:
        raise t.fail("articles", "must cite what the role table rests on")
    ident = t.table("service_identity")
    service_identity = {
        "authority": ident.texts("authority", allowed=AUTHORITY_ROLES),
        "department": ident.texts("department", allowed=DEPARTMENT_ROLES),
    }
    boot = t.table("bootstrap", required=False)
    bootstrap = {"authority": boot.texts("authority", allowed=AUTHORITY_ROLES)} if boot.data else {}
    rpcs_t = t.table("rpcs")
    rpcs: dict[str, tuple[str, ...]] = {}
    for method in rpcs_t.names():
        if not method.startswith("/") or method.count("/") != 2:
            raise rpcs_t.fail(
                method, "must be a full method name like /tongdao.v1.Ledger/GetLedger"
            )
        roles = rpcs_t.texts(method, allowed=(*STAFF_ROLES, *MARKERS))
        if not roles:
            raise rpcs_t.fail(method, "names no role (an RPC nobody may call: remove it)")
        if any(r in MARKERS for r in roles) and len(roles) > 1:
            raise rpcs_t.fail(method, f"a marker ({', '.join(MARKERS)}) stands alone")
        rpcs[method] = roles
    return AccessRules(rpcs, service_identity, articles, bootstrap)


def accounts(root: Reader) -> AccountRules:
    """``[accounts]``: password policy, lockout, sessions."""
    t = root.table("accounts")
    name = t.text("common_passwords")
    if "/" in name or "\\" in name or not (LISTS_DIR / name).is_file():
        raise t.fail("common_passwords", f"no list {name!r} in {LISTS_DIR}")
    classes = t.integer("character_classes", minimum=1) or 1
    if classes > 4:
        raise t.fail("character_classes", "there are only 4 classes")
    return AccountRules(
        article=t.article(),
        min_length=t.integer("min_length", minimum=8) or 8,
        character_classes=classes,
        common_passwords_file=name,
        max_age_days=t.integer("max_age_days", minimum=1) or 1,
        history=t.integer("history", minimum=1) or 1,
        max_failures=t.integer("max_failures", minimum=1) or 1,
        lockout_minutes=t.integer("lockout_minutes", minimum=1) or 1,
        session_minutes=t.integer("session_minutes", minimum=1) or 1,
        totp_issuer=t.text("totp_issuer"),
        argon2_time_cost=t.integer("argon2_time_cost", minimum=1) or 1,
        argon2_memory_kib=t.integer("argon2_memory_kib", minimum=8192) or 8192,
        argon2_parallelism=t.integer("argon2_parallelism", minimum=1) or 1,
        common_passwords=load_common_passwords(name),
    )


def regional(root: Reader, policy: Policy) -> RegionalRules:
    """``[regional]``: regional delegation (Art.23) and return flow by territory (Art.26)."""
    t = root.table("regional")
    rules = RegionalRules(
        delegation_article=t.article("delegation_article"),
        return_flow_article=t.article("return_flow_article"),
        return_flow_methods=t.texts("return_flow_methods", allowed=METHODS),
        return_flow_purpose=t.text("return_flow_purpose"),
        return_flow_validity_days=int(t.integer("return_flow_validity_days", minimum=1) or 0),
        return_flow_quota=int(t.integer("return_flow_quota", minimum=1) or 0),
        on_withdrawal=t.text("on_withdrawal"),
        withdrawal_ground=t.text("withdrawal_ground"),
    )
    if not rules.return_flow_methods:
        raise t.fail("return_flow_methods", "names no method (a return flow nobody can use)")
    if rules.on_withdrawal not in ON_WITHDRAWAL:
        raise t.fail("on_withdrawal", f"must be one of {', '.join(ON_WITHDRAWAL)}")
    if rules.withdrawal_ground not in policy.grant_status.grounds:
        raise t.fail("withdrawal_ground", "names no [grant_status.grounds] ground")
    t.text("description")
    t.text("quote", required=False)
    return rules


def open_data(root: Reader, policy: Policy) -> OpenDataRules:
    """``[open_data]``: how a public requester names itself, what it may receive (Art.34) and
    the article withdrawals rest on (Art.35)."""
    t = root.table("open_data")
    rules = OpenDataRules(
        article=t.article(),
        requester_identity=t.texts("requester_identity", allowed=IDENTITY_FIELDS),
        open_grades=t.texts("open_grades", allowed=tuple(policy.grades)),
        download_page_max=t.integer("download_page_max", minimum=1) or 1,
        download_ticket_seconds=t.integer("download_ticket_seconds", minimum=1) or 1,
        conditional_validity_days=t.integer("conditional_validity_days", minimum=1) or 1,
        withdrawal_article=t.article("withdrawal_article"),
    )
    if "name" not in rules.requester_identity:
        raise t.fail("requester_identity", "must include name (the requester as recorded)")
    t.text("description")
    return rules
