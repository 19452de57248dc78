"""Report data over the sample assets, one of them with markup in a message."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from tests.scoring.contract import sample
from v6pilot.reports.data import ReportData
from v6pilot.scoring.aggregate import summarise
from v6pilot.scoring.compare import compare_runs
from v6pilot.scoring.records import AssetRecord
from v6pilot.scoring.targets import Goal, evaluate_targets

SCRIPT = "<script>alert(1)</script>"


def assets() -> list[AssetRecord]:
    """The sample, with a6's failing sub-resources message carrying a script tag."""
    records = sample()
    a6 = records[5]
    checks = dict(a6.result["checks"])
    checks["web.subresources_v6"] = checks["web.subresources_v6"] | {
        "message": f"http://cdn.example/x.js {SCRIPT} does not load over IPv6",
        "message_zh": f"http://cdn.example/x.js {SCRIPT} 无法通过IPv6加载",
    }
    records[5] = replace(a6, result=a6.result | {"checks": checks})
    return records


@pytest.fixture
def data() -> ReportData:
    records = assets()
    goals = [
        Goal("city", "Hangzhou", "share_reach_v6", 0.9, date(2025, 12, 31)),
        Goal("project", "P2", "share_reach_v6", 0.9, date(2025, 1, 31)),
        Goal("overall", "overall", "min_score", 90),
    ]
    return ReportData(
        summary=summarise(records, ("city", "project")),
        run="2025-06",
        targets=evaluate_targets(goals, records, date(2025, 6, 1)),
        comparison=compare_runs(records[:5], records[1:], levels=("city", "project")),
        assets=records,
    )
