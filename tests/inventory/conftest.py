"""Storage fixtures for import and export tests: `store`, once per backend."""

from tests.store.backends import session_store, store

__all__ = ["session_store", "store"]
