"""The one declarative base of every broker table (one schema for SQLite and PostgreSQL).

Times are stored as timezone-aware UTC; working-day dates (due dates) as plain dates in the
calendar's zone (Asia/Shanghai). List-valued attributes are JSON arrays. Each context declares
its tables in its own ``models.py``; :mod:`tongdao.broker.schema` imports them all.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import JSON
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base of every broker table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[str]: JSON}
