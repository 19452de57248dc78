"""Prometheus metrics of scanning: targets done, check outcomes, errors by kind, queue depth and
politeness throttling. Served on `/metrics` by `start_metrics_server` (scan --metrics-port, the
Celery workers)."""

from __future__ import annotations

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


Increments = dict[tuple[str, tuple[str, ...]], float]
"""Counter increments by (counter, label values)."""

_COUNTERS = {
    "targets": TARGETS,
    "checks": CHECKS,
    "errors": ERRORS,
    "throttle_waits": THROTTLE_WAITS,
    "throttle_seconds": THROTTLE_SECONDS,
}
_pending: Increments = {}
"""What this process counted since `take_counted`, for a parent process (`scan --processes`)."""


_children: dict[tuple[str, tuple[str, ...]], Counter] = {}
"""Each counter's child per label values: `labels()` costs more than the increment itself."""


def _child(name: str, labels: tuple[str, ...]) -> Counter:
    key = (name, labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = _COUNTERS[name].labels(*labels)
    return child


def _inc(name: str, labels: tuple[str, ...], amount: float = 1.0) -> None:
    _child(name, labels).inc(amount)
    key = (name, labels)
    _pending[key] = _pending.get(key, 0.0) + amount


def record_report(report: TargetReport) -> None:
    """Count one scanned target and its check results."""
    _inc("targets", (report.profile,))
    for check_id, result in report.checks.items():
        _inc("checks", (check_id, result.status.value))
        if result.status is Status.ERROR:
            _inc("errors", (result.code,))


def record_throttle(scope: str, seconds: float) -> None:
    """Count one wait of `seconds` imposed by a per-destination limit of `scope` (ip, domain...)."""
    _inc("throttle_waits", (scope,))
    _inc("throttle_seconds", (scope,), seconds)


def take_counted() -> Increments:
    """What this process counted since the last call (targets, checks, errors, waits)."""
    taken = dict(_pending)
    _pending.clear()
    return taken


def restore_counted(taken: Increments) -> None:
    """Put back what `take_counted` returned when it could not be handed on after all."""
    for key, amount in taken.items():
        _pending[key] = _pending.get(key, 0.0) + amount


def add_counted(taken: Increments) -> None:
    """Add what another process counted (see `take_counted`) to this process's metrics."""
    for (name, labels), amount in taken.items():
        _child(name, labels).inc(amount)


def start_metrics_server(port: int, address: str = "127.0.0.1") -> None:
    """Serve /metrics on address:port in a background thread."""
    start_http_server(port, addr=address)
