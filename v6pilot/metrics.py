"""Prometheus metrics of scanning: targets done, check outcomes, errors by kind, queue depth and
politeness throttling. Served on `/metrics` by `start_metrics_server` (scan --metrics-port, the
Celery workers)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter, Gauge, start_http_server

from v6pilot.checks.result import Status
from v6pilot.scan.engine import TargetReport

TARGETS = Counter("v6pilot_targets_total", "Targets scanned", ["profile"])
CHECKS = Counter("v6pilot_checks_total", "Check results", ["check", "status"])
ERRORS = Counter("v6pilot_errors_total", "Checks that could not measure, by kind", ["kind"])
QUEUE_DEPTH = Gauge(
    "v6pilot_queue_depth", "Targets of the running scan not scanned yet (queued or in flight)"
)
THROTTLE_WAITS = Counter(
    "v6pilot_throttle_waits_total", "Waits imposed by per-destination limits", ["scope"]
)
THROTTLE_SECONDS = Counter(
    "v6pilot_throttle_wait_seconds_total", "Seconds waited for per-destination limits", ["scope"]
)


def record_report(report: TargetReport) -> None:
    """Count one scanned target and its check results."""
    _count(report.profile, ((i, r.status.value, r.code) for i, r in report.checks.items()))


def record_result(result: dict[str, Any]) -> None:
    """Count one target from its contract line: how a parent process counts the targets its
    scan worker processes (`scan --processes`) measured."""
    checks = result["checks"].items()
    _count(result["profile"], ((i, c["status"], c["code"]) for i, c in checks))


def _count(profile: str, checks: Iterable[tuple[str, str, str]]) -> None:
    """Count one target and each of its checks' (id, status, code)."""
    TARGETS.labels(profile).inc()
    for check_id, status, code in checks:
        CHECKS.labels(check_id, status).inc()
        if status == Status.ERROR.value:
            ERRORS.labels(code).inc()


_throttled: dict[str, list[float]] = {}
"""Waits and seconds per scope counted in this process, for handing to a parent process."""


def record_throttle(scope: str, seconds: float) -> None:
    """Count one wait of `seconds` imposed by a per-destination limit of `scope` (ip, domain...)."""
    THROTTLE_WAITS.labels(scope).inc()
    THROTTLE_SECONDS.labels(scope).inc(seconds)
    totals = _throttled.setdefault(scope, [0, 0.0])
    totals[0] += 1
    totals[1] += seconds


def take_throttled() -> dict[str, tuple[int, float]]:
    """The waits counted since the last call, per scope (waits, seconds)."""
    taken = {scope: (int(waits), seconds) for scope, (waits, seconds) in _throttled.items()}
    _throttled.clear()
    return taken


def add_throttled(taken: dict[str, tuple[int, float]]) -> None:
    """Add waits another process counted (see `take_throttled`)."""
    for scope, (waits, seconds) in taken.items():
        THROTTLE_WAITS.labels(scope).inc(waits)
        THROTTLE_SECONDS.labels(scope).inc(seconds)


def start_metrics_server(port: int, address: str = "127.0.0.1") -> None:
    """Serve /metrics on address:port in a background thread."""
    start_http_server(port, addr=address)
