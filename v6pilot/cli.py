"""The `v6pilot` command: parse, call, print. No measurement logic lives here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from v6pilot.errors import V6PilotError

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
    from v6pilot.lab.labscan import compare, scan_lab
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
        wrong = compare(scenario, result)
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


@app.command("scan")
def scan_command(
    targets: Annotated[list[str] | None, typer.Argument(help="Host names, URLs or IDNs.")] = None,
    input_file: Annotated[
        Path | None, typer.Option("-i", "--input", help=".txt, .csv or .xlsx with targets.")
    ] = None,
    profile: Annotated[str, typer.Option(help="quick, standard or full.")] = "standard",
    resolver: Annotated[
        list[str] | None, typer.Option(help="Recursive resolver IP[:PORT] (repeatable).")
    ] = None,
    root_hints: Annotated[Path | None, typer.Option(help="Root hints for the chain check.")] = None,
    ca_file: Annotated[Path | None, typer.Option(help="Extra trust anchors (PEM).")] = None,
    allow_private: Annotated[
        bool, typer.Option(help="Accept special-use names and non-global addresses.")
    ] = False,
    concurrency: Annotated[int, typer.Option(min=1, help="Targets scanned at once.")] = 100,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds per network operation.")] = 5.0,
    rubric: Annotated[Path | None, typer.Option(help="Scoring rubric YAML.")] = None,
    out: Annotated[Path | None, typer.Option(help=".jsonl, .csv or .xlsx")] = None,
) -> None:
    """Scan targets for IPv6 support and print or write one result per target."""
    from v6pilot.scan import session

    try:
        plan = session.plan_scan(
            targets or [],
            input_file,
            profile=profile,
            resolvers=resolver or [],
            root_hints=root_hints,
            ca_file=ca_file,
            allow_private=allow_private,
            timeout=timeout,
            rubric=rubric,
        )
    except V6PilotError as exc:
        _fail(exc)
    for problem in plan.problems:
        console.print(f"[yellow]skipped input[/yellow] {problem}")
    if not plan.targets:
        console.print("[red]error:[/red] nothing to scan")
        raise typer.Exit(2)
    try:
        results = session.run(plan, concurrency=concurrency, out=out)
    except V6PilotError as exc:
        _fail(exc)
    if out is None:
        _print_results(results)
    else:
        console.print(f"{len(plan.targets)} result(s) written to {out}")


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


if __name__ == "__main__":
    app()
