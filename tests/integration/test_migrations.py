"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tongdao.broker.catalogue.models import is_search_index_object
from tongdao.broker.kernel.db import make_engine, upgrade
from tongdao.broker.schema import Base


def test_migrations_match_models_and_are_idempotent(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    upgrade(engine)  # a second start must not fail or change anything
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"include_name": lambda name, _type, _parents: not is_search_index_object(name)},
        )
        diff = compare_metadata(context, Base.metadata)
        assert diff == [], diff
        tables = set(inspect(conn).get_table_names())
    expected = {"departments", "catalogue_entries", "share_requests", "grants", "ledger_entries"}
    assert expected <= tables
    engine.dispose()
