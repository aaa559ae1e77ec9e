"""Supervision context: the working-day clocks of time-limited items and who is late.

Other contexts start and close clocks through this service; the authority lists and extends
them, and loads a year's official holiday schedule, which recounts the clocks computed on that
year provisionally (never earlier than announced). Plain Python over a caller-owned session; no
gRPC."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.context import AUTHORITY, ContextService, decision_dict
from tongdao.broker.kernel.paging import Page
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.supervision.models import Deadline, HolidaySchedule
from tongdao.policies.calendar import DueDate, Recomputed, UnknownYearError, YearData, recompute_due
from tongdao.policies.engine import (
    decide_deadline_extension,
)
from tongdao.policies.i18n import msg
from tongdao.policies.official_schedule import (
    OfficialYear,
    ScheduleError,
    parse_schedule,
    render_schedule,
    schedule_dict,
)
from tongdao.proto.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)

MAX_SCHEDULE_BYTES = 256 * 1024  # a year's schedule is a few kilobytes
DueMoved = Callable[[Session, Deadline], None]
"""A port: a recounted clock (its new ``due_on``), for the contexts that show its date."""


@dataclass(frozen=True)
class RecomputedDeadline:
    """One open clock recounted on a newly loaded official year."""

    deadline: Deadline
    result: Recomputed


@dataclass(frozen=True)
class SupervisionStatus:
    """The broker's health details: rule file in force, warnings, calendar coverage."""

    policy_source: str
    policy_valid_from: dt.date
    policy_valid_until: dt.date
    warnings: tuple[str, ...]
    official_years: tuple[int, ...]
    provisional_years: tuple[int, ...]  # years open clocks run through provisionally


@dataclass(kw_only=True)
class SupervisionService(ContextService):
    """Deadlines (SUP-1): started and closed by the other contexts, listed and extended here."""

    ledger: Ledger
    directory: DirectoryService
    due_moved: list[DueMoved] = field(default_factory=list)

    def start_deadline(
        self, session: Session, *, kind: str, subject: str, responsible: str
    ) -> dt.date:
        """Start the policy's working-day clock ``kind`` today; return its due date (SUP-1).

        Raises:
            FailedPrecondition: the count runs into a year the calendar cannot cover (names the
                year and the fix).
        """
        rule = self.policy.deadline(kind)
        started = self.today()
        try:
            due = self.calendar.due_date(started, rule.working_days)
        except UnknownYearError as exc:
            raise FailedPrecondition(
                msg(
                    "cannot set the {working_days}-working-day deadline: {exc}",
                    working_days=rule.working_days,
                    exc=exc,
                ),
                articles=(rule.article,),
            ) from None
        session.add(
            Deadline(
                kind=kind,
                subject=subject,
                responsible=responsible,
                article=rule.article,
                working_days=rule.working_days,
                started_on=started,
                due_on=due,
                extended_working_days=0,
            )
        )
        return due

    def due_status(self, started: dt.date, due: dt.date) -> DueDate:
        """``due`` counted from ``started``, with the provisional years it rests on.

        Raises:
            FailedPrecondition: a year in between the calendar cannot cover.
        """
        try:
            return self.calendar.span(started, due)
        except UnknownYearError as exc:
            raise FailedPrecondition(str(exc)) from None

    def due_fields(self, due: dt.date, started: dt.date | None = None) -> dict[str, Any]:
        """Ledger fields for a due date: ``due_on``, and on a provisional year the note."""
        status = self.due_status(started or self.today(), due)
        out: dict[str, Any] = {"due_on": due.isoformat()}
        if status.provisional:
            out["provisional"] = True
            out["provisional_note"] = status.note(self.settings.locale)
        return out

    def close_deadline(self, session: Session, *, kind: str, subject: str) -> Deadline | None:
        deadline = session.execute(
            select(Deadline).where(
                Deadline.kind == kind, Deadline.subject == subject, Deadline.closed_on.is_(None)
            )
        ).scalar_one_or_none()
        if deadline is not None:
            deadline.closed_on = self.today()
            deadline.closed_late = deadline.closed_on > deadline.due_on
        return deadline

    def remaining(self, deadline: Deadline) -> int:
        """Working days left until ``deadline`` is due (negative: overdue by that many).

        Raises:
            FailedPrecondition: a year in between the calendar cannot cover.
        """
        try:
            return self.calendar.working_days_between(self.today(), deadline.due_on)
        except UnknownYearError as exc:
            raise FailedPrecondition(
                msg("cannot count the days to deadline {id}: {exc}", id=deadline.id, exc=exc)
            ) from None

    def list_deadlines(
        self,
        session: Session,
        caller: str,
        *,
        overdue_only: bool = False,
        include_closed: bool = False,
        page: Page | None = None,
    ) -> list[tuple[Deadline, int]]:
        """Time-limited items (or one ``page`` of them) with their remaining working days
        (SUP-1), by due date.

        The authority sees every item; a department sees the items it is responsible for.

        Returns:
            (deadline, remaining working days) pairs; remaining < 0 means overdue.

        Raises:
            FailedPrecondition: a date the calendar cannot cover (names the year and the fix).
        """
        query = select(Deadline)
        if caller != AUTHORITY:
            dept = self.directory.require_registered(session, caller)
            if not dept.is_authority:
                query = query.where(Deadline.responsible == caller)
        if not include_closed:
            query = query.where(Deadline.closed_on.is_(None))
        today = self.today()
        order = (Deadline.due_on, Deadline.id)
        query = page.select(query, *order, limit=False) if page else query.order_by(*order)

        def items() -> Iterator[tuple[Deadline, int]]:
            for deadline in session.execute(query).scalars():
                overdue = deadline.closed_late if deadline.closed_on else today > deadline.due_on
                if overdue_only and not overdue:
                    continue
                yield deadline, self.remaining(deadline)

        if page is not None:
            return page.split(items(), lambda item: (item[0].due_on, item[0].id))
        return list(items())

    def extend_deadline(
        self, session: Session, caller: str, deadline_id: int, basis: str
    ) -> Deadline:
        """Grant the extension a clock allows, with its stated policy basis (Art.15)."""
        self.directory.require_authority(session, caller)
        deadline = session.get(Deadline, v.row_id(deadline_id, "id"))
        if deadline is None:
            raise NotFound(msg("no deadline {deadline_id}", deadline_id=deadline_id), field="id")
        if deadline.closed_on is not None:
            raise FailedPrecondition(msg("the item is already closed"), field="id")
        decision = decide_deadline_extension(
            self.policy,
            deadline.kind,
            basis=basis,
            extensions_granted=deadline.extensions,
            locale=self.settings.locale,
            today=self.today(),
        )
        if decision.outcome != "approved" or not decision.due_working_days:
            raise FailedPrecondition(decision.reason, field="basis", articles=decision.articles)
        try:
            deadline.due_on = self.calendar.due_date(deadline.due_on, decision.due_working_days)
        except UnknownYearError as exc:
            raise FailedPrecondition(str(exc), articles=decision.articles) from None
        deadline.extensions += 1
        deadline.extended_working_days = (
            deadline.extended_working_days or 0
        ) + decision.due_working_days
        self.ledger.append(
            session,
            kind="deadline.extended",
            actor=caller,
            subject=deadline.subject,
            payload={
                "kind": deadline.kind,
                "basis": basis.strip(),
                **self.due_fields(deadline.due_on, deadline.started_on),
                "decision": decision_dict(decision),
            },
        )
        return deadline

    # ------------------------------------------------------------------ official schedules
    def load_official_years(self, session: Session) -> tuple[int, ...]:
        """Put the schedules stored at the broker into the calendar (at start); return the years.

        Raises:
            ScheduleError: a stored schedule no longer validates (names the year).
        """
        years = []
        for row in session.execute(select(HolidaySchedule)).scalars():
            year = parse_schedule(row.schedule, file=f"holiday_schedules[{row.year}]")
            self.calendar.add_official_year(
                year.year, YearData(year.holidays, year.workdays, year.source)
            )
            years.append(year.year)
        return tuple(sorted(years))

    def load_schedule(
        self, session: Session, caller: str, text: str, file_name: str = ""
    ) -> tuple[OfficialYear, list[RecomputedDeadline]]:
        """Install a year's official schedule (the authority only) and recount the open clocks
        computed on that year provisionally; a due date never moves earlier than announced.

        The calendar changes only once the caller's transaction commits.

        Raises:
            PermissionDenied: the caller is not the authority.
            InvalidArgument: the schedule is refused (``field`` ``schedule``; the message names
                the line and the problem).
        """
        self.directory.require_authority(session, caller)
        if len(text.encode("utf-8")) > MAX_SCHEDULE_BYTES:
            raise InvalidArgument(
                msg(
                    "a schedule is at most {MAX_SCHEDULE_BYTES} bytes",
                    MAX_SCHEDULE_BYTES=MAX_SCHEDULE_BYTES,
                ),
                field="schedule",
            )
        name = (file_name or "schedule").strip()[:200] or "schedule"
        try:
            year = parse_schedule(text, file=name, rules=self.calendar.holiday_rules)
        except ScheduleError as exc:
            raise InvalidArgument(
                msg("refused, nothing installed: {exc}", exc=exc), field="schedule"
            ) from None
        data = YearData(year.holidays, year.workdays, year.source)
        before = self.calendar
        after = before.with_official_year(year.year, data)
        row = session.get(HolidaySchedule, year.year)
        if row is None:
            row = HolidaySchedule(year=year.year)
            session.add(row)
        row.source = year.source[:500]
        row.schedule = render_schedule(year)
        row.loaded_on = self.today()
        row.loaded_by = caller
        self.ledger.append(
            session,
            kind="calendar.schedule_loaded",
            actor=caller,
            subject=str(year.year),
            payload={**schedule_dict(year), "file": name},
        )
        open_ = session.execute(
            select(Deadline).where(Deadline.closed_on.is_(None)).order_by(Deadline.id)
        ).scalars()
        moved = []
        for deadline in open_:
            try:
                touched = (
                    year.year in before.span(deadline.started_on, deadline.due_on).provisional_years
                )
            except UnknownYearError:
                touched = True
            if not touched:
                continue
            try:
                result = recompute_due(
                    after,
                    deadline.started_on,
                    deadline.working_days + (deadline.extended_working_days or 0),
                    (),
                    deadline.due_on,
                )
            except UnknownYearError as exc:
                raise FailedPrecondition(
                    msg("cannot recount deadline {id}: {exc}", id=deadline.id, exc=exc),
                    field="schedule",
                ) from None
            deadline.due_on = result.due
            for port in self.due_moved:
                port(session, deadline)
            still = after.span(deadline.started_on, result.due)
            self.ledger.append(
                session,
                kind="deadline.recomputed",
                actor=caller,
                subject=deadline.subject,
                payload={
                    "deadline": deadline.id,
                    "kind": deadline.kind,
                    "year": year.year,
                    "announced_due_on": result.announced.isoformat(),
                    "computed_due_on": result.computed.isoformat(),
                    "due_on": result.due.isoformat(),
                    "kept_announced": result.kept_announced,
                    "provisional": still.provisional,
                    **(
                        {"provisional_note": still.note(self.settings.locale)}
                        if still.provisional
                        else {}
                    ),
                    "articles": [deadline.article],
                },
            )
            moved.append(RecomputedDeadline(deadline, result))
        # the in-memory calendar follows the store only once the load is committed
        event.listen(
            session,
            "after_commit",
            lambda _s: self.calendar.add_official_year(year.year, data),
            once=True,
        )
        return year, moved

    def warnings(self, deadlines: Iterable[Deadline]) -> tuple[list[str], set[int]]:
        """What the authority must act on: the rule file ending within the configured days
        (with how to install a successor) and clocks resting on provisional years.

        Returns:
            The warnings (catalogue messages: the servicer renders them in the caller's
            language) and the provisional years among ``deadlines``.
        """
        warning = self.kernel.expiry_warning(self.today())
        out = [warning.message()] if warning is not None else []
        provisional: set[int] = set()
        for deadline in deadlines:
            if deadline.closed_on is not None:
                continue
            try:
                span = self.calendar.span(deadline.started_on, deadline.due_on)
            except UnknownYearError as exc:
                reason = exc.args[0] if exc.args else str(exc)
                out.append(msg("deadline {id}: {reason}", id=deadline.id, reason=reason))
                continue
            provisional.update(span.provisional_years)
        if provisional:
            years = ", ".join(str(y) for y in sorted(provisional))
            out.append(
                msg(
                    "open deadlines are provisional for {years} (no official holiday schedule): "
                    "when the State Council publishes it, load it with "
                    "`tongdao calendar load FILE --to-broker` (docs/policies.md)",
                    years=years,
                )
            )
        return out, provisional

    def status(self, session: Session, caller: str) -> SupervisionStatus:
        """The broker's health details (the authority only)."""
        self.directory.require_authority(session, caller)
        today = self.today()
        policy = self.policy
        open_ = session.execute(select(Deadline).where(Deadline.closed_on.is_(None))).scalars()
        warnings, provisional = self.warnings(open_)
        return SupervisionStatus(
            policy_source=policy.source,
            policy_valid_from=policy.valid_from,
            policy_valid_until=policy.valid_until,
            warnings=tuple(warnings),
            official_years=tuple(
                sorted(y for y in self.calendar.known_years if y >= today.year - 1)
            ),
            provisional_years=tuple(sorted(provisional)),
        )
