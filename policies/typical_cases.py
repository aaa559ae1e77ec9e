"""Typical use cases (SHR-12, Art.31): what a case must state and whose cases an authority keeps.

Pure rules, no I/O. Each level's data authority cultivates, promotes and reports up the typical
cases of its own area; a case states its subject (应用主体), scenario (应用场景), data sources
(数据来源) and outcome (应用成效).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

CASE_FIELDS = ("subject", "scenario", "data_sources", "outcome")
PREFIX = {"province": 2, "city": 4, "county": 6}
"""Digits of a GB/T 2260 region code that an authority of each level shares with its area."""


@dataclass(frozen=True)
class TypicalCaseRules:
    """``[typical_cases]`` in the rule file.

    Attributes:
        article: the article the cases rest on (Art.31).
        required: which of :data:`CASE_FIELDS` a case must state.
        max_grants: the most grants one case may name.
    """

    article: str
    required: tuple[str, ...]
    max_grants: int


def area_prefix(region: str, level: str) -> str:
    """The region-code prefix of the area an authority of ``level`` in ``region`` covers.

    Raises:
        ValueError: an unknown level.
    """
    try:
        return region[: PREFIX[level]]
    except KeyError:
        raise ValueError(f"unknown level {level!r}") from None


def within(region: str, authority_region: str, authority_level: str) -> bool:
    """Whether ``region`` lies in the area of an authority of ``authority_level``."""
    return region.startswith(area_prefix(authority_region, authority_level))


def rollup(region: str, level: str) -> str:
    """The region code a case from ``region`` counts under in a report one ``level`` wide
    (``230102`` under a province-wide report by city → ``230100``)."""
    digits = PREFIX[level]
    return (region[:digits] + "0" * 6)[:6]


def missing(rules: TypicalCaseRules, stated: Mapping[str, object]) -> str | None:
    """The first required field a case leaves empty, or ``None``."""
    for name in rules.required:
        value = stated.get(name)
        if not value or (isinstance(value, str) and not value.strip()):
            return name
    return None
