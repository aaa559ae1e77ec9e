"""Grades come from the catalogue (PRIV-6): the node masks and refuses by the grades the grant
carries, signed by the broker, for the published catalogue entry version it names.

The node's own configuration also grades each column it serves (so that it can start, check its
sources and refuse an ungraded column). When the two disagree the node does not guess which is
right: it refuses to serve the entry under that grant and names the data item, so that the
provider fixes its configuration or the catalogue. A column the configuration grades but the
catalogue version does not list is simply not served (the catalogue never offered it).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from tongdao.crypto.grant_token import GrantClaims
from tongdao.policies.i18n import msg
from tongdao.proto.errors import FailedPrecondition

if TYPE_CHECKING:
    from tongdao.node.engine import ServedEntry


def under_catalogue(entry: ServedEntry, claims: GrantClaims, article: str) -> ServedEntry:
    """The served entry as the catalogue grades it, for one verified grant.

    Args:
        entry: the entry as this node's configuration describes it.
        claims: the verified grant claims (their ``grades`` are the catalogue's).
        article: the article cited on refusal.

    Returns:
        A copy of ``entry`` whose grades are the catalogue's, restricted to the columns the
        configuration grades.

    Raises:
        FailedPrecondition: the grant carries no catalogue grades, or the configuration grades a
            data item otherwise than the catalogue (the message and field name the item).
    """
    catalogue = claims.grades
    if not catalogue:
        raise FailedPrecondition(
            msg("the grant carries no catalogue grades; the broker must issue a new grant"),
            field="grant_token",
            articles=(article,),
        )
    for name in sorted(entry.grades):
        grade = catalogue.get(name)
        if grade is not None and grade != entry.grades[name]:
            raise FailedPrecondition(
                msg(
                    "this node grades data item {name!r} of entry {entry_code} as "
                    "{v5}, the catalogue (version {entry_version}) as {grade}; the "
                    "node does not serve the entry until its configuration agrees",
                    name=name,
                    entry_code=claims.entry_code,
                    v5=entry.grades[name],
                    entry_version=claims.entry_version,
                    grade=grade,
                ),
                field=f"grades.{name}",
                articles=(article,),
            )
    graded = {name: catalogue[name] for name in entry.grades if name in catalogue}
    return dataclasses.replace(entry, grades=graded)
