"""Benchmark v6pilot against a peer pipeline of fast C tools on a lab corpus (docs/benchmark.md):

sudo .venv/bin/python -m bench.run [--sites 10000] [--profiles quick,standard,full] [--out F]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import fcntl
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from bench import lab, packages, peer, report
from bench.infra import RESOLVER
from bench.labcpu import namespace_cpu_seconds
from bench.machine import REPO_ROOT, git_sha, machine_info
from bench.measure import run_measured
from bench.profiler import Sampler, summarise
from bench.topology import CLIENT, SERVER

PROFILES = ("quick", "standard", "full")
LOCK_FILE = Path("/run/v6p-bench.lock")
PROFILE_DELAY = 5.0
"""Seconds into a scan before py-spy starts sampling, past the start-up."""


@contextlib.contextmanager
def _exclusive() -> Iterator[None]:
    """One benchmark at a time: they would share the namespaces."""
    with LOCK_FILE.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            sys.exit(f"another benchmark is running (lock {LOCK_FILE})")
        yield


def _unwind_on_signals() -> None:
    """Make SIGTERM and SIGINT (even if the shell ignored it for a background job) unwind, so
    that the lab is torn down."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _scan(
    bench_lab: lab.BenchLab,
    args: argparse.Namespace,
    profile: str,
    count: int,
    sampler: Sampler | None = None,
) -> dict[str, Any]:
    """One v6pilot scan in a fresh process in the client namespace, resolver cache cold."""
    bench_lab.resolver.restart()
    workdir = bench_lab.workdir
    jsonl = workdir / f"scan-{profile}-{count}.jsonl"
    command = [
        "ip", "netns", "exec", CLIENT, sys.executable, "-m", "bench.scan_one",
        "--profile", profile, "--count", str(count), "--resolver", RESOLVER.v6,
        "--root-hints", str(bench_lab.root_hints), "--ca-file", str(bench_lab.ca_file),
        "--concurrency", str(args.concurrency), "--timeout", str(args.timeout),
        "--time-budget", str(args.time_budget), "--out", str(jsonl),
        "--processes", str(args.processes),
    ]  # fmt: skip
    print(f"v6pilot {profile}: scanning {count} sites ...", file=sys.stderr)
    stdout = workdir / f"scan-{profile}-{count}.json"
    revision = git_sha()
    lab_cpu = namespace_cpu_seconds(SERVER)
    try:
        measured = run_measured(
            command, stdout=stdout, on_start=sampler.attach if sampler else None
        )
    finally:
        if sampler is not None:
            sampler.finish()
    lab_cpu = namespace_cpu_seconds(SERVER) - lab_cpu
    if measured.returncode != 0:
        raise RuntimeError(f"bench.scan_one {profile} exited with {measured.returncode}")
    result: dict[str, Any] = json.loads(stdout.read_text())
    result["process"] = measured.to_dict()
    result["git_sha"] = revision
    result["lab_cpu_s"] = round(lab_cpu, 3)
    result["lab_cores_busy"] = round(lab_cpu / measured.wall_s, 3)
    result["scanner_cores_busy"] = round(measured.cpu_s / measured.wall_s, 3)
    if not args.keep_workdir:
        jsonl.unlink(missing_ok=True)
    return result


def _peer(bench_lab: lab.BenchLab, count: int) -> dict[str, Any]:
    """The three passes of the peer pipeline, resolver cache cold; sites/s over their sum."""
    bench_lab.resolver.restart()
    print(f"peer: adnshost + curl on {count} sites ...", file=sys.stderr)
    lab_cpu = namespace_cpu_seconds(SERVER)
    passes = [
        peer.adns_pass(bench_lab.workdir, count, RESOLVER.v6),
        peer.curl_pass(bench_lab.workdir, count, 6),
        peer.curl_pass(bench_lab.workdir, count, 4),
    ]
    lab_cpu = namespace_cpu_seconds(SERVER) - lab_cpu
    wall = sum(p.measured.wall_s for p in passes)
    cpu = sum(p.measured.cpu_s for p in passes)
    return {
        "sites": count,
        "passes": [p.to_dict() for p in passes],
        "wall_s": round(wall, 3),
        "sites_per_s": round(count / wall, 2),
        "cpu_s_per_site": round(cpu / count, 6),
        "peak_rss_mb": round(max(p.measured.peak_rss_mb for p in passes), 1),
        "lab_cpu_s": round(lab_cpu, 3),
        "lab_cores_busy": round(lab_cpu / wall, 3),
        "ok": sum(p.ok for p in passes),
        "total": sum(p.total for p in passes),
    }


def _sampler(args: argparse.Namespace, workdir: Path) -> Sampler | None:
    if not args.py_spy:
        return None
    return Sampler(packages.py_spy(), args.py_spy, PROFILE_DELAY, workdir / "py-spy.raw")


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Bring the lab up, run every measurement, and return all figures."""
    results: dict[str, Any] = {
        "machine": machine_info(),
        "config": {
            "sites": args.sites,
            "profiles": args.profiles,
            "concurrency": args.concurrency,
            "timeout": args.timeout,
            "time_budget": args.time_budget,
            "scale_check": args.scale_check,
            "curl_parallel": peer.CURL_PARALLEL,
            "peer_chunk": peer.CHUNK,
        },
        "v6pilot": {},
        "peer": None,
        "scale_check": None,
        "py_spy": None,
    }
    sampler = _sampler(args, workdir)
    with lab.running(workdir, max(args.sites, args.scale_check)) as bench_lab:
        for profile in args.profiles:
            profiled = sampler if profile == args.profiles[0] else None
            results["v6pilot"][profile] = _scan(bench_lab, args, profile, args.sites, profiled)
        if not args.skip_peer:
            results["peer"] = _peer(bench_lab, args.sites)
        if args.scale_check:
            whole = argparse.Namespace(**{**vars(args), "time_budget": 0.0})
            results["scale_check"] = _scan(bench_lab, whole, "quick", args.scale_check)
    if sampler is not None and sampler.output.exists():
        results["py_spy"] = {"profile": args.profiles[0], **summarise(sampler.output)}
    if results["peer"]:
        for run in results["v6pilot"].values():
            run["ratio_vs_peer"] = round(run["sites_per_s"] / results["peer"]["sites_per_s"], 4)
    return results


def _default_out() -> Path:
    date = datetime.datetime.now().strftime("%Y-%m-%d")
    return REPO_ROOT / "bench" / "results" / f"{date}-{git_sha(short=True)}.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--sites", type=int, default=10_000, help="corpus size (default 10000)")
    parser.add_argument(
        "--profiles", default=",".join(PROFILES), help="comma-separated, default all three"
    )
    parser.add_argument("--concurrency", type=int, default=500, help="v6pilot targets at once")
    parser.add_argument(
        "--processes", type=int, default=1, help="v6pilot scanner processes (scan --processes)"
    )
    parser.add_argument("--timeout", type=float, default=5.0, help="v6pilot per-operation timeout")
    parser.add_argument(
        "--time-budget", type=float, default=0.0, help="stop each scan after S seconds (0: none)"
    )
    parser.add_argument(
        "--scale-check", type=int, default=0, help="also scan N names (quick) for peak RSS"
    )
    parser.add_argument("--skip-peer", action="store_true", help="do not run the peer pipeline")
    parser.add_argument(
        "--py-spy", type=float, default=0.0, help="sample the first profile's scan for S seconds"
    )
    parser.add_argument("--out", type=Path, default=None, help="JSON results file")
    parser.add_argument("--keep-workdir", action="store_true", help="keep configs, logs, results")
    args = parser.parse_args(argv)
    args.profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]
    unknown = sorted(set(args.profiles) - set(PROFILES))
    if unknown or not args.profiles:
        parser.error(f"--profiles takes {', '.join(PROFILES)}; got {args.profiles}")
    if args.sites < 1 or args.concurrency < 1:
        parser.error("--sites and --concurrency must be at least 1")
    return args


def main() -> None:
    args = parse_args()
    if os.geteuid() != 0:
        sys.exit("the benchmark builds network namespaces: run it as root")
    _unwind_on_signals()
    installed = packages.ensure_debian_packages()
    if installed:
        print(f"installed: {', '.join(installed)}", file=sys.stderr)
    out = args.out or _default_out()
    with _exclusive():
        workdir = Path(tempfile.mkdtemp(prefix="v6p-bench-"))
        try:
            results = measure(args, workdir)
        except KeyboardInterrupt:
            sys.exit("interrupted: the lab was torn down")
        finally:
            if args.keep_workdir:
                print(f"work directory kept: {workdir}", file=sys.stderr)
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    report.write_json(results, out)
    print(report.table(results))
    print(f"figures written to {out}")


if __name__ == "__main__":
    main()
