"""One timed v6pilot scan of the corpus, run as its own process inside the client namespace so
that its CPU time and peak RSS are the scanner's alone:

    ip netns exec v6p-bench-cli .venv/bin/python -m bench.scan_one --profile quick --count 10000 ...

Results stream to a .jsonl file as the CLI writes them; the process prints one JSON object
with its measurements on stdout, and progress on stderr. A scan cut short by the time budget
leaves its unfinished targets to `asyncio.run`, which cancels them on the way out.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.corpus import site_name
from v6pilot.checks.context import ScanOptions, Target
from v6pilot.checks.registry import checks_for
from v6pilot.net import loop
from v6pilot.net.live import LiveNetwork
from v6pilot.net.roothints import load_root_hints
from v6pilot.scan.output import open_writer
from v6pilot.scan.parallel import parallel_results
from v6pilot.scan.session import NetworkConfig, ScanPlan
from v6pilot.scan.targets import parse_target
from v6pilot.scoring.evaluate import scan_and_evaluate
from v6pilot.scoring.rubric import load_rubric

PROGRESS_EVERY = 10.0
EXAMPLES_PER_STATUS = 3


@dataclass
class Tally:
    """Status counts per check, grades, all-pass sites, a few messages of each non-pass status."""

    statuses: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    grades: Counter[str] = field(default_factory=Counter)
    examples: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    all_pass: int = 0

    def add(self, result: dict[str, Any]) -> None:
        self.grades[result["grade"]] += 1
        self.all_pass += all(c["status"] == "pass" for c in result["checks"].values())
        for check_id, check in result["checks"].items():
            status = check["status"]
            self.statuses[check_id][status] += 1
            key = f"{check_id}:{status}"
            if status != "pass" and len(self.examples[key]) < EXAMPLES_PER_STATUS:
                self.examples[key].append(f"{result['target']}: {check['message']}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "sites_all_pass": self.all_pass,
            "statuses": {c: dict(s) for c, s in sorted(self.statuses.items())},
            "grades": dict(self.grades),
            "non_pass_examples": dict(sorted(self.examples.items())),
        }


def targets(offset: int, count: int) -> Iterator[Target]:
    """The corpus's targets, made one at a time so 100,000 names cost no memory up front."""
    return (parse_target(site_name(i), allow_private=True) for i in range(offset, offset + count))


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _raise_open_files_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def scan(args: argparse.Namespace) -> dict[str, Any]:
    """Scan `args.count` sites and measure wall time, CPU time and peak RSS of this process."""
    options = ScanOptions(profile=args.profile, allow_private=True, timeout=args.timeout)
    net = LiveNetwork(
        resolvers=[(args.resolver, 53)],
        root_hints=load_root_hints(args.root_hints),
        ca_file=str(args.ca_file),
        timeout=args.timeout,
    )
    rubric = load_rubric(None)
    writer = open_writer(args.out, [c.id for c in checks_for(args.profile)])
    tally = Tally()
    rss_before = _rss_mb()
    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    started = last_progress = time.monotonic()
    scanned = 0
    first_result = None
    results = scan_and_evaluate(
        targets(args.offset, args.count), net, options, rubric, concurrency=args.concurrency
    )
    async for result in results:
        writer.write(result)
        tally.add(result)
        scanned += 1
        now = time.monotonic()
        first_result = first_result or now - started
        if now - last_progress >= PROGRESS_EVERY:
            last_progress = now
            rate = scanned / (now - started)
            print(f"  {args.profile}: {scanned} sites, {rate:.0f}/s", file=sys.stderr)
        if args.time_budget and now - started >= args.time_budget:
            break
    wall = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    writer.close()
    await net.close()
    cpu_user = usage.ru_utime - usage_before.ru_utime
    cpu_sys = usage.ru_stime - usage_before.ru_stime
    return {
        "profile": args.profile,
        "concurrency": args.concurrency,
        "requested": args.count,
        "scanned": scanned,
        "complete": scanned == args.count,
        "wall_s": round(wall, 3),
        "sites_per_s": round(scanned / wall, 2) if wall else None,
        "first_result_s": round(first_result, 3) if first_result else None,
        "cpu_user_s": round(cpu_user, 3),
        "cpu_sys_s": round(cpu_sys, 3),
        "cpu_s_per_site": round((cpu_user + cpu_sys) / scanned, 6) if scanned else None,
        "rss_before_scan_mb": round(rss_before, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        **tally.to_dict(),
    }


def scan_in_processes(args: argparse.Namespace) -> dict[str, Any]:
    """The same scan split over `args.processes` processes (v6pilot.scan.parallel); CPU time
    and peak RSS include the worker processes (ended, and so counted, before measuring)."""
    plan = ScanPlan(
        targets=list(targets(args.offset, args.count)),
        problems=[],
        options=ScanOptions(profile=args.profile, allow_private=True, timeout=args.timeout),
        rubric=load_rubric(None),
        network=NetworkConfig(
            resolvers=((args.resolver, 53),), root_hints=args.root_hints, ca_file=args.ca_file
        ),
    )
    writer = open_writer(args.out, [c.id for c in checks_for(args.profile)])
    tally = Tally()
    before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    scanned = 0
    first_result = None
    produced = parallel_results(plan, concurrency=args.concurrency, processes=args.processes)
    for result in produced:
        writer.write(result)
        tally.add(result)
        scanned += 1
        now = time.monotonic()
        first_result = first_result or now - started
        if args.time_budget and now - started >= args.time_budget:
            break
    wall = time.monotonic() - started
    produced.close()
    writer.close()
    after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(
        a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime
        for a, b in zip(after, before, strict=True)
    )
    return {
        "profile": args.profile,
        "concurrency": args.concurrency,
        "processes": args.processes,
        "requested": args.count,
        "scanned": scanned,
        "complete": scanned == args.count,
        "wall_s": round(wall, 3),
        "sites_per_s": round(scanned / wall, 2) if wall else None,
        "first_result_s": round(first_result, 3) if first_result else None,
        "cpu_s_per_site": round(cpu / scanned, 6) if scanned else None,
        "peak_rss_mb": round(max(a.ru_maxrss for a in after) / 1024, 1),
        **tally.to_dict(),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", required=True, choices=("quick", "standard", "full"))
    parser.add_argument("--count", type=int, required=True, help="sites to scan")
    parser.add_argument("--offset", type=int, default=0, help="index of the first site")
    parser.add_argument("--resolver", required=True, help="recursive resolver address")
    parser.add_argument("--root-hints", type=Path, required=True)
    parser.add_argument("--ca-file", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=ScanOptions.timeout)
    parser.add_argument("--time-budget", type=float, default=0.0, help="stop after S seconds")
    parser.add_argument("--out", type=Path, required=True, help=".jsonl for the results")
    parser.add_argument("--processes", type=int, default=1, help="scanner processes")
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    _raise_open_files_limit()
    measured = scan_in_processes(args) if args.processes > 1 else loop.run(scan(args))
    print(json.dumps(measured))


if __name__ == "__main__":
    main()
