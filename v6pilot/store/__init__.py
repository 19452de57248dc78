"""The database: inventory, scan runs and results, goals and schedules (SQLite or PostgreSQL).

`open_store()` opens and migrates it; repository functions live in `assets`, `runs`, `goals`
and `schedules`, each taking a session from `Store.transaction()`.
"""

from v6pilot.store.db import Store, database_url, open_store
from v6pilot.store.errors import StoreError

__all__ = ["Store", "StoreError", "database_url", "open_store"]
