"""What every context's service stands on: the rule files (the one in force on each day), the
working-day calendar, the operator settings and the clock (injectable for tests)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from tongdao.broker.kernel.actor import current_actor
from tongdao.broker.kernel.paging import Page, Pager
from tongdao.broker.kernel.settings import BrokerSettings
from tongdao.policies.calendar import WorkingDayCalendar
from tongdao.policies.engine import Decision
from tongdao.policies.lifecycle import ExpiryWarning, PolicySchedule
from tongdao.policies.model import Policy

AUTHORITY = "authority"

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Kernel:
    """The policy, calendar, settings and clock shared by every context.

    ``policy`` is the first rule file; ``policies``, when given, is the series of rule files
    (``policy`` followed by its installed successors): each decision uses the file in force on
    its date (:meth:`policy_on`).
    """

    policy: Policy
    calendar: WorkingDayCalendar
    settings: BrokerSettings = field(default_factory=BrokerSettings)
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    policies: PolicySchedule | None = None
    pager: Pager = field(default_factory=lambda: Pager(os.urandom(32)))

    def schedule(self) -> PolicySchedule:
        return self.policies or PolicySchedule.single(self.policy)

    def policy_on(self, day: dt.date) -> Policy:
        """The rule file in force on ``day`` (after the last one ends: the last one, which the
        engine then refuses to apply citing its validity)."""
        return self.schedule().in_force_on(day)

    def expiry_warning(self, today: dt.date) -> ExpiryWarning | None:
        """A warning when the last rule file ends within the configured days, else ``None``."""
        return self.schedule().expiry_warning(today, self.settings.policy_expiry_warning_days)


@dataclass(kw_only=True)
class ContextService:
    """Base of a context's service: reads the kernel, owns no session (the caller's is passed)."""

    kernel: Kernel

    @property
    def policy(self) -> Policy:
        """The rule file in force today."""
        return self.kernel.policy_on(self.today())

    @property
    def calendar(self) -> WorkingDayCalendar:
        return self.kernel.calendar

    @property
    def settings(self) -> BrokerSettings:
        return self.kernel.settings

    def now(self) -> dt.datetime:
        return self.kernel.clock()

    def page(self, kind: str, size: int, token: str, *, pages: str = "list") -> Page:
        """The page of list ``kind`` a caller asks for, sized by the rule file in force
        (``[limits] <pages>_page_size`` / ``_page_max``; see :mod:`tongdao.broker.kernel.paging`).

        Raises:
            InvalidArgument: ``page_size`` beyond the maximum, or a bad ``page_token``.
        """
        return self.kernel.pager.page(kind, self.policy.limits, pages, size, token)

    def today(self) -> dt.date:
        """Today in the calendar's zone (Asia/Shanghai): what working days count from."""
        return self.now().astimezone(SHANGHAI).date()


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus calendar months, clamped to the month's last day (31 Aug + 6 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover


def decision_dict(decision: Decision) -> dict[str, Any]:
    """A policy decision as stored on a row and in the ledger (outcome, articles, reason, rule),
    naming the department and the person responsible for the call that made it (SEC-3, Art.37;
    person "" = the department's service identity)."""
    actor = current_actor()
    return {
        "outcome": decision.outcome,
        "articles": list(decision.articles),
        "reason": decision.reason,
        "rule": decision.rule,
        "department": actor.party if actor is not None else "",
        "person": actor.person if actor is not None else "",
    }
