"""What every context's service stands on: the policy, the working-day calendar, the
operator settings and the clock (injectable for tests)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from tongdao.broker.kernel.settings import BrokerSettings
from tongdao.policies.calendar import WorkingDayCalendar
from tongdao.policies.engine import Decision
from tongdao.policies.model import Policy

AUTHORITY = "authority"

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Kernel:
    """The policy, calendar, settings and clock shared by every context."""

    policy: Policy
    calendar: WorkingDayCalendar
    settings: BrokerSettings = field(default_factory=BrokerSettings)
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)


@dataclass(kw_only=True)
class ContextService:
    """Base of a context's service: reads the kernel, owns no session (the caller's is passed)."""

    kernel: Kernel

    @property
    def policy(self) -> Policy:
        return self.kernel.policy

    @property
    def calendar(self) -> WorkingDayCalendar:
        return self.kernel.calendar

    @property
    def settings(self) -> BrokerSettings:
        return self.kernel.settings

    def now(self) -> dt.datetime:
        return self.kernel.clock()

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
    """A policy decision as stored on a row and in the ledger (outcome, articles, reason, rule)."""
    return {
        "outcome": decision.outcome,
        "articles": list(decision.articles),
        "reason": decision.reason,
        "rule": decision.rule,
    }
