"""The JSON report's shape: one level's groups, overall, goals and changes; shares 0..1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from v6pilot.reports.data import ReportData
from v6pilot.reports.json_report import build_json, write_json


def test_shape_and_figures(data: ReportData) -> None:
    report = build_json(data)
    assert set(report) == {"run", "level", "groups", "overall", "targets", "comparison"}
    assert (report["run"], report["level"]) == ("2025-06", "city")
    assert [g["name"] for g in report["groups"]] == ["Hangzhou", "Ningbo", "Wenzhou"]
    hangzhou = report["groups"][0]
    assert (hangzhou["assets"], hangzhou["share_aaaa"], hangzhou["mean_score"]) == (2, 1.0, 86.4)
    assert hangzhou["share_v6_full"] == 0.5
    assert hangzhou["indicators"]["6"] == 0.75
    assert hangzhou["score_distribution"]["median"] == 86.4
    assert report["overall"]["share_reach_v6"] == 0.6667


def test_targets_and_comparison(data: ReportData) -> None:
    report = build_json(data, "project")
    assert [g["name"] for g in report["groups"]] == ["P1", "P2"]
    overdue = report["targets"][1]
    assert (overdue["group"], overdue["state"], overdue["deadline"]) == (
        "P2",
        "overdue",
        "2025-01-31",
    )
    assert [b["target"] for b in overdue["blockers"]] == ["a3.example"]
    comparison = report["comparison"]
    assert {a["target"]: a["change"] for a in comparison["assets"]} == {
        "a1.example": "gone",
        "a6.example": "new",
    }
    assert comparison["overall"]["counts"]["unchanged"] == 4
    assert [g["name"] for g in comparison["groups"]] == ["P1", "P2"]


def test_written_file_is_json(tmp_path: Path, data: ReportData) -> None:
    path = tmp_path / "report.json"
    write_json(path, data, "city")
    loaded = json.loads(path.read_text("utf-8"))
    assert loaded["overall"]["indicators"]["3"] == 0.925
    assert loaded["targets"][0]["state"] == "met"


def test_unknown_level_is_refused(data: ReportData) -> None:
    with pytest.raises(ValueError, match="no level 'industry'"):
        build_json(data, "industry")
