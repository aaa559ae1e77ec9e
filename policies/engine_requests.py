"""Decisions on open-data requests (OPN-2, Art.33, Art.34) and clock extensions (CAT-6, Art.15).

Part of the decision engine (pure functions, facts in → decision out, each citing its article);
import them from :mod:`tongdao.policies.engine` or :mod:`tongdao.policies`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from tongdao.policies.engine import (
    APPROVED,
    PENDING,
    REFUSED,
    Decision,
    EntryFacts,
    _d,
    _outside_validity,
)
from tongdao.policies.i18n import DEFAULT_LOCALE
from tongdao.policies.model import Policy


def decide_open_data_request(
    policy: Policy,
    entry: EntryFacts,
    *,
    locale: str = DEFAULT_LOCALE,
    today: dt.date | None = None,
) -> Decision:
    """Decide a public request for open data by the entry's open type (OPN-2, Art.33, Art.34).

    Unconditional-open data is usable directly; conditional-open data goes to the provider with
    the ``open_data_review`` clock; not-open data is refused with the entry's stated reason.

    Args:
        policy: the jurisdiction's rules.
        entry: the catalogue entry asked for.
        locale: ``zh-CN`` or ``en`` for the reason.
        today: the day of the request; outside the policy's validity it is ``refused`` citing
            the validity article (``None``: not checked).

    Returns:
        ``approved``, ``pending_provider_review`` (with ``due_working_days``) or ``refused``.

    Raises:
        ValueError: unknown locale.
        PolicyError: the policy lacks the ``open_data_review`` clock.
    """
    expired = _outside_validity(policy, today, REFUSED, locale)
    if expired is not None:
        return expired
    rule = policy.deadline("open_data_review")
    if entry.open_type == "unconditional_open" and entry.open_type in policy.opening.open_types:
        return _d(
            APPROVED,
            (rule.article,),
            "opening.unconditional_open",
            locale,
            "Entry {entry} is unconditionally open: usable directly",
            entry=entry.code,
        )
    if entry.open_type == "conditional_open" and entry.open_type in policy.opening.open_types:
        decision = _d(
            PENDING,
            (rule.article,),
            f"deadlines.{rule.kind}",
            locale,
            "Conditional-open entry {entry}: the provider reviews within {days} working day(s); "
            "conditions: {conditions}",
            entry=entry.code,
            days=rule.working_days,
            conditions=entry.open_conditions,
        )
        return replace(decision, due_working_days=rule.working_days)
    return _d(
        REFUSED,
        (policy.opening.article,),
        "opening.not_open",
        locale,
        "Entry {entry} is not open; reason: {reason}",
        entry=entry.code,
        reason=entry.open_conditions.strip() or entry.open_type,
    )


def decide_deadline_extension(
    policy: Policy,
    kind: str,
    *,
    basis: str,
    extensions_granted: int = 0,
    locale: str = DEFAULT_LOCALE,
    today: dt.date | None = None,
) -> Decision:
    """Decide a request to extend a working-day clock (CAT-6, Art.15).

    An extension needs a clock that allows one, a stated policy basis, and must not exceed the
    number of extensions the policy allows.

    Args:
        policy: the jurisdiction's rules.
        kind: the clock to extend, e.g. ``catalogue_update``.
        basis: the stated policy basis (相关政策依据).
        extensions_granted: extensions already granted on this item.
        locale: ``zh-CN`` or ``en`` for the reason.
        today: the day of the decision; outside the policy's validity it is ``refused``
            citing the validity article (``None``: not checked).

    Returns:
        ``approved`` with ``due_working_days`` = the working days added, or ``refused``.

    Raises:
        ValueError: unknown locale.
        PolicyError: the policy has no clock named ``kind``.
    """
    expired = _outside_validity(policy, today, REFUSED, locale)
    if expired is not None:
        return expired
    rule = policy.deadline(kind)
    key = f"deadlines.{kind}.extension_working_days"
    if rule.extension_working_days is None:
        return _d(
            REFUSED,
            (rule.article,),
            key,
            locale,
            "The {kind} deadline cannot be extended",
            kind=kind,
        )
    if extensions_granted >= rule.max_extensions:
        return _d(
            REFUSED,
            (rule.article,),
            f"deadlines.{kind}.max_extensions",
            locale,
            "The {kind} deadline may be extended at most {count} time(s)",
            kind=kind,
            count=rule.max_extensions,
        )
    if not basis.strip():
        return _d(
            REFUSED,
            (rule.article,),
            key,
            locale,
            "An extension must state its policy basis",
        )
    decision = _d(
        APPROVED,
        (rule.article,),
        key,
        locale,
        "Extended by {days} working day(s); basis: {basis}",
        days=rule.extension_working_days,
        basis=basis.strip(),
    )
    return replace(decision, due_working_days=rule.extension_working_days)
