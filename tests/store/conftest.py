"""Storage fixtures, once per backend (SQLite, PostgreSQL): `store` (migrated, empty) and
`empty_database_url` (not migrated)."""

from tests.store.backends import empty_database_url, session_store, store

__all__ = ["empty_database_url", "session_store", "store"]
