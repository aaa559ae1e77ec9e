"""The catalogue context's service API: one object, assembled from its focused parts.

Other contexts use the catalogue only through this class (for example sharing reads a
published entry with :meth:`CatalogueService.published_content`), never its tables.
"""

from __future__ import annotations

from dataclasses import dataclass

from tongdao.broker.catalogue.lifecycle import CatalogueLifecycle
from tongdao.broker.catalogue.lookup import CatalogueLookup
from tongdao.broker.catalogue.revocation import CatalogueRevocation
from tongdao.broker.catalogue.transfer import CatalogueTransfer


@dataclass(kw_only=True)
class CatalogueService(CatalogueLifecycle, CatalogueRevocation, CatalogueLookup, CatalogueTransfer):
    """Lifecycle, revocation, search and import/export of catalogue entries."""
