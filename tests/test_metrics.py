from __future__ import annotations

import socket
import urllib.request

from prometheus_client import REGISTRY

from v6pilot.checks.context import Target
from v6pilot.checks.result import CheckResult, Status
from v6pilot.metrics import (
    add_counted,
    record_report,
    record_throttle,
    start_metrics_server,
    take_counted,
)
from v6pilot.scan.engine import TargetReport


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_metrics_count_targets_checks_errors_and_throttling() -> None:
    report = TargetReport(
        Target("a.example.cn", "a.example.cn", "http://a.example.cn/"),
        "quick",
        {
            "dns.aaaa": CheckResult(Status.PASS, "dns.aaaa.pass"),
            "web.homepage_v6": CheckResult(Status.ERROR, "check.deadline"),
        },
        0.1,
    )
    port = free_port()
    start_metrics_server(port)
    record_report(report)
    record_throttle("ip", 0.25)
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert 'v6pilot_targets_total{profile="quick"}' in text
    assert 'v6pilot_checks_total{check="dns.aaaa",status="pass"}' in text
    assert 'v6pilot_errors_total{kind="check.deadline"}' in text
    assert 'v6pilot_throttle_wait_seconds_total{scope="ip"} 0.25' in text


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_parent_adds_what_a_worker_process_counted() -> None:
    report = TargetReport(
        Target("b.example.cn", "b.example.cn", "http://b.example.cn/"),
        "full",
        {"web.tls_v6": CheckResult(Status.ERROR, "check.no_route")},
        0.1,
    )
    take_counted()
    record_report(report)
    record_throttle("dns", 0.5)
    record_throttle("dns", 0.25)
    counted = take_counted()
    assert counted == {
        ("targets", ("full",)): 1.0,
        ("checks", ("web.tls_v6", "error")): 1.0,
        ("errors", ("check.no_route",)): 1.0,
        ("throttle_waits", ("dns",)): 2.0,
        ("throttle_seconds", ("dns",)): 0.75,
    }
    assert take_counted() == {}
    targets = sample("v6pilot_targets_total", profile="full")
    errors = sample("v6pilot_errors_total", kind="check.no_route")
    add_counted(counted)
    assert sample("v6pilot_targets_total", profile="full") == targets + 1
    assert sample("v6pilot_errors_total", kind="check.no_route") == errors + 1
    assert sample("v6pilot_throttle_wait_seconds_total", scope="dns") >= 1.5
