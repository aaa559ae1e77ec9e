"""Rule files over time: which file is in force on a day, successors, expiry warnings.

A jurisdiction's measures are valid for a period (the Heilongjiang measures: two years from
issue, Art.47). When new measures are issued the operator installs their rule file as a
successor (``tongdao policy install FILE``). Each decision uses the file in force on its date;
an item already started keeps the clock it started with. A successor must start no later than
the day after its predecessor ends: a gap (days no measures cover) is refused at install, naming
the dates. No successor is ever guessed.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

from tongdao.policies.i18n import Text, msg
from tongdao.policies.loader import load_policy, resolve_policy_path
from tongdao.policies.model import Policy, PolicyError

EXPIRY_WARNING_DAYS = 60  # product setting: how early `policy show`, supervise and health warn


def install_hint() -> Text:
    """How to install a successor rule file (a catalogue message)."""
    return msg(
        "when new measures are issued, write their rule file (copy the current one, change every "
        "clock and article that changed and [policy] issued/valid_from/validity_years), check it "
        "with `tongdao policy check FILE` and install it with `tongdao policy install FILE` "
        "(see docs/policies.md, 'Rule-file lifecycle')"
    )


@dataclass(frozen=True)
class ExpiryWarning:
    """The rule file in force ends soon (or has ended) and no successor continues it."""

    policy: Policy
    today: dt.date
    days_left: int  # days from today to the last valid day; < 0 once expired

    def message(self) -> Text:
        """The warning, with how to install a successor (rendered again in a reader's locale
        with :func:`~tongdao.policies.i18n.render`)."""
        p = self.policy
        if self.days_left < 0:
            return msg(
                "the rule file {source} ({title}) expired on {until} [{article}] and no "
                "successor is installed: share requests and reviews are refused; {hint}",
                source=p.source,
                title=p.title,
                until=p.valid_until,
                article=p.validity_article,
                hint=install_hint(),
            )
        return msg(
            "the rule file {source} ({title}) expires on {until} [{article}], in {days} day(s), "
            "and no successor is installed: from then on share requests and reviews are "
            "refused; {hint}",
            source=p.source,
            title=p.title,
            until=p.valid_until,
            article=p.validity_article,
            days=self.days_left,
            hint=install_hint(),
        )


@dataclass(frozen=True)
class PolicySchedule:
    """Rule files of one jurisdiction in order of their validity periods, without gaps."""

    policies: tuple[Policy, ...]

    def __post_init__(self) -> None:
        if not self.policies:
            raise ValueError("a policy schedule needs at least one rule file")

    @classmethod
    def single(cls, policy: Policy) -> PolicySchedule:
        return cls((policy,))

    @property
    def first(self) -> Policy:
        return self.policies[0]

    @property
    def last(self) -> Policy:
        return self.policies[-1]

    def in_force_on(self, day: dt.date) -> Policy:
        """The file in force on ``day``: the latest one started by then.

        Before the first file starts that first file is returned, after the last one ends the
        last one: the engine then refuses the decision citing the file's validity (VAL-1).
        """
        chosen = self.first
        for policy in self.policies:
            if policy.valid_from <= day:
                chosen = policy
        return chosen

    def expiry_warning(
        self, today: dt.date, within_days: int = EXPIRY_WARNING_DAYS
    ) -> ExpiryWarning | None:
        """A warning when the file in force on ``today`` ends within ``within_days`` days and
        nothing continues it; ``None`` otherwise."""
        last = self.last
        if today < last.valid_from:
            return None  # a successor is installed and takes over without a gap
        days_left = (last.valid_until - today).days
        if days_left > within_days:
            return None
        return ExpiryWarning(last, today, days_left)

    def with_successor(self, successor: Policy) -> PolicySchedule:
        """This schedule with ``successor`` appended.

        Raises:
            PolicyError: another jurisdiction, not later than the last file, or a gap between
                the last file's end and the successor's start (naming the dates).
        """
        last = self.last
        file = successor.source
        if successor.jurisdiction != last.jurisdiction:
            raise PolicyError(
                file,
                "policy.jurisdiction",
                f"is {successor.jurisdiction!r}; the installed rule files are for "
                f"{last.jurisdiction!r}",
            )
        if successor.valid_from <= last.valid_from:
            raise PolicyError(
                file,
                "policy.valid_from",
                f"{successor.valid_from} is not after {last.valid_from}, when {last.source} "
                "took effect: a successor starts later than the file it follows",
            )
        day_after = last.valid_until + dt.timedelta(days=1)
        if successor.valid_from > day_after:
            gap_end = successor.valid_from - dt.timedelta(days=1)
            raise PolicyError(
                file,
                "policy.valid_from",
                f"leaves a gap from {day_after} to {gap_end}: {last.source} is valid until "
                f"{last.valid_until}, so a successor must take effect on or before {day_after}",
            )
        return PolicySchedule((*self.policies, successor))


def installed_files(directory: Path) -> list[Path]:
    """The rule files installed in ``directory``."""
    return sorted(directory.glob("*.toml")) if directory.is_dir() else []


def load_schedule(base: str | Path, directory: Path | None) -> PolicySchedule:
    """The base rule file followed by every successor installed in ``directory``.

    Raises:
        PolicyError: a file is invalid or the installed files do not follow on without gaps.
    """
    schedule = PolicySchedule.single(load_policy(base))
    if directory is None:
        return schedule
    installed = [load_policy(path) for path in installed_files(directory)]
    base_path = resolve_policy_path(base).resolve()
    for policy in sorted(installed, key=lambda p: p.valid_from):
        if Path(policy.source).resolve() == base_path:
            continue
        schedule = schedule.with_successor(policy)
    return schedule


def install_successor(
    file: str | Path, base: str | Path, directory: Path
) -> tuple[PolicySchedule, Path]:
    """Validate ``file`` as the successor of the installed rule files and copy it into
    ``directory`` (nothing is written when it is refused).

    Returns:
        The new schedule and the installed file's path.

    Raises:
        PolicyError: the file is invalid, already installed, or does not follow on.
    """
    schedule = load_schedule(base, directory)
    candidate = load_policy(file)
    target = directory / Path(candidate.source).name
    if target.exists():
        raise PolicyError(str(file), "-", f"a rule file named {target.name} is already installed")
    new_schedule = schedule.with_successor(candidate)
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(candidate.source, target)
    return new_schedule, target
