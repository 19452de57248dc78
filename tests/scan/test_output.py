from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from v6pilot.scan.output import OutputError, open_writer

RESULT: dict[str, Any] = {
    "target": "www.例子.cn",
    "url": "http://www.xn--fsqu00a.cn/",
    "profile": "quick",
    "score": 85.0,
    "grade": "v6_partial",
    "checks": {
        "dns.aaaa": {"status": "pass", "value": {}, "message": "ok", "message_zh": "好"},
        "web.homepage_v6": {"status": "fail", "value": None, "message": "no", "message_zh": "否"},
    },
}
CHECKS = ["dns.aaaa", "web.homepage_v6", "web.consistency"]


def test_jsonl_writes_one_contract_line_per_result(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    writer = open_writer(path, CHECKS)
    writer.write(RESULT)
    writer.write(RESULT)
    writer.close()
    lines = path.read_text("utf-8").splitlines()
    assert len(lines) == 2 and json.loads(lines[0]) == RESULT
    assert "例子" in lines[0]


def test_csv_flattens_statuses_and_messages(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    writer = open_writer(path, CHECKS)
    writer.write(RESULT)
    writer.close()
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert rows[0]["grade"] == "v6_partial"
    assert rows[0]["web.homepage_v6"] == "fail" and rows[0]["web.homepage_v6.message"] == "no"
    assert rows[0]["web.consistency"] == ""


def test_xlsx_opens_with_the_numbers(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    writer = open_writer(path, CHECKS)
    writer.write(RESULT)
    writer.close()
    sheet = load_workbook(path).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("target", "url", "profile", "score", "grade")
    assert rows[1][3] == 85.0 and rows[1][5] == "pass"


def test_unknown_extension_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="unknown output format"):
        open_writer(tmp_path / "out.pdf", CHECKS)
