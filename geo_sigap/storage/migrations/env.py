"""Alembic environment: uses the connection handed over by geo_sigap.storage.migrate."""

from __future__ import annotations

from alembic import context

from geo_sigap.storage.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # `alembic` CLI: build an engine from GEO_SIGAP_DATABASE_URL
        from geo_sigap.settings import Settings
        from geo_sigap.storage.engine import make_engine

        engine, _ = make_engine(Settings().database_url)
        with engine.begin() as connection:
            _run(connection)
        return
    _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
