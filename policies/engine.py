"""The decision engine: pure functions, facts in → decision out, each citing its article.

No gRPC, no SQL, no clock of its own: the broker gathers the facts, calls these functions and
records what they return. Reasons are rendered in the requested locale (zh-CN or en).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from tongdao.policies.i18n import DEFAULT_LOCALE, translate
from tongdao.policies.model import Policy

APPROVED = "approved"
PENDING = "pending_provider_review"
PENDING_AUTHORITY = "pending_authority_review"
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
    """What a decision needs to know about a catalogue entry.

    Attributes:
        code: the entry's catalogue code.
        provider: the providing department's code.
        share_type: ``unconditional``, ``conditional`` or ``not_shared`` (Art.21).
        scope_departments: departments a conditional entry may be shared with (empty: any).
        scope_levels: levels (``province``/``city``/``county``) it may be shared with.
        scope_regions: region codes it may be shared with; a code covers its sub-regions.
        permitted_purposes: purposes a conditional entry may be used for.
        legal_basis: for ``not_shared``, the law or regulation that forbids sharing.
        fields: data item name → sensitivity grade (a grade of the policy).
        open_type: ``not_open``, ``conditional_open`` or ``unconditional_open`` (Art.33).
        open_conditions: the open conditions (conditional-open) or the reason (not-open).
        subject_consent: the data subjects consented to opening (Art.33).
        contains_personal_or_secret: personal privacy or trade secrets beyond the field grades.
        classification: entry-level classification (general / important / core, Art.14);
            checked against the policy when given.
    """

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
    classification: str = ""


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


def _outside_validity(
    policy: Policy, today: dt.date | None, outcome: str, locale: str
) -> Decision | None:
    """A decision refusing to apply measures that are not in force on ``today`` (VAL-1)."""
    if today is None or policy.is_valid_on(today):
        return None
    return _d(
        outcome,
        (policy.validity_article,),
        "policy.validity",
        locale,
        "The measures applied ({title}) are valid from {start} to {end}; the authority "
        "must load current rules",
        title=policy.title,
        start=policy.valid_from,
        end=policy.valid_until,
    )


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

    Args:
        policy: the jurisdiction's rules.
        entry: the catalogue entry.
        locale: ``zh-CN`` or ``en`` for the reason.

    Returns:
        (effective share type, a decision explaining the change — or None when unchanged).

    Raises:
        ValueError: unknown locale.
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
    return in_regions(consumer_region, scope_regions)


def in_regions(code: str, scope_regions: tuple[str, ...]) -> bool:
    """Whether region ``code`` lies inside one of ``scope_regions``.

    Region codes are hierarchical: 230000 (province) ⊃ 230100 (city) ⊃ 230102 (county).
    """
    consumer_region = code
    for scope in scope_regions:
        prefix = scope.rstrip("0") or scope
        if len(prefix) % 2:
            prefix += "0"
        if consumer_region.startswith(prefix):
            return True
    return False


def validate_catalogue_entry(
    policy: Policy,
    entry: EntryFacts,
    *,
    locale: str = DEFAULT_LOCALE,
    today: dt.date | None = None,
) -> Decision:
    """Check an entry against the share-type and open-type rules (CAT-2, CAT-3, CAT-4).

    Args:
        policy: the jurisdiction's rules.
        entry: the entry as drafted.
        locale: ``zh-CN`` or ``en`` for the reason.
        today: the day of the check; outside the policy's validity the entry is ``invalid``
            citing the validity article (``None``: not checked).

    Returns:
        ``valid`` (citing the share-type and open-type articles) or ``invalid`` naming the
        first problem found.

    Raises:
        ValueError: unknown locale.
    """
    expired = _outside_validity(policy, today, INVALID, locale)
    if expired is not None:
        return expired
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
    if entry.classification and entry.classification not in policy.classifications:
        return _d(
            INVALID,
            (policy.classification_article,),
            "classifications",
            locale,
            "Classification {value} is not one of {allowed}",
            value=entry.classification,
            allowed=", ".join(policy.classifications),
        )
    for name, grade in entry.fields.items():
        if grade not in policy.grades:
            return _d(
                INVALID,
                (policy.classification_article,),
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
        policy.grades[g].personal for g in entry.fields.values()
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

    Order: validity of the measures (when ``facts.today`` is given), request contents,
    not-shared, data items, methods and grades, conditional scope and purpose, then approval
    (unconditional, also a conditional entry without conditions) or provider review
    (conditional, with the ``conditional_share_review`` clock).

    Args:
        policy: the jurisdiction's rules.
        facts: the request, its consumer and the entry.
        locale: ``zh-CN`` or ``en`` for the reason.

    Returns:
        ``approved``, ``pending_provider_review`` (with ``due_working_days``) or ``refused``.

    Raises:
        ValueError: unknown locale.
        PolicyError: the policy lacks the ``conditional_share_review`` clock.
    """
    s = policy.sharing
    entry = facts.entry
    expired = _outside_validity(policy, facts.today, REFUSED, locale)
    if expired is not None:
        return expired
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
            revealed = dict(s.cheating_consumer_learns).get(method)
            if revealed is not None and revealed not in grade.allowed_methods:
                return _d(
                    REFUSED,
                    (grade.article,),
                    f"sharing.cheating_consumer.{method}",
                    locale,
                    "Data item {field} is graded {grade}; a consumer that deviates from method "
                    "{method} learns what {revealed} reveals, which may not touch it",
                    field=name,
                    grade=grade.label,
                    method=method,
                    revealed=revealed,
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
    if s.unconditional_review == "authority":
        rule = policy.deadline("unconditional_share_review")
        decision = _d(
            PENDING_AUTHORITY,
            (s.unconditional_article,),
            "sharing.unconditional_review",
            locale,
            "Unconditional entry: the data authority reviews within {days} working day(s)",
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


def decide_authority_review(
    policy: Policy,
    *,
    approve: bool,
    reason: str,
    locale: str = DEFAULT_LOCALE,
    today: dt.date | None = None,
) -> Decision:
    """The data authority's review of an unconditional request (SHR-2, Art.22(1)), where the
    rule file has an operator review them (``sharing.unconditional_review = "authority"``).

    Returns:
        ``approved``, ``refused`` (with the authority's reason) or ``invalid`` (a refusal
        without a reason).
    """
    expired = _outside_validity(policy, today, REFUSED, locale)
    if expired is not None:
        return expired
    article = policy.sharing.unconditional_article
    if approve:
        return _d(
            APPROVED,
            (article,),
            "sharing.unconditional_review",
            locale,
            "Unconditional entry: approved after the data authority's review",
        )
    if not reason.strip():
        return _d(
            INVALID,
            (article,),
            "sharing.unconditional_review",
            locale,
            "A refusal must state its reason",
        )
    return _d(
        REFUSED,
        (article,),
        "sharing.unconditional_review",
        locale,
        "Refused by the data authority: {reason}",
        reason=reason.strip(),
    )


def decide_provider_review(
    policy: Policy,
    *,
    approve: bool,
    reason: str,
    locale: str = DEFAULT_LOCALE,
    today: dt.date | None = None,
) -> Decision:
    """The provider's decision on a conditional request (Art.22(2)).

    A refusal must state its reason; without one the decision is ``invalid``.

    Args:
        policy: the jurisdiction's rules.
        approve: the provider approves.
        reason: the provider's reason (required for a refusal).
        locale: ``zh-CN`` or ``en`` for the reason.
        today: the day of the review; outside the policy's validity the review is ``invalid``
            citing the validity article (``None``: not checked).

    Returns:
        ``approved``, ``refused`` (quoting the reason) or ``invalid``.

    Raises:
        ValueError: unknown locale.
        PolicyError: the policy lacks the ``conditional_share_review`` clock.
    """
    expired = _outside_validity(policy, today, INVALID, locale)
    if expired is not None:
        return expired
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


# Open-data requests and clock extensions are decided in engine_requests, built on the helpers
# above; imported last so that every decision is still importable from this module.
from tongdao.policies.engine_requests import (  # noqa: E402
    decide_deadline_extension,
    decide_open_data_request,
)

__all__ = [
    "APPROVED",
    "INVALID",
    "PENDING",
    "REFUSED",
    "VALID",
    "Decision",
    "DepartmentFacts",
    "EntryFacts",
    "ShareRequestFacts",
    "decide_deadline_extension",
    "decide_open_data_request",
    "decide_provider_review",
    "decide_share_request",
    "effective_share_type",
    "validate_catalogue_entry",
]
