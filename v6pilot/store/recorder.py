"""Recording a scan into the database as its results arrive, in small batched transactions."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from v6pilot.store.db import Store
from v6pilot.store.models import RunStatus
from v6pilot.store.runs import create_run, finish_run, save_result

COMMIT_EVERY = 200
COMMIT_SECONDS = 2.0


class RunRecorder:
    """A result writer that stores every contract line of one run, linked to its asset.

    Results are committed in batches (every COMMIT_EVERY results or COMMIT_SECONDS), so a crash
    loses at most one batch and nothing is half-written. Closing finishes the run: `finished`
    when every expected target was saved, `failed` with a note otherwise.
    """

    def __init__(
        self,
        store: Store,
        *,
        profile: str,
        rubric: str,
        expected: int,
        asset_ids: Mapping[str, int] | None = None,
        options: Mapping[str, Any] | None = None,
        note: str | None = None,
    ) -> None:
        self.store = store
        self.expected = expected
        self.asset_ids = dict(asset_ids or {})
        self.saved = 0
        self._pending: list[dict[str, Any]] = []
        self._last_commit = time.monotonic()
        with store.transaction() as session:
            self.run_id = create_run(
                session, profile=profile, rubric=rubric, options=options, note=note
            ).id

    def write(self, result: dict[str, Any]) -> None:
        self._pending.append(result)
        if (
            len(self._pending) >= COMMIT_EVERY
            or time.monotonic() - self._last_commit > COMMIT_SECONDS
        ):
            self._flush()

    def _flush(self) -> None:
        with self.store.transaction() as session:
            for result in self._pending:
                save_result(session, self.run_id, result, self.asset_ids.get(result["url"]))
        self.saved += len(self._pending)
        self._pending.clear()
        self._last_commit = time.monotonic()

    def close(self) -> None:
        self._flush()
        complete = self.saved >= self.expected
        note = None if complete else f"interrupted after {self.saved} of {self.expected} targets"
        with self.store.transaction() as session:
            status = RunStatus.FINISHED if complete else RunStatus.FAILED
            finish_run(session, self.run_id, status=status, note=note)
