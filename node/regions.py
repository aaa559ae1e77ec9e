"""Regions (SHR-1): a grant scoped to regions is answered from the records inside them only.

A node maps one column of an entry to administrative region codes in its configuration
(``region_field``, and optionally ``[entries.region_codes]`` from the column's values to codes,
e.g. ``"南岗区" = "230103"``; without it the column holds the codes). Under a grant that names
regions, every engine sees the source through :class:`RegionScopedSource`: a record whose
region is not inside one of the grant's regions (a code covers its sub-regions: 230000 ⊃
230100 ⊃ 230103) does not exist for that query — a fetch answers "not found", an aggregate or
an intersection leaves it out — so the answer does not tell whether such a record exists. A
record whose region column is empty or unmapped is outside every region (fail closed). A grant
with regions on an entry whose region column this node does not know is refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from tongdao.crypto.grant_token import GrantClaims
from tongdao.node.adapters import DataSource
from tongdao.policies.engine import in_regions
from tongdao.policies.i18n import msg
from tongdao.proto.errors import FailedPrecondition, PermissionDenied

if TYPE_CHECKING:
    from tongdao.node.engine import ServedEntry
    from tongdao.node.engines import AggregateQuery


class RegionScopedSource:
    """A source restricted to the records inside some regions (a :class:`DataSource`)."""

    def __init__(
        self,
        source: DataSource,
        region_field: str,
        codes: Mapping[str, str],
        regions: Sequence[str],
    ) -> None:
        self._source = source
        self._field = region_field
        self._codes = codes
        self._regions = tuple(regions)
        self._index = list(source.columns).index(region_field)

    def _inside(self, value: str) -> bool:
        code = self._codes.get(value, value) if self._codes else value
        return bool(code) and in_regions(code, self._regions)

    @property
    def columns(self) -> Sequence[str]:
        return self._source.columns

    def lookup(self, key: str) -> dict[str, str] | None:
        row = self._source.lookup(key)
        return row if row is not None and self._inside(row.get(self._field, "")) else None

    def count(self) -> int:
        return sum(1 for _ in self.rows())

    def rows(self) -> Iterator[dict[str, str]]:
        return (r for r in self._source.rows() if self._inside(r.get(self._field, "")))

    def project(self, names: Sequence[str]) -> Iterator[tuple[str, ...]]:
        width = len(names)
        for row in self._source.project([*names, self._field]):
            if self._inside(row[width]):
                yield row[:width]


def within_regions(entry: ServedEntry, claims: GrantClaims, article: str) -> ServedEntry:
    """The entry as a query under ``claims`` may see it: all of it for a grant without regions,
    else only the records inside the grant's regions.

    Raises:
        FailedPrecondition: the grant names regions and this node maps no column of the entry
            to region codes.
    """
    if not claims.regions:
        return entry
    if not entry.region_field:
        raise FailedPrecondition(
            msg(
                "the grant is limited to regions {v1}, and this node maps no "
                "column of entry {code} to region codes (region_field)",
                v1=", ".join(claims.regions),
                code=entry.code,
            ),
            field="grant_token",
            articles=(article,),
        )
    scoped = RegionScopedSource(
        entry.source, entry.region_field, entry.region_codes, claims.regions
    )
    return dataclasses.replace(entry, source=scoped)


def check_region_filter(
    entry: ServedEntry, claims: GrantClaims, q: AggregateQuery, article: str
) -> None:
    """An aggregate under a grant with regions may not filter its region column on a region
    outside them (decided on the query alone, never on the data).

    Raises:
        PermissionDenied: naming the region outside the grant's regions.
    """
    if not claims.regions or not entry.region_field or q.filter_field != entry.region_field:
        return
    value = q.filter_value
    if q.filter_op == "prefix":
        codes = [str(value).ljust(6, "0")] if not entry.region_codes else [""]
    else:
        values = value if q.filter_op == "in" and isinstance(value, list) else [value]
        codes = [
            entry.region_codes.get(str(v), str(v)) if entry.region_codes else str(v) for v in values
        ]
    for code in codes:
        if not code or not in_regions(code, claims.regions):
            raise PermissionDenied(
                msg(
                    "region {v1!r} is outside the grant's regions ({v3})",
                    v1=code or value,
                    v3=", ".join(claims.regions),
                ),
                field="sealed_query.filter",
                articles=(article,),
            )
