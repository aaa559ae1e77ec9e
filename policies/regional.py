"""Regional delegation (SHR-4, Art.23 second paragraph) and return flow (SHR-7, Art.26): the
rule file's ``[regional]`` table. Pure rules, no I/O.

Art.23: a department may divide its data resources by administrative region, file the split with
the data authority at its level, and authorise the matching lower-level department as a whole to
accept the cross-level requests of the data users in that region.

Art.26: an upper-level department returns the data its systems collected to the lower-level
departments by territory (属地), with no extra conditions; they use it for their duties.
"""

from __future__ import annotations

from dataclasses import dataclass

ON_WITHDRAWAL = ("terminate", "keep_until_expiry")
"""What withdrawing a return-flow arrangement does to its grants."""
METHODS = ("fetch", "verify", "intersection", "intersection_size", "intersection_sum", "aggregate")
"""The query methods a grant may name."""
LEVELS = ("province", "city", "county")
"""Administrative levels, upper first."""


@dataclass(frozen=True)
class RegionalRules:
    """``[regional]`` in the rule file.

    Attributes:
        delegation_article: the article a regional split and its delegation rest on (Art.23).
        return_flow_article: the article return flow rests on (Art.26).
        return_flow_methods: the query methods a return-flow grant allows.
        return_flow_purpose: the purpose a return-flow grant is bound to (Art.26, second
            paragraph: use for the lower-level department's duties).
        return_flow_validity_days: how long a return-flow grant is valid (renewed by publishing
            the arrangement again).
        return_flow_quota: queries a return-flow grant allows.
        on_withdrawal: ``terminate`` (the arrangement's grants end when it is withdrawn) or
            ``keep_until_expiry`` (they run out at their expiry).
        withdrawal_ground: the ``[grant_status.grounds]`` ground cited when grants end.
    """

    delegation_article: str
    return_flow_article: str
    return_flow_methods: tuple[str, ...]
    return_flow_purpose: str
    return_flow_validity_days: int
    return_flow_quota: int
    on_withdrawal: str
    withdrawal_ground: str


def is_lower(level: str, than: str) -> bool:
    """Whether ``level`` is below ``than`` (county < city < province); unknown levels are not."""
    if level not in LEVELS or than not in LEVELS:
        return False
    return LEVELS.index(level) > LEVELS.index(than)
