"""The decision engine: pure functions, facts in → decision out, each citing its article.

No gRPC, no SQL, no clock of its own: the broker gathers the facts, calls these functions and
records what they return. Reasons are rendered in the requested locale (zh-CN or en).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from policies.i18n import DEFAULT_LOCALE, translate
from policies.model import Policy

APPROVED = "approved"
PENDING = "pending_provider_review"
REFUSED = "refused"
VALID = "valid"
INVALID = "invalid"


@dataclass(frozen=True)
class Decision:
    """What the engine decided and why.

    Attributes:
        outcome: ``approved``, ``pending_provider_review``, ``refused``, ``valid`` or ``invalid``.
        articles: the article(s) applied, e.g. ``("Art.22(2)",)``.
        reason: human-readable, in the requested locale.
        rule: the rule's id in the policy file, e.g. ``sharing.not_shared``.
        due_working_days: for a pending decision, the working days the next party has.
    """

    outcome: str
    articles: tuple[str, ...]
    reason: str
    rule: str
    due_working_days: int | None = None


@dataclass(frozen=True)
class DepartmentFacts:
    """The requesting department."""

    code: str
    region: str
    level: str


@dataclass(frozen=True)
class EntryFacts:
    """What a decision needs to know about a catalogue entry."""

    code: str
    provider: str
    share_type: str
    scope_departments: tuple[str, ...]
    scope_levels: tuple[str, ...]
    scope_regions: tuple[str, ...]
    permitted_purposes: tuple[str, ...]
    legal_basis: str
    fields: Mapping[str, str] = field(default_factory=dict)
    open_type: str = "not_open"
    open_conditions: str = ""
    subject_consent: bool = False
    contains_personal_or_secret: bool = False


@dataclass(frozen=True)
class ShareRequestFacts:
    """A share request (SHR-1) with its consumer and entry."""

    consumer: DepartmentFacts
    entry: EntryFacts
    fields: tuple[str, ...]
    methods: tuple[str, ...]
    purpose: str
    scenario: str
    legal_basis: str
    today: dt.date | None = None


def _d(
    outcome: str, articles: tuple[str, ...], rule: str, locale: str, message: str, **params: object
) -> Decision:
    return Decision(outcome, articles, translate(message, locale, **params), rule)


def _has_conditions(entry: EntryFacts) -> bool:
    return bool(
        entry.scope_departments
        or entry.scope_levels
        or entry.scope_regions
        or entry.permitted_purposes
    )


def effective_share_type(
    policy: Policy, entry: EntryFacts, *, locale: str = DEFAULT_LOCALE
) -> tuple[str, Decision | None]:
    """The share type a request is decided by (CAT-2, Art.21(2)).

    A conditional entry that states neither scope nor purposes is treated as unconditional.

    Returns:
        (effective share type, a decision explaining the change — or None when unchanged).
    """
    if entry.share_type == "conditional" and not _has_conditions(entry):
        return "unconditional", _d(
            VALID,
            (policy.sharing.conditional_without_conditions_article,),
            "sharing.conditional_without_conditions",
            locale,
            "Conditional entry {entry} states no scope or purpose, so it is treated as "
            "unconditional",
            entry=entry.code,
        )
    return entry.share_type, None


def _in_region(consumer_region: str, scope_regions: tuple[str, ...]) -> bool:
    # region codes are hierarchical: 230000 (province) ⊃ 230100 (city) ⊃ 230102 (county)
    for scope in scope_regions:
        prefix = scope.rstrip("0") or scope
        if len(prefix) % 2:
            prefix += "0"
        if consumer_region.startswith(prefix):
            return True
    return False


def validate_catalogue_entry(
    policy: Policy, entry: EntryFacts, *, locale: str = DEFAULT_LOCALE
) -> Decision:
    """Check an entry against the share-type and open-type rules (CAT-2, CAT-3, CAT-4).

    Returns:
        ``valid`` (with the article of the first rule checked) or ``invalid`` naming the problem.
    """
    s = policy.sharing
    if entry.share_type not in s.share_types:
        return _d(
            INVALID,
            (s.share_type_article,),
            "sharing.share_type",
            locale,
            "Share type {value} is not one of {allowed}",
            value=entry.share_type,
            allowed=", ".join(s.share_types),
        )
    if entry.share_type == "not_shared" and not entry.legal_basis.strip():
        return _d(
            INVALID,
            (s.not_shared_article,),
            "sharing.not_shared_basis",
            locale,
            "A not-shared entry must cite its legal basis",
        )
    for name, grade in entry.fields.items():
        if grade not in policy.grades:
            return _d(
                INVALID,
                ("Art.14",),
                "grades",
                locale,
                "Data item {field} has unknown sensitivity grade {grade}",
                field=name,
                grade=grade,
            )
    o = policy.opening
    if entry.open_type not in o.open_types:
        return _d(
            INVALID,
            (o.article,),
            "opening.open_type",
            locale,
            "Open type {value} is not one of {allowed}",
            value=entry.open_type,
            allowed=", ".join(o.open_types),
        )
    personal = entry.contains_personal_or_secret or any(
        g != "general" for g in entry.fields.values()
    )
    if (
        entry.open_type == "unconditional_open"
        and personal
        and o.personal_requires_consent
        and not entry.subject_consent
    ):
        return _d(
            INVALID,
            (o.article,),
            "opening.personal_requires_consent",
            locale,
            "Personal or secret data cannot be unconditionally open without the subject's "
            "recorded consent",
        )
    if entry.open_type == "conditional_open" and not entry.open_conditions.strip():
        return _d(
            INVALID,
            (o.article,),
            "opening.conditions",
            locale,
            "A conditional-open entry must state its open conditions",
        )
    if entry.open_type == "not_open" and not entry.open_conditions.strip() and personal is False:
        # Art.33: not-open must state its reason; personal data carries its own reason
        return _d(
            INVALID,
            (o.article,),
            "opening.not_open_reason",
            locale,
            "A not-open entry must state why it is not open (open_conditions)",
        )
    return _d(
        VALID,
        (s.share_type_article, o.article),
        "catalogue.valid",
        locale,
        "Entry {entry} meets the share-type and open-type rules",
        entry=entry.code,
    )


def decide_share_request(
    policy: Policy, facts: ShareRequestFacts, *, locale: str = DEFAULT_LOCALE
) -> Decision:
    """Decide a share request by the entry's share type and the grade rules (SHR-2, PRIV-6).

    Order: validity of the measures, request contents, not-shared, fields and grades,
    conditional scope and purpose, then approval (unconditional) or provider review (conditional).
    """
    s = policy.sharing
    entry = facts.entry
    if facts.today is not None and not policy.is_valid_on(facts.today):
        return _d(
            REFUSED,
            (policy.validity_article,),
            "policy.validity",
            locale,
            "The measures applied ({title}) are valid from {start} to {end}; the authority "
            "must load current rules",
            title=policy.title,
            start=policy.valid_from,
            end=policy.valid_until,
        )
    if not facts.purpose.strip():
        return _d(
            REFUSED,
            (s.request_contents_article,),
            "sharing.request_contents",
            locale,
            "A share request must state its purpose",
        )
    if not facts.legal_basis.strip() or not facts.scenario.strip():
        return _d(
            REFUSED,
            (s.request_contents_article,),
            "sharing.request_contents",
            locale,
            "A share request must state its application scenario and legal basis for the duty",
        )
    if entry.share_type == "not_shared":
        return _d(
            REFUSED,
            (s.not_shared_article, s.request_contents_article),
            "sharing.not_shared",
            locale,
            "Entry {entry} is not shared; legal basis: {basis}",
            entry=entry.code,
            basis=entry.legal_basis,
        )
    for name in facts.fields:
        if name not in entry.fields:
            return _d(
                REFUSED,
                (s.request_contents_article,),
                "sharing.unknown_field",
                locale,
                "Data item {field} is not in entry {entry}",
                field=name,
                entry=entry.code,
            )
    for method in facts.methods:
        if method not in s.methods:
            return _d(
                REFUSED,
                (s.request_contents_article,),
                "sharing.unknown_method",
                locale,
                "Method {method} is not a sharing method of this policy",
                method=method,
            )
        for name in facts.fields:
            grade = policy.grade(entry.fields[name])
            if method not in grade.allowed_methods:
                return _d(
                    REFUSED,
                    (grade.article,),
                    f"grades.{grade.name}.methods",
                    locale,
                    "Data item {field} is graded {grade}; method {method} may not touch it",
                    field=name,
                    grade=grade.label,
                    method=method,
                )
    effective, _ = effective_share_type(policy, entry, locale=locale)
    if effective == "conditional":
        scope_ok = (
            (not entry.scope_departments or facts.consumer.code in entry.scope_departments)
            and (not entry.scope_levels or facts.consumer.level in entry.scope_levels)
            and (not entry.scope_regions or _in_region(facts.consumer.region, entry.scope_regions))
        )
        if not scope_ok:
            return _d(
                REFUSED,
                (s.conditional_article,),
                "sharing.conditional_scope",
                locale,
                "Department {consumer} is outside the sharing scope of entry {entry}",
                consumer=facts.consumer.code,
                entry=entry.code,
            )
        if entry.permitted_purposes and facts.purpose.strip() not in entry.permitted_purposes:
            return _d(
                REFUSED,
                (s.conditional_article, s.purpose_binding_article),
                "sharing.conditional_purpose",
                locale,
                "Purpose {purpose} is not a permitted purpose of entry {entry}",
                purpose=facts.purpose,
                entry=entry.code,
            )
        rule = policy.deadline("conditional_share_review")
        decision = _d(
            PENDING,
            (rule.article,),
            "deadlines.conditional_share_review",
            locale,
            "Conditional entry: the provider reviews within {days} working day(s)",
            days=rule.working_days,
        )
        return replace(decision, due_working_days=rule.working_days)
    return _d(
        APPROVED,
        (s.unconditional_article,),
        "sharing.unconditional",
        locale,
        "Unconditional entry: approved after the authority's automatic compliance review",
    )


def decide_provider_review(
    policy: Policy, *, approve: bool, reason: str, locale: str = DEFAULT_LOCALE
) -> Decision:
    """The provider's decision on a conditional request (Art.22(2)).

    A refusal must state its reason; without one the decision is ``invalid``.
    """
    article = policy.deadline("conditional_share_review").article
    if approve:
        return _d(
            APPROVED, (article,), "sharing.provider_approved", locale, "Approved by the provider"
        )
    if not reason.strip():
        return _d(
            INVALID, (article,), "sharing.refusal_reason", locale, "A refusal must state its reason"
        )
    return _d(
        REFUSED,
        (article,),
        "sharing.provider_refused",
        locale,
        "Refused by the provider: {reason}",
        reason=reason.strip(),
    )
