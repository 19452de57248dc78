"""One scan as the CLI runs it: inputs validated, the network built where the scan must run
(optionally inside a network namespace, optionally polite: per-destination limits), results
scored and handed to sinks (terminal, file, database) in the caller's thread."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from v6pilot.checks.context import ScanOptions, Target
from v6pilot.checks.registry import checks_for
from v6pilot.errors import V6PilotError
from v6pilot.inventory.model import AssetKind
from v6pilot.metrics import QUEUE_DEPTH, record_throttle
from v6pilot.net.limits import check_limiter_url, open_limiter
from v6pilot.net.live import LiveNetwork, parse_resolver, system_resolvers
from v6pilot.net.netns import ETC_NETNS, iterate_in_netns
from v6pilot.net.network import Network
from v6pilot.net.polite import Limits, PoliteNetwork, Throttle
from v6pilot.net.roothints import load_root_hints
from v6pilot.scan.output import ResultWriter
from v6pilot.scan.targets import InputProblem, TargetError, parse_target, read_targets
from v6pilot.scoring.evaluate import scan_and_evaluate
from v6pilot.scoring.rubric import Rubric, load_rubric

if TYPE_CHECKING:
    from v6pilot.store.assets import AssetFilter
    from v6pilot.store.db import Store


class ScanError(V6PilotError):
    """The scan cannot be run from here as asked."""


@dataclass(frozen=True)
class NetworkConfig:
    """How to build the scan's network: resolvers, root hints, trust anchors, namespace, and
    the per-destination limits (None: unlimited) kept in this process or in Redis at
    `limiter_url` (shared by every process scanning with it)."""

    resolvers: tuple[tuple[str, int], ...] = ()
    root_hints: Path | None = None
    ca_file: Path | None = None
    netns: str | None = None
    limits: Limits | None = None
    limiter_url: str | None = None


@dataclass
class ScanPlan:
    """Everything a scan needs, validated before the first packet is sent."""

    targets: list[Target]
    problems: list[InputProblem]
    options: ScanOptions
    rubric: Rubric
    network: NetworkConfig = field(default_factory=NetworkConfig)
    asset_ids: dict[str, int] = field(default_factory=dict)
    """Target URL -> inventory asset id, for scans of the inventory."""
    rubric_file: Path | None = None
    """Where `rubric` was read from (None: the shipped default), to load it again on resume."""


def options_to_json(options: ScanOptions) -> dict[str, Any]:
    """The scan options as JSON-ready data (a run's record, a distributed chunk)."""
    return {f.name: getattr(options, f.name) for f in fields(options)}


def options_from_json(data: Mapping[str, Any]) -> ScanOptions:
    """ScanOptions back from JSON: arrays become tuples, unknown keys are ignored and missing
    ones default (options stored by another version still load)."""
    known = {f.name for f in fields(ScanOptions)}
    values: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known
    }
    return ScanOptions(**values)


def network_config(
    resolvers: list[str],
    root_hints: Path | None,
    ca_file: Path | None,
    netns: str | None,
    *,
    limits: Limits | None = None,
    limiter_url: str | None = None,
) -> NetworkConfig:
    """Validate the network options now, so a typo fails before the scan starts."""
    try:
        parsed = tuple(parse_resolver(r) for r in resolvers)
    except ValueError as exc:
        raise ScanError(str(exc)) from exc
    if root_hints is not None:
        load_root_hints(root_hints)
    if ca_file is not None and not ca_file.is_file():
        raise ScanError(f"CA file {ca_file} does not exist")
    if netns is not None and not Path("/run/netns", netns).exists():
        raise ScanError(f"network namespace {netns} does not exist")
    if limiter_url is not None:
        check_limiter_url(limiter_url)
    return NetworkConfig(parsed, root_hints, ca_file, netns, limits, limiter_url)


def plan_scan(
    raw_targets: list[str],
    input_file: Path | None,
    *,
    options: ScanOptions,
    network: NetworkConfig,
    rubric: Path | None,
) -> ScanPlan:
    """Parse and validate the scan's inputs; bad targets become problems, not failures."""
    checks_for(options.profile)
    targets: list[Target] = []
    problems: list[InputProblem] = []
    for number, raw in enumerate(raw_targets, start=1):
        try:
            targets.append(parse_target(raw, allow_private=options.allow_private))
        except TargetError as exc:
            problems.append(InputProblem("command line", number, str(exc)))
    if input_file is not None:
        for item in read_targets(input_file, allow_private=options.allow_private):
            if isinstance(item, InputProblem):
                problems.append(item)
            else:
                targets.append(item)
    return ScanPlan(targets, problems, options, load_rubric(rubric), network, {}, _absolute(rubric))


def plan_inventory_scan(
    store: Store,
    where: AssetFilter,
    *,
    options: ScanOptions,
    network: NetworkConfig,
    rubric: Path | None,
) -> ScanPlan:
    """Plan a scan of the inventory's web assets (all, or those matching `where`)."""
    from v6pilot.store.assets import list_assets  # the store is not needed to run a scan

    checks_for(options.profile)
    targets: list[Target] = []
    problems: list[InputProblem] = []
    asset_ids: dict[str, int] = {}
    with store.transaction() as session:
        assets = [(a.id, a.target, a.kind) for a in list_assets(session, where)]
    for number, (asset_id, text, kind) in enumerate(assets, start=1):
        if kind == AssetKind.ENDPOINT:
            problems.append(
                InputProblem("inventory", number, f"{text}: service endpoints are not scanned yet")
            )
            continue
        target = parse_target(text, allow_private=True)
        targets.append(target)
        asset_ids[target.url] = asset_id
    return ScanPlan(
        targets, problems, options, load_rubric(rubric), network, asset_ids, _absolute(rubric)
    )


def _absolute(path: Path | None) -> Path | None:
    """`path` made absolute, so a resumed scan finds it from any working directory."""
    return path.resolve() if path is not None else None


def _resolvers(config: NetworkConfig) -> list[tuple[str, int]]:
    if config.resolvers:
        return list(config.resolvers)
    if config.netns is not None and (ETC_NETNS / config.netns / "resolv.conf").exists():
        return system_resolvers(str(ETC_NETNS / config.netns / "resolv.conf"))
    return system_resolvers()


def build_network(
    config: NetworkConfig,
    options: ScanOptions,
    *,
    dns_throttle: Callable[[str], Awaitable[None]] | None = None,
) -> LiveNetwork:
    """The live network for a scan; call it where the scan runs (inside its namespace).
    `dns_throttle` paces the queries of iterative resolutions (see `scan_network`)."""
    network = LiveNetwork(
        resolvers=_resolvers(config),
        root_hints=load_root_hints(config.root_hints) if config.root_hints else None,
        ca_file=str(config.ca_file) if config.ca_file else None,
        timeout=options.timeout,
        dns_throttle=dns_throttle,
    )
    if 6 not in network.routes():
        where = f"namespace {config.netns}" if config.netns else "this machine"
        raise ScanError(
            f"{where} has no IPv6 route, so it cannot measure IPv6 support; "
            "scan from a host with IPv6 connectivity"
        )
    return network


def scan_network(config: NetworkConfig, options: ScanOptions) -> Network:
    """The network a scan uses: the live one, wrapped in `PoliteNetwork` when `config.limits`
    is set (waits counted in the metrics); call it where the scan runs, on its event loop.
    A limiter connects on first use, so one left behind by a failing build holds nothing."""
    if config.limits is None:
        return build_network(config, options)
    throttle = Throttle(config.limits, open_limiter(config.limiter_url), on_wait=record_throttle)
    live = build_network(config, options, dns_throttle=throttle.dns_query)
    return PoliteNetwork(live, throttle)


NetworkFactory = Callable[[], Network]
"""Builds the network on the scan's event loop (tests and other runners inject their own)."""


async def scan_results(
    plan: ScanPlan, *, concurrency: int, network: NetworkFactory | None = None
) -> AsyncIterator[dict[str, Any]]:
    """The plan's scored results on the running loop, over `network()` if given, else
    `scan_network` for the plan; the caller runs it inside the plan's namespace, if any."""
    net = network() if network is not None else scan_network(plan.network, plan.options)
    try:
        async for result in scan_and_evaluate(
            plan.targets, net, plan.options, plan.rubric, concurrency=concurrency
        ):
            yield result
    finally:
        await net.close()


def results(
    plan: ScanPlan, *, concurrency: int, network: NetworkFactory | None = None
) -> Iterator[dict[str, Any]]:
    """Scan the plan's targets (inside its namespace, if any) on a loop in another thread and
    yield scored results to the caller's thread (see `scan_results`)."""
    return iterate_in_netns(
        plan.network.netns,
        lambda: scan_results(plan, concurrency=concurrency, network=network),
    )


def run(
    plan: ScanPlan,
    *,
    concurrency: int,
    writers: list[ResultWriter],
    on_each: Callable[[], None],
    network: NetworkFactory | None = None,
    processes: int = 1,
) -> int:
    """Run the planned scan, handing every result to each writer; returns the number scanned.

    Writers are closed however the scan ends; each decides what an unfinished scan means.
    With `processes` > 1 the targets are scanned in that many processes (scan/parallel.py).
    """
    count = 0
    if processes > 1 and network is None:
        from v6pilot.scan.parallel import parallel_results

        produced = parallel_results(plan, concurrency=concurrency, processes=processes)
    else:
        produced = results(plan, concurrency=concurrency, network=network)
    try:
        for result in produced:
            for writer in writers:
                writer.write(result)
            count += 1
            QUEUE_DEPTH.set(len(plan.targets) - count)
            on_each()
    finally:
        for writer in writers:
            writer.close()
    return count
