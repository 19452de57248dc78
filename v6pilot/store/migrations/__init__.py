"""Alembic migrations of the v6pilot database, run by `open_store` (see `v6pilot.store.db`)."""
