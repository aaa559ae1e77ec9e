"""Open data for the public (OPN-2, Art.34; OPN-3, Art.35): who a public requester must say it
is, which data items of an open entry may leave a node for the public, and the bounds of a
download. Pure rules, no I/O.

A public requester is a natural person, a legal person or an unincorporated organisation
(自然人、法人或者非法人组织). It names itself with the fields the rule file lists: its name, a
contact (telephone or e-mail) and its identity document number (a person's citizen ID number,
an organisation's unified social credit code).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

IDENTITY_FIELDS = ("name", "contact", "id_number")
"""What a public requester can state about itself."""


@dataclass(frozen=True)
class OpenDataRules:
    """``[open_data]`` in the rule file.

    Attributes:
        article: the article open-data use rests on (Art.34).
        requester_identity: which of :data:`IDENTITY_FIELDS` a public requester must state.
        open_grades: sensitivity grades whose data items an open entry serves to the public
            (masked by the grade's rule); items of other grades never leave the node for it.
        download_page_max: the most records one download returns.
        download_ticket_seconds: lifetime of the token the broker signs for one download.
        conditional_validity_days: how long an approved conditional-open request may be used.
        withdrawal_article: the article withdrawing open data rests on (Art.35).
    """

    article: str
    requester_identity: tuple[str, ...]
    open_grades: tuple[str, ...]
    download_page_max: int
    download_ticket_seconds: int
    conditional_validity_days: int
    withdrawal_article: str


def missing_identity(rules: OpenDataRules, stated: Mapping[str, str]) -> str | None:
    """The first identity field the rule file requires that ``stated`` leaves empty."""
    for name in rules.requester_identity:
        if not (stated.get(name) or "").strip():
            return name
    return None


def open_fields(rules: OpenDataRules, grades: Mapping[str, str]) -> tuple[str, ...]:
    """The data items of an entry (item → grade, in catalogue order) the public may receive."""
    return tuple(name for name, grade in grades.items() if grade in rules.open_grades)
