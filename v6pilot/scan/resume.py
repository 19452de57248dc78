"""Resumable scans: a run is recorded with its settings and planned targets before the first
packet, so a scan killed at any moment (even by SIGKILL) is finished by running it again.

The database is the source of truth: a target is done when its result is saved (results are
saved whole, in committed batches, once per target). Resuming scans the planned targets that
have no result yet; the JSON-lines output, if any, is repaired and continued so that it too
ends with every target exactly once. A run ends `finished` only when every planned target
has a result.

    recorded = start_run(store, plan, concurrency=100)        # or resume_run(store, run_id)
    recorded.run(out=Path("results.jsonl"), on_each=advance)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from v6pilot.checks.context import Target
from v6pilot.checks.registry import checks_for
from v6pilot.net.polite import Limits
from v6pilot.scan import session as scan_session
from v6pilot.scan.output import JsonLinesAppender, OutputError, ResultWriter, open_run_writer
from v6pilot.scan.session import NetworkConfig, NetworkFactory, ScanError, ScanPlan
from v6pilot.scoring.rubric import load_rubric
from v6pilot.store.db import Store
from v6pilot.store.models import RunStatus
from v6pilot.store.recorder import COMMIT_EVERY, COMMIT_SECONDS, RunRecorder
from v6pilot.store.runs import (
    add_run_targets,
    create_run,
    done_targets,
    get_run,
    iter_results,
    planned_targets,
)


@dataclass
class RecordedScan:
    """A run recorded with its plan, and what it still has to scan."""

    store: Store
    run_id: int
    plan: ScanPlan
    """The run's settings; `targets` are the planned ones without a result yet."""
    planned: int
    concurrency: int
    fresh: bool
    """A new run: its output file is started afresh rather than continued."""
    finished: bool
    """The run is already `finished` (then nothing remains to scan)."""

    @property
    def remaining(self) -> int:
        """How many targets are left to scan."""
        return len(self.plan.targets)

    def run(
        self,
        *,
        out: Path | None = None,
        on_each: Callable[[], None] = lambda: None,
        network: NetworkFactory | None = None,
        commit_every: int = COMMIT_EVERY,
        commit_seconds: float = COMMIT_SECONDS,
        processes: int = 1,
    ) -> int:
        """Scan the remaining targets into the run (and into `out`: any format for a new run,
        .jsonl only when resuming); the number scanned. `network` as in `session.run`."""
        writers = [] if out is None else [self._open_output(out)]
        try:
            if not (self.finished and not self.plan.targets):
                writers.append(
                    RunRecorder.resume(
                        self.store,
                        self.run_id,
                        asset_ids=self.plan.asset_ids,
                        commit_every=commit_every,
                        commit_seconds=commit_seconds,
                    )
                )
        except BaseException:
            _close(writers)
            raise
        if not self.plan.targets:
            _close(writers)
            return 0
        return scan_session.run(
            self.plan,
            concurrency=self.concurrency,
            writers=writers,
            on_each=on_each,
            network=network,
            processes=processes,
        )

    def _open_output(self, out: Path) -> ResultWriter:
        """The run's output file: new for a new run, else continued and completed."""
        check_ids = [c.id for c in checks_for(self.plan.options.profile)]
        output = open_run_writer(out, check_ids, fresh=self.fresh)
        if isinstance(output, JsonLinesAppender) and not self.fresh:
            try:
                self._complete_output(output)
            except BaseException:
                output.close()
                raise
        return output

    def _complete_output(self, output: JsonLinesAppender) -> None:
        """Refuse a file holding other targets; append the saved results it lacks."""
        with self.store.transaction() as session:
            planned = {target.url for target in planned_targets(session, self.run_id)}
            foreign = sorted(output.written - planned)
            if foreign:
                raise OutputError(
                    f"{output.path} holds results of targets run {self.run_id} did not plan "
                    f"(e.g. {foreign[0]}); continue the run's own output file"
                )
            for saved in iter_results(session, self.run_id):
                output.write(saved.result)


def _close(writers: list[ResultWriter]) -> None:
    """Close every writer (each decides what an unfinished scan means)."""
    for writer in writers:
        writer.close()


def unique_targets(targets: Iterable[Target]) -> list[Target]:
    """`targets` in order, once each by URL (the first one given wins)."""
    first: dict[str, Target] = {}
    for target in targets:
        first.setdefault(target.url, target)
    return list(first.values())


def _resolver_text(address: str, port: int) -> str:
    """A resolver as `--resolver` takes it."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def run_settings(plan: ScanPlan, concurrency: int) -> dict[str, Any]:
    """What a run must remember to be resumed: stored as the run's `options`."""
    network = plan.network
    return {
        "scan": scan_session.options_to_json(plan.options),
        "network": {
            "resolvers": [_resolver_text(a, p) for a, p in network.resolvers],
            "root_hints": str(network.root_hints) if network.root_hints else None,
            "ca_file": str(network.ca_file) if network.ca_file else None,
            "netns": network.netns,
        },
        "limits": network.limits.to_dict() if network.limits else None,
        "rubric_file": str(plan.rubric_file) if plan.rubric_file else None,
        "concurrency": concurrency,
    }


def _network(
    stored: dict[str, Any], limits: dict[str, Any] | None, url: str | None
) -> NetworkConfig:
    """The stored network settings, validated again (a namespace may be gone by now)."""

    def path(key: str) -> Path | None:
        return Path(stored[key]) if stored.get(key) else None

    return scan_session.network_config(
        list(stored.get("resolvers", [])),
        path("root_hints"),
        path("ca_file"),
        stored.get("netns"),
        limits=Limits.from_dict(limits) if limits is not None else None,
        limiter_url=url,
    )


def start_run(
    store: Store, plan: ScanPlan, *, concurrency: int, note: str | None = None
) -> RecordedScan:
    """Record a new run with its settings and targets (once each by URL) in one transaction,
    ready to be scanned by `RecordedScan.run`."""
    targets = unique_targets(plan.targets)
    with store.transaction() as session:
        run_id = create_run(
            session,
            profile=plan.options.profile,
            rubric=plan.rubric.name,
            options=run_settings(plan, concurrency),
            note=note,
        ).id
        add_run_targets(
            session,
            run_id,
            (
                {"raw": t.raw, "host": t.host, "url": t.url, "asset_id": plan.asset_ids.get(t.url)}
                for t in targets
            ),
        )
    recorded = replace(plan, targets=targets)
    return RecordedScan(store, run_id, recorded, len(targets), concurrency, True, False)


def resume_run(
    store: Store,
    run_id: int,
    *,
    concurrency: int | None = None,
    limiter_url: str | None = None,
) -> RecordedScan:
    """Run `run_id` as recorded by `start_run`, with the targets it has no result for yet;
    `concurrency` overrides the stored one, `limiter_url` is the shared limiter (not stored:
    it may hold a password). A ScanError when the run cannot be resumed."""
    with store.transaction() as session:
        stored = get_run(session, run_id)
        profile, rubric, settings = stored.profile, stored.rubric, dict(stored.options)
        finished = stored.status is RunStatus.FINISHED
        done = done_targets(session, run_id)
        planned = 0
        targets: list[Target] = []
        asset_ids: dict[str, int] = {}
        for row in planned_targets(session, run_id):
            planned += 1
            if row.url in done:
                continue
            targets.append(Target(row.raw, row.host, row.url))
            if row.asset_id is not None:
                asset_ids[row.url] = row.asset_id
    if not planned or "scan" not in settings:
        raise ScanError(f"run {run_id} was not recorded with its plan, so it cannot be resumed")
    rubric_file = Path(settings["rubric_file"]) if settings.get("rubric_file") else None
    plan = ScanPlan(
        targets=targets,
        problems=[],
        options=scan_session.options_from_json({**settings["scan"], "profile": profile}),
        rubric=load_rubric(rubric_file),
        network=_network(settings.get("network", {}), settings.get("limits"), limiter_url),
        asset_ids=asset_ids,
        rubric_file=rubric_file,
    )
    if plan.rubric.name != rubric:
        raise ScanError(
            f"run {run_id} was scored with rubric {rubric!r}, but {rubric_file or 'the default'} "
            f"is now {plan.rubric.name!r}"
        )
    chosen = concurrency or int(settings["concurrency"])
    return RecordedScan(store, run_id, plan, planned, chosen, False, finished)
