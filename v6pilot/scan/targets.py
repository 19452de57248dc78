"""Turning user input (names, URLs, IDNs, .txt/.csv/.xlsx files) into scan targets."""

from __future__ import annotations

import csv
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import idna

from v6pilot.checks.context import Target
from v6pilot.errors import V6PilotError

SPECIAL_USE_SUFFIXES = (
    "localhost",
    "localdomain",
    "local",
    "internal",
    "test",
    "example",
    "invalid",
    "home.arpa",
    "lan",
    "onion",
)
TARGET_COLUMNS = ("target", "目标")


class TargetError(V6PilotError):
    """A target that cannot be scanned; the message says why (and where, for files)."""


@dataclass(frozen=True)
class InputProblem:
    """A bad line of an input file: reported, and the rest of the file is still scanned."""

    source: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


_PLAIN_NAME = re.compile(
    r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+"
)
"""A lower-case LDH name IDNA leaves as it is (names with `--` anywhere go through IDNA)."""


def _ace_host(host: str) -> str:
    name = host.rstrip(".")
    if len(name) <= 253 and "--" not in name and _PLAIN_NAME.fullmatch(name):
        return name
    try:
        ace = idna.encode(name, uts46=True).decode().lower()
    except idna.IDNAError as exc:
        raise TargetError(f"{host!r} is not a valid domain name: {exc}") from exc
    if "." not in ace:
        raise TargetError(f"{host!r} is not a fully qualified domain name")
    return ace


def parse_target(raw: str, *, allow_private: bool = False) -> Target:
    """A target from a host name, an IDN or an http(s) URL; IP literals are refused."""
    text = raw.strip()
    if not text:
        raise TargetError("empty target")
    url_text = text if "://" in text else f"http://{text}"
    parts = urlsplit(url_text)
    if parts.scheme not in ("http", "https"):
        raise TargetError(f"{text!r}: only http and https URLs can be scanned")
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        raise TargetError(f"{text!r} is an IP address; give the site's domain name")
    ace = _ace_host(host)
    if not allow_private and any(ace == s or ace.endswith("." + s) for s in SPECIAL_USE_SUFFIXES):
        raise TargetError(f"{text!r} is a special-use name; use --allow-private to scan it")
    netloc = ace if parts.port is None else f"{ace}:{parts.port}"
    url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return Target(raw=text, host=ace, url=url)


def _rows_txt(path: Path) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(path.read_text("utf-8-sig").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if text:
            yield number, text


def _target_column(header: list[str], source: str) -> int:
    names = [str(h or "").strip().lower() for h in header]
    for candidate in TARGET_COLUMNS:
        if candidate in names:
            return names.index(candidate)
    raise TargetError(f"{source}: no 'target' column in the header {header}")


def _rows_csv(path: Path) -> Iterator[tuple[int, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = csv.reader(handle)
        header = next(rows, [])
        column = _target_column(header, str(path))
        for number, row in enumerate(rows, start=2):
            value = row[column].strip() if column < len(row) else ""
            if value and not value.startswith("#"):
                yield number, value


def _rows_xlsx(path: Path) -> Iterator[tuple[int, str]]:
    from openpyxl import load_workbook

    sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [str(v or "") for v in next(rows, ())]
    column = _target_column(header, str(path))
    for number, row in enumerate(rows, start=2):
        value = str(row[column] or "").strip() if column < len(row) else ""
        if value and not value.startswith("#"):
            yield number, value


def read_targets(path: Path, *, allow_private: bool = False) -> Iterator[Target | InputProblem]:
    """Targets of an input file, with an `InputProblem` in place of each unusable line."""
    readers = {".txt": _rows_txt, ".csv": _rows_csv, ".xlsx": _rows_xlsx}
    reader = readers.get(path.suffix.lower(), _rows_txt)
    try:
        for number, text in reader(path):
            try:
                yield parse_target(text, allow_private=allow_private)
            except TargetError as exc:
                yield InputProblem(str(path), number, str(exc))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise TargetError(f"cannot read {path}: {exc}") from exc
