"""Finding entries (CAT-8, OPN-1): search, matching a need, the open catalogue for departments
and for the public. The engine is :mod:`tongdao.broker.catalogue.search`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from tongdao.broker.catalogue.base import OPEN_TYPES, SHARE_TYPES, CatalogueBase
from tongdao.broker.catalogue.search import match as match_entries
from tongdao.broker.catalogue.search import open_catalogue
from tongdao.broker.catalogue.search import search as search_entries
from tongdao.broker.catalogue.search_index import TAGS
from tongdao.broker.catalogue.search_ranking import SearchFilters, SearchHit
from tongdao.broker.kernel import validation as v
from tongdao.broker.kernel.context import AUTHORITY
from tongdao.policies.i18n import msg
from tongdao.proto.errors import InvalidArgument


class CatalogueLookup(CatalogueBase):
    """Search, matching and the open catalogue."""

    def _require_caller(self, session: Session, caller: str) -> None:
        if caller != AUTHORITY:
            self.directory.require_registered(session, caller)

    def _filters(self, filters: SearchFilters) -> SearchFilters:
        if filters.provider:
            v.code(filters.provider, "filters.provider")
        if filters.region:
            v.region(filters.region, "filters.region")
        checks = (
            (filters.share_type, SHARE_TYPES, "filters.share_type"),
            (filters.open_type, OPEN_TYPES, "filters.open_type"),
            (filters.tag, TAGS, "filters.tag"),
            (filters.grade, tuple(self.policy.grades), "filters.grade"),
        )
        for value, allowed, name in checks:
            if value and value not in allowed:
                raise InvalidArgument(msg("must be one of {v1}", v1=", ".join(allowed)), field=name)
        return filters

    def search_catalogue(
        self,
        session: Session,
        caller: str,
        query: str,
        filters: SearchFilters,
        *,
        limit: int = 20,
        offset: int = 0,
    ) -> tuple[list[SearchHit], bool]:
        """Ranked full-text search of the entries in force (CAT-8); see broker.catalogue.search.

        Raises:
            InvalidArgument: a malformed filter or an over-long query.
            PermissionDenied: an unregistered caller.
        """
        self._require_caller(session, caller)
        query = v.text(query, "query", required=False, max_len=500)
        v.bounded_int(limit, "limit", low=0, high=200)
        v.bounded_int(offset, "offset", low=0, high=1_000_000)
        return search_entries(
            session,
            query,
            self._filters(filters),
            today=self.today(),
            limit=limit or 20,
            offset=offset,
        )

    def match_catalogue(
        self,
        session: Session,
        caller: str,
        need: str,
        items: Sequence[str],
        filters: SearchFilters,
        *,
        limit: int = 10,
    ) -> list[SearchHit]:
        """The entries that best answer a need and the data items wanted (CAT-8, Art.11)."""
        self._require_caller(session, caller)
        need = v.text(need, "need", required=False, max_len=1000)
        if len(items) > v.MAX_ITEMS:
            raise InvalidArgument(
                msg("names more than {MAX_ITEMS} items", MAX_ITEMS=v.MAX_ITEMS), field="items"
            )
        items = [v.text(i, "items", max_len=200) for i in items]
        if not need and not items:
            raise InvalidArgument(msg("state a need or at least one data item"), field="need")
        v.bounded_int(limit, "limit", low=0, high=200)
        return match_entries(
            session, need, items, self._filters(filters), today=self.today(), limit=limit or 10
        )

    def open_catalogue(
        self,
        session: Session,
        caller: str,
        *,
        provider: str = "",
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[tuple[Any, dict[str, Any]]], bool]:
        """The open catalogue (OPN-1): derived from the entries in force at every call."""
        self._require_caller(session, caller)
        return self.public_open_catalogue(session, provider=provider, limit=limit, offset=offset)

    def public_open_catalogue(
        self, session: Session, *, provider: str = "", limit: int = 100, offset: int = 0
    ) -> tuple[list[tuple[Any, dict[str, Any]]], bool]:
        """The open catalogue as anyone may see it (OPN-1, Art.32): no caller identity needed.

        Raises:
            InvalidArgument: a malformed provider code or an out-of-range page.
        """
        if provider:
            v.code(provider, "provider")
        v.bounded_int(limit, "limit", low=0, high=1000)
        v.bounded_int(offset, "offset", low=0, high=1_000_000)
        return open_catalogue(
            session,
            today=self.today(),
            provider=provider,
            limit=limit or 100,
            offset=offset,
            exclude=self.open_withdrawn(session),
        )
