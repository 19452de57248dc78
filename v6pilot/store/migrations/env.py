"""Alembic environment: migrate the connection handed over by `v6pilot.store.db`, or the
database at the configured `sqlalchemy.url`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from v6pilot.store.models import Base


def migrate(connection: Connection) -> None:
    """Run the pending migrations on `connection` in one transaction."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    """Use the shared connection when there is one, else open the configured URL."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        migrate(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: set sqlalchemy.url or pass a connection")
    with create_engine(url).begin() as own:
        migrate(own)


run()
