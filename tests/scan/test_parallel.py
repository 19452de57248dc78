from __future__ import annotations

import pytest

from v6pilot.net.polite import Limits
from v6pilot.scan.parallel import MIN_TARGETS_PER_PROCESS, default_processes, share_limits
from v6pilot.scan.session import NetworkConfig


def test_processes_follow_cores_but_not_beyond_the_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    assert default_processes(10) == 1
    assert default_processes(MIN_TARGETS_PER_PROCESS * 2) == 2
    assert default_processes(MIN_TARGETS_PER_PROCESS * 64) == 4


def test_limits_are_divided_between_processes_unless_shared() -> None:
    config = NetworkConfig(limits=Limits(ip_connections=6, ip_rate=20, domain_rate=20, dns_rate=50))
    divided = share_limits(config, 4)
    assert divided.limits == Limits(ip_connections=2, ip_rate=5, domain_rate=5, dns_rate=12.5)
    shared = NetworkConfig(limits=config.limits, limiter_url="redis://127.0.0.1:6379/0")
    assert share_limits(shared, 4) is shared
    assert share_limits(NetworkConfig(), 4).limits is None
