"""Opening the store: which URL, migrations to head on both backends, schema equal to models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, String, Table, inspect

from v6pilot.store import Store, StoreError, database_url, open_store
from v6pilot.store.db import MIGRATIONS, current_revision, head_revision
from v6pilot.store.models import Base

TABLES = {
    "regions",
    "organisations",
    "projects",
    "project_participants",
    "assets",
    "asset_projects",
    "scan_runs",
    "scan_results",
    "run_targets",
    "targets",
    "schedules",
}


def test_explicit_url_wins_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("V6PILOT_DB", "sqlite:////tmp/from-env.db")
    assert database_url("sqlite:////tmp/explicit.db") == "sqlite:////tmp/explicit.db"
    assert database_url(None) == "sqlite:////tmp/from-env.db"


def test_default_is_sqlite_under_xdg_data_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("V6PILOT_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert database_url() == f"sqlite:///{tmp_path}/data/v6pilot/v6pilot.db"
    assert (tmp_path / "data" / "v6pilot").is_dir()


def test_default_without_xdg_is_under_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("V6PILOT_DB", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert database_url() == f"sqlite:///{tmp_path}/.local/share/v6pilot/v6pilot.db"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p%40ss@db:5432/v6", "postgresql+psycopg://u:p%40ss@db:5432/v6"),
        ("postgres://db/v6", "postgresql+psycopg://db/v6"),
        ("postgresql+psycopg://db/v6", "postgresql+psycopg://db/v6"),
    ],
)
def test_postgresql_urls_use_psycopg3(given: str, expected: str) -> None:
    assert database_url(given) == expected


def test_malformed_url_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="not a database URL"):
        database_url("no url at all")


def test_unreachable_database_is_a_store_error_without_password() -> None:
    with pytest.raises(StoreError, match="cannot open the database") as caught:
        open_store("postgresql://v6p:secret@127.0.0.1:1/none?connect_timeout=2")
    assert "secret" not in str(caught.value)


def test_migrations_ship_in_the_package() -> None:
    assert (MIGRATIONS / "env.py").is_file()
    assert head_revision() == "0002"


def test_open_migrates_an_empty_database_to_head(empty_database_url: str) -> None:
    with open_store(empty_database_url, migrate=False) as unmigrated:
        assert current_revision(unmigrated.engine) is None
    with open_store(empty_database_url) as store:
        assert current_revision(store.engine) == head_revision()
        assert set(inspect(store.engine).get_table_names()) == TABLES | {"alembic_version"}


def test_reopening_a_migrated_database_keeps_it(store: Store) -> None:
    with open_store(store.url) as again:
        assert current_revision(again.engine) == head_revision()


def _differences(store: Store, metadata: MetaData) -> list[object]:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_migrated_schema_equals_the_models(store: Store) -> None:
    assert _differences(store, Base.metadata) == []


def test_schema_comparison_notices_a_difference(store: Store) -> None:
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    Table("extra", changed, Column("id", Integer, primary_key=True), Column("x", String(5)))
    differences = _differences(store, changed)
    assert [d[0] for d in differences] == ["add_table"]  # type: ignore[index]
