"""Writers for scan results: JSON lines, CSV and XLSX, chosen by the output file's extension.

Each writer streams: a line or row per target as it arrives, so a scan of any size needs
memory for one target only (XLSX uses openpyxl's write-only mode). A resumable scan writes
JSON lines with `JsonLinesAppender`, which a killed process leaves with whole lines only and
which a resumed one continues without repeating a target.
"""

from __future__ import annotations

import csv
import json
import os
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


JSON_LINES = (".jsonl", ".json")


class JsonLinesAppender:
    """Appends one JSON line per target to `path`, each line in a single write (a process
    killed at any moment leaves whole lines, at most with a partial last one, which
    `repair_json_lines` cuts); targets whose URL is in `written` are not written again."""

    def __init__(self, path: Path, written: set[str] | None = None) -> None:
        self.path = path
        self.written = set(written or ())
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc}") from exc

    def write(self, result: dict[str, Any]) -> None:
        url = str(result["url"])
        if url in self.written:
            return
        data = memoryview((json.dumps(result, ensure_ascii=False, default=str) + "\n").encode())
        while data:
            data = data[os.write(self._fd, data) :]
        self.written.add(url)

    def close(self) -> None:
        os.close(self._fd)


def repair_json_lines(path: Path) -> set[str]:
    """Cut the partial last line a killed writer may have left in `path`, and return the URLs
    of its complete lines; a complete line that is not a result is an OutputError."""
    urls: set[str] = set()
    whole = 0
    try:
        with path.open("rb+") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.endswith(b"\n"):
                    break
                try:
                    urls.add(str(json.loads(line)["url"]))
                except (ValueError, KeyError, TypeError) as exc:
                    raise OutputError(f"{path}:{number} is not a scan result line") from exc
                whole += len(line)
            handle.truncate(whole)
    except OSError as exc:
        raise OutputError(f"cannot repair {path}: {exc}") from exc
    return urls


def continue_json_lines(path: Path) -> JsonLinesAppender:
    """An appender continuing the JSON-lines file `path` (repaired first; created if missing)."""
    if path.suffix.lower() not in JSON_LINES:
        raise OutputError(f"{path}: only .jsonl output can be continued by a resumed scan")
    return JsonLinesAppender(path, repair_json_lines(path) if path.exists() else set())


def open_writer(path: Path, check_ids: list[str]) -> ResultWriter:
    """A writer for `path` by its extension: .jsonl (or .json), .csv or .xlsx."""
    suffix = path.suffix.lower()
    try:
        if suffix in JSON_LINES:
            return JsonLinesWriter(path.open("w", encoding="utf-8"))
        if suffix == ".csv":
            return CsvWriter(path.open("w", newline="", encoding="utf-8-sig"), check_ids)
        if suffix == ".xlsx":
            return XlsxWriter(path, check_ids)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from exc
    raise OutputError(f"{path}: unknown output format {suffix!r}; use .jsonl, .csv or .xlsx")


def open_run_writer(path: Path, check_ids: list[str], *, fresh: bool) -> ResultWriter:
    """The output writer of a recorded, resumable run: a new file when `fresh`, else the
    JSON-lines file continued; JSON lines are always written whole (`JsonLinesAppender`)."""
    if not fresh:
        return continue_json_lines(path)
    if path.suffix.lower() not in JSON_LINES:
        return open_writer(path, check_ids)
    try:
        path.write_bytes(b"")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from exc
    return JsonLinesAppender(path)
