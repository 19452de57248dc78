"""The databases storage tests run against: SQLite files and PostgreSQL schemas. One migrated
database per backend serves the whole session, emptied before each test; migration tests get
a fresh empty one. PostgreSQL comes from `$V6PILOT_TEST_PG`; unreachable, its tests skip."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from v6pilot.store import Store, database_url, open_store
from v6pilot.store.models import Base

BACKENDS = ("sqlite", "postgresql")
POSTGRES_ENV = "V6PILOT_TEST_PG"
POSTGRES_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    return os.environ.get(POSTGRES_ENV) or POSTGRES_DEFAULT


@cache
def postgres_unreachable(url: str) -> str | None:
    """Why PostgreSQL at `url` cannot be used, or None when it can."""
    engine = create_engine(database_url(url), connect_args={"connect_timeout": 3})
    try:
        engine.connect().close()
    except OperationalError as exc:
        return str(exc.orig).strip()
    finally:
        engine.dispose()
    return None


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL whose connections work in a new, empty schema, dropped afterwards."""
    url = postgres_url()
    reason = postgres_unreachable(url)
    if reason is not None:
        pytest.skip(f"PostgreSQL at {url} (${POSTGRES_ENV}) is not reachable: {reason}")
    schema = f"v6p_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database_url(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text("SET lock_timeout = '5s'"))
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@contextmanager
def empty_database(backend: str, factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a new, empty database of `backend`."""
    if backend == "sqlite":
        yield f"sqlite:///{factory.mktemp('store') / 'v6pilot.db'}"
    else:
        with postgres_schema() as url:
            yield url


def empty_tables(store: Store) -> None:
    """Delete every row (and restart PostgreSQL's id sequences), keeping the schema."""
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    with store.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL lock_timeout = '5s'"))
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(params=BACKENDS)
def empty_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A new, empty (not migrated) database of each backend."""
    with empty_database(request.param, tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="session", params=BACKENDS)
def session_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """One migrated store of each backend for the whole test session."""
    with empty_database(request.param, tmp_path_factory) as url, open_store(url) as store:
        yield store


@pytest.fixture
def store(session_store: Store) -> Store:
    """A migrated store of each backend with no rows in it."""
    empty_tables(session_store)
    return session_store
