"""The store's error: a database that cannot be opened or a request it cannot satisfy."""

from v6pilot.errors import V6PilotError


class StoreError(V6PilotError):
    """The database is unusable, or a record asked for does not exist or already exists."""
