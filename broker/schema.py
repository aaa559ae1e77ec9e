"""The broker's whole schema: every context's tables on the one declarative base (Alembic's
target metadata; see broker/migrations)."""

from __future__ import annotations

from tongdao.broker.cases import models as _cases
from tongdao.broker.catalogue import models as _catalogue
from tongdao.broker.catalogue.models import is_search_index_object
from tongdao.broker.directory import models as _directory
from tongdao.broker.disputes import models as _disputes
from tongdao.broker.kernel.base import Base
from tongdao.broker.ledger import models as _ledger
from tongdao.broker.opendata import models as _opendata
from tongdao.broker.sharing import models as _sharing
from tongdao.broker.supervision import models as _supervision

CONTEXT_MODELS = (
    _directory,
    _catalogue,
    _sharing,
    _supervision,
    _disputes,
    _cases,
    _opendata,
    _ledger,
)
"""The modules that declare tables, imported so ``Base.metadata`` holds every table."""

__all__ = ["CONTEXT_MODELS", "Base", "is_search_index_object"]
