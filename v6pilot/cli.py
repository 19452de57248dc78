"""The `v6pilot` command: parse, call, print. No measurement logic lives here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from v6pilot.errors import V6PilotError

if TYPE_CHECKING:
    from v6pilot.store.db import Store

app = typer.Typer(help="Measure, evaluate and monitor IPv6 support.", no_args_is_help=True)
lab_app = typer.Typer(help="The simulated IPv6 internet (needs root).", no_args_is_help=True)
app.add_typer(lab_app, name="lab")
console = Console()


def _fail(exc: V6PilotError) -> NoReturn:
    console.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(2)


@lab_app.command("up")
def lab_up() -> None:
    """Build the lab's namespaces and start its servers."""
    from v6pilot.lab import topology

    try:
        seconds = topology.up()
    except V6PilotError as exc:
        _fail(exc)
    console.print(f"lab up in {seconds:.1f} s; state in {topology.STATE_DIR}")
    _print_status()


@lab_app.command("down")
def lab_down() -> None:
    """Remove every namespace, process and file the lab made."""
    from v6pilot.lab import topology

    removed = topology.down()
    console.print(f"lab down: removed {len(removed)} namespace(s)")


@lab_app.command("status")
def lab_status() -> None:
    """Show each lab host and whether its services answer."""
    _print_status()


def _print_status() -> None:
    from v6pilot.lab import probe, topology

    table = Table(title="v6pilot lab")
    for column in ("host", "role", "namespace", "processes", "services"):
        table.add_column(column)
    health = probe.health() if all(h.present for h in topology.status()) else {}
    for host in topology.status():
        checks = health.get(host.name, [])
        services = ", ".join(f"{name} {'ok' if ok else 'DOWN'}" for name, ok in checks) or "-"
        table.add_row(
            host.name,
            host.role,
            "[green]up[/green]" if host.present else "[red]absent[/red]",
            str(host.processes),
            services,
        )
    console.print(table)


@lab_app.command("list")
def lab_list() -> None:
    """List the scenario catalogue with each scenario's target and expected grade."""
    from v6pilot.lab.catalogue import load_catalogue

    table = Table(title="lab scenarios")
    for column in ("id", "target", "expected grade", "title", "标题"):
        table.add_column(column)
    for scenario in load_catalogue().scenarios:
        table.add_row(
            scenario.id, scenario.target, scenario.expect.grade, scenario.title, scenario.title_zh
        )
    console.print(table)


@lab_app.command("scan")
def lab_scan(
    client: Annotated[str, typer.Option(help="dual (dual-stack client) or v6only.")] = "dual",
    profile: Annotated[str, typer.Option(help="quick, standard or full.")] = "full",
    out: Annotated[
        Path | None, typer.Option(help="Also write results (.jsonl/.csv/.xlsx).")
    ] = None,
) -> None:
    """Scan every lab scenario from a lab client and compare with the ground truth."""
    from v6pilot.checks.registry import checks_for
    from v6pilot.lab.catalogue import load_catalogue
    from v6pilot.lab.labscan import CLIENT_FAMILIES, compare, scan_lab
    from v6pilot.scan.output import open_writer

    try:
        found = scan_lab(load_catalogue(), client=client, profile=profile)
    except V6PilotError as exc:
        _fail(exc)
    table = Table(title=f"lab scan from the {client} client, profile {profile}")
    for column in ("scenario", "grade", "score", "expected", "mismatches"):
        table.add_column(column)
    mismatches = 0
    for scenario, result in sorted(found, key=lambda pair: pair[0].id):
        wrong = compare(scenario, result, CLIENT_FAMILIES[client])
        mismatches += len(wrong)
        detail = "; ".join(f"{m.item}: {m.got} (expected {m.expected})" for m in wrong)
        table.add_row(
            scenario.id,
            result["grade"],
            str(result["score"]),
            scenario.expect.grade,
            f"[red]{detail}[/red]" if wrong else "[green]none[/green]",
        )
    console.print(table)
    if out is not None:
        writer = open_writer(out, [c.id for c in checks_for(profile)])
        for _, result in found:
            writer.write(result)
        writer.close()
    console.print(f"{len(found)} scenarios, {mismatches} mismatch(es) with the ground truth")


@lab_app.command("fault")
def lab_fault(
    scenario: Annotated[str, typer.Argument(help="Scenario id, e.g. good.")],
    host: Annotated[str, typer.Option(help="Host label in the scenario's zone.")] = "www",
    family: Annotated[int, typer.Option(help="4 or 6.")] = 6,
    clear: Annotated[bool, typer.Option(help="Remove the fault again.")] = False,
) -> None:
    """Black-hole one address of a running lab (or clear that), to rehearse a regression."""
    from v6pilot.lab import topology
    from v6pilot.lab.catalogue import load_catalogue

    try:
        address = topology.set_fault(load_catalogue(), scenario, host, family, active=not clear)
    except V6PilotError as exc:
        _fail(exc)
    console.print(f"{address}: {'restored' if clear else 'black-holed'}")


Db = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: V6PILOT_DB or SQLite).")
]
Profile = Annotated[str, typer.Option(help="quick, standard or full.")]
Resolvers = Annotated[list[str] | None, typer.Option("--resolver", help="Resolver IP[:PORT].")]
RootHints = Annotated[Path | None, typer.Option(help="Root hints for the chain check.")]
CaFile = Annotated[Path | None, typer.Option(help="Extra trust anchors (PEM).")]
AllowPrivate = Annotated[
    bool, typer.Option(help="Accept special-use names and non-global addresses.")
]
Netns = Annotated[str | None, typer.Option(help="Scan from inside this network namespace.")]
Concurrency = Annotated[int, typer.Option(min=1, help="Targets scanned at once.")]
Timeout = Annotated[float, typer.Option(min=0.1, help="Seconds per network operation.")]
RubricFile = Annotated[Path | None, typer.Option(help="Scoring rubric YAML.")]
Organisation = Annotated[str | None, typer.Option(help="Only this organisation's assets.")]
Industry = Annotated[str | None, typer.Option(help="Only this industry (English or 中文).")]
City = Annotated[str | None, typer.Option(help="Only this city.")]
Province = Annotated[str | None, typer.Option(help="Only this province.")]
Project = Annotated[str | None, typer.Option(help="Only this pilot project.")]
Direction = Annotated[str | None, typer.Option(help="Only this pilot direction.")]
MetricsPort = Annotated[
    int | None, typer.Option(help="Serve Prometheus /metrics on 127.0.0.1:PORT.")
]
Broker = Annotated[str | None, typer.Option(envvar="V6PILOT_BROKER", help="Celery broker URL.")]
Queue = Annotated[str | None, typer.Option(envvar="V6PILOT_QUEUE", help="Queue name.")]


def _serve_metrics(port: int | None) -> None:
    if port is not None:
        from v6pilot.metrics import start_metrics_server

        start_metrics_server(port)


def _open_store(db: str | None) -> Store:
    from v6pilot.store.db import open_store

    try:
        return open_store(db)
    except V6PilotError as exc:
        _fail(exc)


def _asset_filter(**fields: str | None) -> Any:
    from v6pilot.store.assets import AssetFilter

    try:
        return AssetFilter.from_dict({k: v for k, v in fields.items() if v})
    except V6PilotError as exc:
        _fail(exc)


@app.command("scan")
def scan_command(
    targets: Annotated[list[str] | None, typer.Argument(help="Host names, URLs or IDNs.")] = None,
    input_file: Annotated[
        Path | None, typer.Option("-i", "--input", help=".txt, .csv or .xlsx with targets.")
    ] = None,
    profile: Profile = "standard",
    resolver: Resolvers = None,
    root_hints: RootHints = None,
    ca_file: CaFile = None,
    allow_private: AllowPrivate = False,
    netns: Netns = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Targets scanned at once (default 100).")
    ] = None,
    timeout: Timeout = 5.0,
    processes: Annotated[
        int | None, typer.Option(min=1, help="Scanner processes (default: one per core).")
    ] = None,
    rubric: RubricFile = None,
    out: Annotated[Path | None, typer.Option(help=".jsonl, .csv or .xlsx")] = None,
    db: Db = None,
    store_run: Annotated[bool, typer.Option("--store", help="Store the run in --db.")] = False,
    resume: Annotated[
        int | None, typer.Option(help="Continue the stored run with this id where it stopped.")
    ] = None,
    inventory: Annotated[bool, typer.Option(help="Scan the inventory's assets.")] = False,
    organisation: Organisation = None,
    industry: Industry = None,
    city: City = None,
    province: Province = None,
    project: Project = None,
    direction: Direction = None,
    polite: Annotated[
        bool, typer.Option(help="Per-destination limits (off only for your own lab).")
    ] = True,
    per_ip_connections: Annotated[int, typer.Option(min=0, help="Per IP (0: no limit).")] = 6,
    per_ip_rate: Annotated[float, typer.Option(min=0, help="Requests/s per IP.")] = 20.0,
    per_domain_rate: Annotated[
        float, typer.Option(min=0, help="Requests/s per registrable domain.")
    ] = 20.0,
    per_dns_server_rate: Annotated[float, typer.Option(min=0, help="Queries/s per server.")] = 50.0,
    ipv6_prefix: Annotated[
        int, typer.Option(min=1, max=128, help="IPv6 addresses limited together per prefix.")
    ] = 64,
    limiter_url: Annotated[
        str | None,
        typer.Option(envvar="V6PILOT_LIMITER", help="Redis URL to share limits between scans."),
    ] = None,
    distributed: Annotated[
        bool, typer.Option(help="Queue the scan for Celery workers (needs PostgreSQL).")
    ] = False,
    chunk_size: Annotated[int, typer.Option(min=1, help="Targets per distributed chunk.")] = 50,
    broker: Broker = None,
    queue: Queue = None,
    metrics_port: MetricsPort = None,
) -> None:
    """Scan targets for IPv6 support; print them, write them (--out) and/or store them."""
    from v6pilot.checks.context import ScanOptions
    from v6pilot.net.polite import Limits
    from v6pilot.scan import session
    from v6pilot.scan.parallel import default_processes

    _serve_metrics(metrics_port)
    if resume is not None and (targets or input_file or inventory):
        _fail(V6PilotError("--resume continues a stored run: give no targets with it"))
    needs_store = inventory or store_run or db or resume is not None or distributed
    store = _open_store(db) if needs_store else None
    limits = (
        Limits(
            ip_connections=per_ip_connections,
            ip_rate=per_ip_rate,
            domain_rate=per_domain_rate,
            dns_rate=per_dns_server_rate,
            ipv6_prefix=ipv6_prefix,
        )
        if polite
        else None
    )
    try:
        if store is not None and resume is not None:
            _resume_scan(store, resume, concurrency, limiter_url, out)
            return
        options = ScanOptions(profile=profile, timeout=timeout, allow_private=allow_private)
        network = session.network_config(
            resolver or [], root_hints, ca_file, netns, limits=limits, limiter_url=limiter_url
        )
        if inventory and store is not None:
            where = _asset_filter(
                organisation=organisation,
                industry=industry,
                city=city,
                province=province,
                project=project,
                direction=direction,
            )
            plan = session.plan_inventory_scan(
                store, where, options=options, network=network, rubric=rubric
            )
        else:
            plan = session.plan_scan(
                targets or [], input_file, options=options, network=network, rubric=rubric
            )
        for problem in plan.problems:
            console.print(f"[yellow]skipped input[/yellow] {problem}")
        if not plan.targets:
            raise V6PilotError("nothing to scan")
        in_flight = concurrency or 100
        workers = processes or default_processes(len(plan.targets))
        if distributed and store is not None:
            _distributed_scan(plan, store, in_flight, chunk_size, broker, queue)
        elif store is not None:
            from v6pilot.scan.resume import start_run

            recorded = start_run(store, plan, concurrency=in_flight)
            with _progress(recorded.remaining) as advance:
                recorded.run(out=out, on_each=advance, processes=workers)
            console.print(
                f"stored as run {recorded.run_id} in {store.url}; "
                f"if interrupted, continue with --resume {recorded.run_id}"
            )
        else:
            _plain_scan(plan, in_flight, out, workers)
    except V6PilotError as exc:
        _fail(exc)


def _plain_scan(plan: Any, concurrency: int, out: Path | None, processes: int) -> None:
    """Scan without a database: to the terminal, or streamed into `out`."""
    from v6pilot.checks.registry import checks_for
    from v6pilot.scan import session
    from v6pilot.scan.output import ResultWriter, open_writer

    shown: list[dict[str, Any]] = []
    writers: list[ResultWriter] = []
    if out is not None:
        writers.append(open_writer(out, [c.id for c in checks_for(plan.options.profile)]))
    else:
        writers.append(_Collector(shown))
    with _progress(len(plan.targets)) as advance:
        session.run(
            plan, concurrency=concurrency, writers=writers, on_each=advance, processes=processes
        )
    _print_results(shown)
    if out is not None:
        console.print(f"{len(plan.targets)} result(s) written to {out}")


def _resume_scan(
    store: Store, run_id: int, concurrency: int | None, limiter_url: str | None, out: Path | None
) -> None:
    from v6pilot.scan.resume import resume_run

    recorded = resume_run(store, run_id, concurrency=concurrency, limiter_url=limiter_url)
    if recorded.finished and not recorded.remaining:
        console.print(f"run {run_id} is already finished")
        return
    console.print(f"run {run_id}: {recorded.remaining} of {recorded.planned} target(s) left")
    from v6pilot.scan.parallel import default_processes

    with _progress(recorded.remaining) as advance:
        recorded.run(out=out, on_each=advance, processes=default_processes(recorded.remaining))
    console.print(f"run {run_id} continued in {store.url}")


def _distributed_scan(
    plan: Any,
    store: Store,
    concurrency: int,
    chunk_size: int,
    broker: str | None,
    queue: str | None,
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from v6pilot.scan import distributed

    app_ = distributed.make_app(broker, queue=queue)
    submitted = distributed.submit(
        plan, store, app=app_, chunk_size=chunk_size, concurrency=concurrency
    )
    console.print(
        f"run {submitted.run_id}: {submitted.expected} target(s) in {submitted.chunks} "
        "chunk(s) queued for the workers"
    )
    bar = Progress(
        "scanning", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )
    with bar:
        task = bar.add_task("scan", total=submitted.expected)
        distributed.wait(
            store,
            submitted.run_id,
            progress=lambda saved, planned: bar.update(task, completed=saved, total=planned),
        )
    console.print(f"run {submitted.run_id} finished in {store.url}")


class _Collector:
    """Keeps results for printing on the terminal (only used without --out or --db)."""

    def __init__(self, into: list[dict[str, Any]]) -> None:
        self.into = into

    def write(self, result: dict[str, Any]) -> None:
        self.into.append(result)

    def close(self) -> None:
        """Nothing to release."""


class _progress:
    """A progress bar on the terminal, advanced once per target."""

    def __init__(self, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self.bar = Progress(
            "scanning",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task = self.bar.add_task("scan", total=total)

    def __enter__(self) -> Any:
        self.bar.__enter__()
        return lambda: self.bar.advance(self.task)

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)


def _print_results(results: list[dict[str, Any]]) -> None:
    colours = {"pass": "green", "warn": "yellow", "fail": "red", "error": "magenta"}
    for result in results:
        table = Table(title=f"{result['target']}  grade {result['grade']}  score {result['score']}")
        for column in ("check", "status", "message"):
            table.add_column(column)
        for check_id, check in result["checks"].items():
            colour = colours.get(check["status"], "white")
            table.add_row(check_id, f"[{colour}]{check['status']}[/{colour}]", check["message"])
        console.print(table)


inventory_app = typer.Typer(help="Units, projects and assets to evaluate.", no_args_is_help=True)
app.add_typer(inventory_app, name="inventory")


@app.command("worker")
def worker_command(
    broker: Broker = None,
    queue: Queue = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: one per core).")
    ] = None,
    hostname: Annotated[str, typer.Option(help="Node name (%h: host).")] = "v6pilot@%h",
    loglevel: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = "INFO",
    metrics_port: MetricsPort = None,
) -> None:
    """Start a Celery worker that scans queued chunks (see docs/distributed.md)."""
    from v6pilot.scan.worker import run_worker

    _serve_metrics(metrics_port)
    run_worker(
        broker=broker, queue=queue, concurrency=concurrency, hostname=hostname, loglevel=loglevel
    )


@inventory_app.command("import")
def inventory_import(
    path: Annotated[Path, typer.Argument(help=".csv or .xlsx, one asset a row.")], db: Db = None
) -> None:
    """Import an inventory; bad rows are reported by line and column, the rest imported."""
    from v6pilot.inventory.service import import_inventory

    store = _open_store(db)
    try:
        report = import_inventory(store, path)
    except V6PilotError as exc:
        _fail(exc)
    for problem in report.problems:
        console.print(f"[yellow]skipped[/yellow] {problem}")
    console.print(f"imported {report.imported} row(s) into {store.url}")


@inventory_app.command("export")
def inventory_export(
    path: Annotated[Path, typer.Argument(help=".csv or .xlsx")],
    db: Db = None,
    chinese: Annotated[bool, typer.Option(help="Chinese column headers.")] = False,
) -> None:
    """Export the inventory, one asset (and project) a row."""
    from v6pilot.inventory.service import export_inventory

    try:
        count = export_inventory(_open_store(db), path, chinese=chinese)
    except V6PilotError as exc:
        _fail(exc)
    console.print(f"exported {count} row(s) to {path}")


@app.command("report")
def report_command(
    out: Annotated[Path, typer.Option(help=".json, .csv, .xlsx or .html")],
    by: Annotated[str | None, typer.Option(help="organisation, industry, city, ...")] = None,
    run: Annotated[int | None, typer.Option(help="Run id (default: the newest).")] = None,
    compare: Annotated[int | None, typer.Option(help="Compare with this earlier run.")] = None,
    db: Db = None,
    rubric: RubricFile = None,
) -> None:
    """Aggregate a stored run by group, check the targets, and write the report."""
    from v6pilot.reports.build import build_report, write_report
    from v6pilot.scoring.records import LEVELS
    from v6pilot.scoring.rubric import load_rubric

    try:
        levels = [by] if by else list(LEVELS)
        if by is not None and by not in LEVELS:
            raise V6PilotError(f"--by must be one of {', '.join(LEVELS)}")
        data = build_report(
            _open_store(db),
            run_id=run,
            compare_with=compare,
            levels=levels,
            rubric=load_rubric(rubric) if rubric else None,
        )
        write_report(out, data, by)
    except V6PilotError as exc:
        _fail(exc)
    table = Table(title=data.run)
    for column in ("level", "group", "assets", "AAAA", "IPv6 reach", "v6_full", "mean score"):
        table.add_column(column)
    for level in levels:
        for group in data.groups(level):
            table.add_row(
                level,
                group.name,
                str(group.assets),
                f"{group.share_aaaa:.0%}",
                f"{group.share_reach_v6:.0%}",
                f"{group.share_v6_full:.0%}",
                "-" if group.mean_score is None else f"{group.mean_score:.1f}",
            )
    console.print(table)
    for status in data.targets:
        console.print(
            f"target {status.goal.level}/{status.goal.group} {status.goal.indicator} "
            f"{status.goal.comparison} {status.goal.threshold}: [bold]{status.state.value}[/bold]"
            f" (actual {status.actual}); held back by {len(status.blockers)} asset(s)"
        )
    console.print(f"report written to {out}")


target_app = typer.Typer(
    help="Goals per group with thresholds and deadlines.", no_args_is_help=True
)
app.add_typer(target_app, name="target")


@target_app.command("add")
def target_add(
    level: Annotated[str, typer.Option(help="overall, organisation, industry, city, ...")],
    group: Annotated[str, typer.Option(help="The group's name, e.g. education.")],
    indicator: Annotated[str, typer.Option(help="e.g. share_reach_v6, min_score.")],
    threshold: Annotated[float, typer.Option(help="e.g. 0.95 for a share, 90 for a score.")],
    deadline: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    db: Db = None,
) -> None:
    """Add a goal, e.g. education websites 95 % reachable over IPv6 by 2023-12-31."""
    from datetime import date

    from v6pilot.scoring.targets import Goal
    from v6pilot.store.goals import add_target

    store = _open_store(db)
    try:
        when = date.fromisoformat(deadline)
        Goal(level, group, indicator, threshold, when)
        with store.transaction() as session:
            goal_id = add_target(
                session,
                level=level,
                group=group,
                indicator=indicator,
                threshold=threshold,
                deadline=when,
            ).id
    except (V6PilotError, ValueError) as exc:
        _fail(V6PilotError(str(exc)))
    console.print(f"target {goal_id} added")


@target_app.command("list")
def target_list(db: Db = None) -> None:
    """List the goals."""
    from v6pilot.store.goals import list_targets

    table = Table(title="targets")
    for column in ("id", "level", "group", "indicator", "threshold", "deadline"):
        table.add_column(column)
    with _open_store(db).transaction() as session:
        for goal in list_targets(session):
            table.add_row(
                str(goal.id),
                goal.level,
                goal.group_name,
                goal.indicator,
                str(goal.threshold),
                str(goal.deadline),
            )
    console.print(table)


schedule_app = typer.Typer(help="Periodic rescans of the inventory.", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")


@schedule_app.command("add")
def schedule_add(
    name: Annotated[str, typer.Argument(help="A name for the schedule.")],
    cron: Annotated[str, typer.Option(help="Cron expression, e.g. '0 3 * * 1'.")],
    profile: Profile = "standard",
    db: Db = None,
    organisation: Organisation = None,
    industry: Industry = None,
    city: City = None,
    province: Province = None,
    project: Project = None,
    direction: Direction = None,
) -> None:
    """Add a periodic rescan of (part of) the inventory."""
    from v6pilot.store.schedules import add_schedule

    where = _asset_filter(
        organisation=organisation,
        industry=industry,
        city=city,
        province=province,
        project=project,
        direction=direction,
    )
    try:
        with _open_store(db).transaction() as session:
            add_schedule(session, name=name, cron=cron, profile=profile, where=where)
    except V6PilotError as exc:
        _fail(exc)
    console.print(f"schedule {name} added")


@schedule_app.command("list")
def schedule_list(db: Db = None) -> None:
    """List the schedules with their last run."""
    from v6pilot.store.schedules import list_schedules

    table = Table(title="schedules")
    for column in ("name", "cron", "profile", "assets", "last run"):
        table.add_column(column)
    with _open_store(db).transaction() as session:
        for schedule in list_schedules(session):
            table.add_row(
                schedule.name,
                schedule.cron,
                schedule.profile,
                str(schedule.inventory_filter or "all"),
                str(schedule.last_run_id or "-"),
            )
    console.print(table)


@schedule_app.command("run")
def schedule_run(
    db: Db = None,
    once: Annotated[bool, typer.Option(help="Run what is due now, then exit.")] = False,
    resolver: Resolvers = None,
    root_hints: RootHints = None,
    ca_file: CaFile = None,
    allow_private: AllowPrivate = False,
    netns: Netns = None,
    concurrency: Concurrency = 100,
    timeout: Timeout = 5.0,
) -> None:
    """Run due schedules (every minute unless --once) and report regressions."""
    import time
    from datetime import UTC, datetime

    from v6pilot.checks.context import ScanOptions
    from v6pilot.scan import scheduler, session

    store = _open_store(db)
    try:
        network = session.network_config(resolver or [], root_hints, ca_file, netns)
        options = ScanOptions(timeout=timeout, allow_private=allow_private)
        while True:
            for name in scheduler.due_schedules(store, datetime.now(UTC)):
                done = scheduler.run_schedule(
                    store, name, network=network, options=options, concurrency=concurrency
                )
                console.print(
                    f"schedule {name}: run {done.run_id}, {len(done.regressed)} regression(s)"
                    + (f" since run {done.previous_run_id}" if done.previous_run_id else "")
                )
                for change in done.regressed:
                    reasons = ", ".join(r.value for r in change.reasons)
                    console.print(
                        f"  [red]regressed[/red] {change.target}: "
                        f"{change.old_grade} -> {change.new_grade} ({reasons})"
                    )
            if once:
                return
            time.sleep(60 - datetime.now(UTC).second)
    except V6PilotError as exc:
        _fail(exc)


if __name__ == "__main__":
    app()
