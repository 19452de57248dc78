"""Writers for scan results: JSON lines, CSV and XLSX, chosen by the output file's extension.

Each writer streams: a line or row per target as it arrives, so a scan of any size needs
memory for one target only (XLSX uses openpyxl's write-only mode).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import IO, Any, Protocol

from v6pilot.errors import V6PilotError

SUMMARY_COLUMNS = ("target", "url", "profile", "score", "grade")


class OutputError(V6PilotError):
    """The output file cannot be written."""


class ResultWriter(Protocol):
    def write(self, result: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


def _flat(result: dict[str, Any], check_ids: list[str]) -> list[Any]:
    row = [result[c] for c in SUMMARY_COLUMNS]
    for check_id in check_ids:
        check = result["checks"].get(check_id)
        row += [check["status"], check["message"]] if check else ["", ""]
    return row


def _header(check_ids: list[str]) -> list[str]:
    columns = list(SUMMARY_COLUMNS)
    for check_id in check_ids:
        columns += [check_id, f"{check_id}.message"]
    return columns


class JsonLinesWriter:
    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle

    def write(self, result: dict[str, Any]) -> None:
        self.handle.write(json.dumps(result, ensure_ascii=False, default=str) + "\n")
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()


class CsvWriter:
    def __init__(self, handle: IO[str], check_ids: list[str]) -> None:
        self.handle = handle
        self.check_ids = check_ids
        self.rows = csv.writer(handle)
        self.rows.writerow(_header(check_ids))

    def write(self, result: dict[str, Any]) -> None:
        self.rows.writerow(_flat(result, self.check_ids))
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()


class XlsxWriter:
    def __init__(self, path: Path, check_ids: list[str]) -> None:
        from openpyxl import Workbook

        self.path = path
        self.check_ids = check_ids
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet("scan")
        self.sheet.append(_header(check_ids))

    def write(self, result: dict[str, Any]) -> None:
        self.sheet.append(_flat(result, self.check_ids))

    def close(self) -> None:
        self.book.save(self.path)


def open_writer(path: Path, check_ids: list[str]) -> ResultWriter:
    """A writer for `path` by its extension: .jsonl (or .json), .csv or .xlsx."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".jsonl", ".json"):
            return JsonLinesWriter(path.open("w", encoding="utf-8"))
        if suffix == ".csv":
            return CsvWriter(path.open("w", newline="", encoding="utf-8-sig"), check_ids)
        if suffix == ".xlsx":
            return XlsxWriter(path, check_ids)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from exc
    raise OutputError(f"{path}: unknown output format {suffix!r}; use .jsonl, .csv or .xlsx")
