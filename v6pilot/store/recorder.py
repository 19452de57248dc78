"""Recording a scan into the database as its results arrive, in small batched transactions."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from v6pilot.store.db import Store
from v6pilot.store.models import RunStatus
from v6pilot.store.runs import (
    count_missing,
    count_planned,
    create_run,
    done_targets,
    finish_run,
    reopen_run,
    save_result,
)

COMMIT_EVERY = 200
COMMIT_SECONDS = 2.0


class RunRecorder:
    """A result writer that stores every contract line of one run, linked to its asset.

    Results are committed in batches (every `commit_every` results or `commit_seconds`), so a
    crash loses at most one batch and nothing is half-written. Closing finishes the run:
    `finished` when every expected target was saved, `failed` with a note otherwise. A run
    recorded with its planned targets (`store.runs.add_run_targets`) counts as complete when
    each of them has a result, however many processes it took (see `resume`).
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
        commit_every: int = COMMIT_EVERY,
        commit_seconds: float = COMMIT_SECONDS,
    ) -> None:
        with store.transaction() as session:
            run_id = create_run(
                session, profile=profile, rubric=rubric, options=options, note=note
            ).id
        self._attach(store, run_id, expected, 0, asset_ids, commit_every, commit_seconds)

    @classmethod
    def resume(
        cls,
        store: Store,
        run_id: int,
        *,
        asset_ids: Mapping[str, int] | None = None,
        commit_every: int = COMMIT_EVERY,
        commit_seconds: float = COMMIT_SECONDS,
    ) -> RunRecorder:
        """A recorder for the rest of run `run_id`, which is `running` again; its profile,
        options and planned targets are kept, and the results already saved count."""
        with store.transaction() as session:
            reopen_run(session, run_id)
            expected = count_planned(session, run_id)
            saved = len(done_targets(session, run_id))
        recorder = cls.__new__(cls)
        recorder._attach(store, run_id, expected, saved, asset_ids, commit_every, commit_seconds)
        return recorder

    def _attach(
        self,
        store: Store,
        run_id: int,
        expected: int,
        saved: int,
        asset_ids: Mapping[str, int] | None,
        commit_every: int,
        commit_seconds: float,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.expected = expected
        self.saved = saved
        self.asset_ids = dict(asset_ids or {})
        self.commit_every = commit_every
        self.commit_seconds = commit_seconds
        self._pending: list[dict[str, Any]] = []
        self._last_commit = time.monotonic()

    def write(self, result: dict[str, Any]) -> None:
        self._pending.append(result)
        if (
            len(self._pending) >= self.commit_every
            or time.monotonic() - self._last_commit > self.commit_seconds
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
        with self.store.transaction() as session:
            planned = count_planned(session, self.run_id)
            if planned:
                missing = count_missing(session, self.run_id)
                note = f"interrupted with {missing} of {planned} targets left"
            else:
                missing = max(self.expected - self.saved, 0)
                note = f"interrupted after {self.saved} of {self.expected} targets"
            if missing:
                finish_run(session, self.run_id, status=RunStatus.FAILED, note=note)
            else:
                finish_run(session, self.run_id, status=RunStatus.FINISHED)
