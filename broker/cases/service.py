"""Typical use cases (SHR-12, Art.31).

A data authority records a typical case for a department of its own area: the subject
(应用主体), the scenario (应用场景), the outcome (应用成效), and the grants the department used —
the data sources (数据来源) are the catalogue entries of those grants, plus any other sources the
authority names. The provincial authority (``authority``) records for any department. Cases are
for promotion (复制推广): every registered department may read them. A report rolls the cases
of an area up one level (a province's by city, a city's by county) for reporting upwards
(汇总上报). Each recorded case is a ledger entry citing the article.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongdao.broker.cases.models import TypicalCase
from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.context import AUTHORITY, ContextService
from tongdao.broker.ledger.chain import Ledger
from tongdao.policies import typical_cases as case_rules
from tongdao.policies.i18n import msg
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, PermissionDenied

GrantFactsPort = Callable[[Session, str], tuple[str, str]]
"""A port: ``(session, grant_id)`` → ``(consumer, entry_code)`` of a grant (raises NotFound)."""

MAX_SOURCES = 50
"""Other data sources one case may name besides its grants' entries."""


@dataclass(frozen=True)
class CaseData:
    """What an authority records."""

    department: str
    subject: str
    scenario: str
    outcome: str
    grants: tuple[str, ...] = ()
    other_sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseReport:
    """The cases of an area, rolled up one level."""

    region: str
    level: str
    total: int
    by_region: list[tuple[str, int]]
    by_source: list[tuple[str, int]]
    article: str


def level_of(region: str) -> str:
    """The level a GB/T 2260 code names: ``230000`` province, ``230100`` city, else county."""
    if region.endswith("0000"):
        return "province"
    return "city" if region.endswith("00") else "county"


NEXT_LEVEL = {"province": "city", "city": "county", "county": "county"}


@dataclass(kw_only=True)
class TypicalCaseService(ContextService):
    """Record, list and report typical use cases."""

    ledger: Ledger
    directory: DirectoryService
    grant_facts: GrantFactsPort | None = None

    @property
    def rules(self) -> case_rules.TypicalCaseRules:
        found = self.policy.typical_cases
        if found is None:
            raise FailedPrecondition(
                msg(
                    "the rule file in force has no [typical_cases] table: this "
                    "broker keeps no cases"
                )
            )
        return found

    def _area(self, session: Session, caller: str) -> tuple[str, str] | None:
        """The (region, level) an authority covers; ``None``: the whole province (authority).

        Raises:
            PermissionDenied: the caller is not a data authority.
        """
        if caller == AUTHORITY:
            return None
        dept = self.directory.require_registered(session, caller)
        if not dept.is_authority:
            raise PermissionDenied(
                msg("only a data authority records typical cases"), articles=(self.rules.article,)
            )
        return dept.region, dept.level

    def record(self, session: Session, caller: str, data: CaseData) -> TypicalCase:
        """An authority records a case for a department of its area.

        Raises:
            PermissionDenied: not an authority, or the department is outside its area.
            InvalidArgument: a required field is empty; a grant is not the department's.
            NotFound: no such department or grant.
        """
        r = self.rules
        area = self._area(session, caller)
        dept = self.directory.department(
            session, v.code(data.department, "department"), "department"
        )
        if area is not None and not case_rules.within(dept.region, *area):
            raise PermissionDenied(
                msg(
                    "{code} ({region}) is outside the area of {caller}",
                    code=dept.code,
                    region=dept.region,
                    caller=caller,
                ),
                field="department",
                articles=(r.article,),
            )
        if len(data.grants) > r.max_grants:
            raise InvalidArgument(
                msg("at most {max_grants} grants", max_grants=r.max_grants), field="grants"
            )
        if len(data.other_sources) > MAX_SOURCES:
            raise InvalidArgument(
                msg("at most {MAX_SOURCES} other sources", MAX_SOURCES=MAX_SOURCES),
                field="other_sources",
            )
        if data.grants and self.grant_facts is None:
            raise FailedPrecondition(msg("typical cases are not wired at this broker"))
        sources: set[str] = set()
        grants: list[str] = []
        for grant_id in data.grants:
            grant_id = v.identifier(grant_id, "grants")
            consumer, entry_code = self.grant_facts(session, grant_id)  # type: ignore[misc]
            if consumer != dept.code:
                raise InvalidArgument(
                    msg("grant {grant_id} is not {code}'s", grant_id=grant_id, code=dept.code),
                    field="grants",
                )
            sources.add(entry_code)
            grants.append(grant_id)
        for name in data.other_sources:
            sources.add(v.text(name, "other_sources", max_len=200))
        stated = {
            "subject": v.text(data.subject, "subject", required=False),
            "scenario": v.text(data.scenario, "scenario", required=False),
            "outcome": v.text(data.outcome, "outcome", required=False),
            "data_sources": sorted(sources),
        }
        gap = case_rules.missing(r, stated)
        if gap is not None:
            field = "grants" if gap == "data_sources" else gap
            raise InvalidArgument(
                msg("a typical case must state its {gap} ({article})", gap=gap, article=r.article),
                field=field,
            )
        case = TypicalCase(
            department=dept.code,
            region=dept.region,
            subject=str(stated["subject"]),
            scenario=str(stated["scenario"]),
            outcome=str(stated["outcome"]),
            data_sources=sorted(sources),
            grants=sorted(set(grants)),
            recorded_by=caller,
            recorded_on=self.today(),
            article=r.article,
        )
        session.add(case)
        session.flush()
        self.ledger.append(
            session,
            kind="typical_case.recorded",
            actor=caller,
            subject=dept.code,
            payload={
                "case": case.id,
                "region": case.region,
                "grants": case.grants,
                "data_sources": case.data_sources,
                "articles": [r.article],
            },
        )
        return case

    def list_page(
        self,
        session: Session,
        caller: str,
        *,
        region: str = "",
        page_size: int = 0,
        page_token: str = "",
    ) -> tuple[list[TypicalCase], str]:
        """One page of the cases in ``region``'s area (empty: all), oldest first.

        Raises:
            InvalidArgument: a malformed region, page size or token.
        """
        if caller != AUTHORITY:
            self.directory.require_registered(session, caller)
        page = self.page("typical_cases", page_size, page_token)
        query = select(TypicalCase)
        if region:
            region = v.region(region, "region")
            prefix = case_rules.area_prefix(region, level_of(region))
            query = query.where(TypicalCase.region.startswith(prefix))
        rows = page.fetch(session, query, TypicalCase.id)
        return list(rows), rows.next_page_token

    def report(self, session: Session, caller: str, region: str = "") -> CaseReport:
        """The cases of ``region``'s area (empty: the caller's area; the provincial authority:
        every case), counted by the regions one level down and by data source.

        Raises:
            InvalidArgument: a malformed region.
        """
        if caller != AUTHORITY and not region:
            region = self.directory.require_registered(session, caller).region
        elif caller != AUTHORITY:
            self.directory.require_registered(session, caller)
        query = select(TypicalCase.region, TypicalCase.data_sources)
        level = "province"
        if region:
            region = v.region(region, "region")
            level = level_of(region)
            query = query.where(
                TypicalCase.region.startswith(case_rules.area_prefix(region, level))
            )
        rows = list(session.execute(query))
        down = NEXT_LEVEL[level] if region else "province"
        by_region = Counter(case_rules.rollup(r, down) for r, _ in rows)
        by_source = Counter(s for _, sources in rows for s in sources)
        return CaseReport(
            region=region,
            level=level if region else "",
            total=len(rows),
            by_region=sorted(by_region.items()),
            by_source=sorted(by_source.items(), key=lambda kv: (-kv[1], kv[0])),
            article=self.rules.article,
        )
