"""What a catalogue entry must state before review, and who reviews it (CAT-1, CAT-4, CAT-5).

Pure rules, no I/O. Art.13 names the basic information of an entry (数据项、提供部门、数据格式、
更新频率以及共享类型、共享条件、开放类型、开放条件); Art.14 adds classification and grading
(分类分级). Art.12: a department's entries are reviewed by the data authority of its own level;
a city's or county's catalogue then by the authority one level up before it is published.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ENTRY_FIELDS = ("data_format", "update_frequency", "item_descriptions", "classification", "grade")
"""Fields the rule file may require of an entry submitted for review (share and open types,
data items and the provider are always required)."""
REVIEW_STEPS = ("same_level", "next_level")
FIELD_ARTICLE = {
    "data_format": "Art.13",
    "update_frequency": "Art.13",
    "item_descriptions": "Art.13",
    "classification": "Art.14",
    "grade": "Art.14",
}


@dataclass(frozen=True)
class CatalogueRules:
    """``[catalogue]`` in the rule file.

    Attributes:
        required: which of :data:`ENTRY_FIELDS` an entry must state to be submitted.
        review_chain: the review steps, in order (of :data:`REVIEW_STEPS`); a step whose
            authority is not registered is skipped.
        review_article: the article the review rests on (Art.12).
    """

    required: tuple[str, ...]
    review_chain: tuple[str, ...]
    review_article: str


DEFAULT_CATALOGUE_RULES = CatalogueRules((), ("next_level",), "Art.12")
"""Without a ``[catalogue]`` table: nothing beyond the always-required fields; one review, one
level up."""


def missing_fields(rules: CatalogueRules, content: Mapping[str, Any]) -> list[str]:
    """The required fields ``content`` (an entry's stored content) leaves empty, in rule order."""
    out = []
    for name in rules.required:
        if name == "item_descriptions":
            items = content.get("data_items") or []
            if any(not str(item.get("description", "")).strip() for item in items):
                out.append(name)
        elif not str(content.get(name, "") or "").strip():
            out.append(name)
    return out


def review_regions(rules: CatalogueRules, region: str, level: str) -> list[tuple[str, str]]:
    """(step, region code whose authority performs it) for a provider of ``level`` in
    ``region``, in the rule file's order. A province department has no next level."""
    province, city = region[:2] + "0000", region[:4] + "00"
    up = {"county": city, "city": province, "province": ""}[level]
    out = []
    for step in rules.review_chain:
        target = region if step == "same_level" else up
        if target:
            out.append((step, target))
    return out
