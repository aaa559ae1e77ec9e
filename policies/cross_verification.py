"""Cross-verification (交叉核验, SHR-5, Art.24): the rule file's limits. Pure data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CrossVerificationRules:
    """``[cross_verification]`` in the rule file.

    Attributes:
        article: the article the check rests on (Art.24).
        max_keys: the most record keys one run may check.
        notice_clock: the deadline a correction notice starts (a ``[deadlines]`` kind).
    """

    article: str
    max_keys: int
    notice_clock: str
