"""Opening the database: which URL, an engine tuned per backend, migrations to the newest
schema, and sessions that each run in one transaction."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from v6pilot.store.errors import StoreError

ENV_VAR = "V6PILOT_DB"
MIGRATIONS = Path(__file__).parent / "migrations"
POSTGRES_DRIVER = "postgresql+psycopg"


def default_database_path() -> Path:
    """`$XDG_DATA_HOME/v6pilot/v6pilot.db`, by default under `~/.local/share`."""
    data_home = os.environ.get("XDG_DATA_HOME", "")
    base = Path(data_home) if os.path.isabs(data_home) else Path.home() / ".local" / "share"
    return base / "v6pilot" / "v6pilot.db"


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"{url!r} is not a database URL: {exc}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername=POSTGRES_DRIVER)
    return parsed


def database_url(url: str | None = None) -> str:
    """The database to use: `url`, else `$V6PILOT_DB`, else the default SQLite file (its
    folder created); plain `postgresql://` URLs get the psycopg 3 driver."""
    chosen = url or os.environ.get(ENV_VAR)
    if not chosen:
        path = default_database_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    return _parse(chosen).render_as_string(hide_password=False)


def _sqlite_transactions(engine: Engine) -> None:
    """Make pysqlite transactional for DDL and reads too, and enforce foreign keys."""

    @event.listens_for(engine, "connect")
    def connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def make_engine(url: str) -> Engine:
    """An engine for `url` (already resolved by `database_url`), JSON kept readable."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    serializer = partial(json.dumps, ensure_ascii=False, default=str)
    engine = create_engine(parsed, json_serializer=serializer)
    if engine.dialect.name == "sqlite":
        _sqlite_transactions(engine)
    return engine


def migration_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the packaged migrations, bound to `connection` if given
    (`alembic.command.revision(config, autogenerate=True)` writes a new revision with it)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest revision the packaged migrations know."""
    return ScriptDirectory.from_config(migration_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to `revision` in one transaction."""
    with engine.begin() as connection:
        command.upgrade(migration_config(connection), revision)


@dataclass(frozen=True)
class Store:
    """An open database: its engine and a factory of sessions."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back if it
        raises, so nothing is ever half-written."""
        with self.sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Open the database chosen by `database_url(url)`, migrated to the newest schema."""
    resolved = database_url(url)
    engine = make_engine(resolved)
    try:
        if migrate:
            upgrade(engine)
        else:
            engine.connect().close()
    except OperationalError as exc:
        engine.dispose()
        shown = make_url(resolved).render_as_string(hide_password=True)
        raise StoreError(f"cannot open the database {shown}: {exc.orig}") from exc
    return Store(resolved, engine, sessionmaker(engine, expire_on_commit=False))
