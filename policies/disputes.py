"""Disputes between a data user and a data provider (SHR-6, Art.25): who handles them, in order.

Pure rules, no I/O: the broker's disputes context asks :func:`route` where a new dispute goes and
:func:`next_stage` where an unresolved one goes next, and records what they return.

Art.25: parties at the same level settle between themselves first; failing that, the data
authority at their level coordinates; a dispute across regions or levels goes to the provincial
authority; what coordination cannot settle, the authority refers to the data coordination
mechanism (数据工作协调机制) at its own level, whose outcome the authority records.
"""

from __future__ import annotations

from dataclasses import dataclass

from tongdao.policies.i18n import msg

SAME_LEVEL = "same_level"
PROVINCIAL = "provincial"
COORDINATION = "coordination"
STAGES = (SAME_LEVEL, PROVINCIAL, COORDINATION)
SUBJECT_KINDS = ("share_request", "grant", "correction", "finding")


@dataclass(frozen=True)
class DisputeRules:
    """``[disputes]`` in the rule file.

    Attributes:
        article: the article disputes rest on (Art.25).
        subjects: what a dispute may be about (a subset of :data:`SUBJECT_KINDS`).
        handling_clock: the deadline (``[deadlines.*]``) an authority has to coordinate.
        coordination_clock: the deadline the coordination mechanism has to settle it.
    """

    article: str
    subjects: tuple[str, ...]
    handling_clock: str
    coordination_clock: str


@dataclass(frozen=True)
class Party:
    """One side of a dispute, as the directory knows it."""

    code: str
    region: str
    level: str


@dataclass(frozen=True)
class Routing:
    """Where a dispute goes: the stage, the region whose authority handles it, and why."""

    stage: str
    region: str
    reason: str
    article: str


def province_of(region: str) -> str:
    """The provincial region code of a GB/T 2260 code (``230102`` → ``230000``)."""
    return region[:2] + "0000"


def route(rules: DisputeRules, a: Party, b: Party) -> Routing:
    """The first handler of a dispute between ``a`` and ``b`` (Art.25).

    Same region and same level: the data authority of that region. Across regions or levels:
    the provincial authority of the province the parties are in (of the first party's when the
    parties are in different provinces, which a provincial broker does not see).
    """
    if a.region == b.region and a.level == b.level:
        return Routing(
            SAME_LEVEL,
            a.region,
            msg(
                "both parties are {level} departments of region {region}",
                level=_level(a.level),
                region=a.region,
            ),
            rules.article,
        )
    levels = {
        "a_region": a.region,
        "a_level": _level(a.level),
        "b_region": b.region,
        "b_level": _level(b.level),
    }
    reason = (
        msg(
            "the parties are of different regions ({a_region} {a_level}, {b_region} {b_level})",
            **levels,
        )
        if a.region != b.region
        else msg(
            "the parties are of different levels ({a_region} {a_level}, {b_region} {b_level})",
            **levels,
        )
    )
    return Routing(
        PROVINCIAL,
        province_of(a.region),
        reason,
        rules.article,
    )


def _level(level: str) -> str:
    """A department's administrative level as words of the message catalogue."""
    if level == "province":
        return msg("province-level")
    if level == "city":
        return msg("city-level")
    if level == "county":
        return msg("county-level")
    return level


def next_stage(rules: DisputeRules, stage: str) -> str | None:
    """Where a dispute goes when its handler cannot settle it: the coordination mechanism after
    an authority's coordination; nowhere after the coordination mechanism (``None``)."""
    if stage not in STAGES:
        raise ValueError(f"unknown dispute stage {stage!r}")
    return None if stage == COORDINATION else COORDINATION


def clock_for(rules: DisputeRules, stage: str) -> str:
    """The deadline that runs while a dispute is at ``stage``."""
    return rules.coordination_clock if stage == COORDINATION else rules.handling_clock
