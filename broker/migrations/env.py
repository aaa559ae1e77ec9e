"""Alembic environment: runs on the connection the broker hands in (broker.kernel.db.upgrade)."""

from alembic import context
from sqlalchemy import create_engine

from tongdao.broker.schema import Base, is_search_index_object

config = context.config
target_metadata = Base.metadata


def _include_name(name, type_, parent_names):  # type: ignore[no-untyped-def]
    """Autogenerate ignores the full-text objects migration 0005 creates by hand."""
    return not is_search_index_object(name)


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # `alembic` command line: use sqlalchemy.url from the config
        engine = create_engine(config.get_main_option("sqlalchemy.url"), hide_parameters=True)
        with engine.begin() as conn:
            context.configure(
                connection=conn, target_metadata=target_metadata, include_name=_include_name
            )
            context.run_migrations()
        return
    context.configure(
        connection=connection, target_metadata=target_metadata, include_name=_include_name
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
