"""Inventory files: reading .csv (UTF-8 or GB18030) and .xlsx into validated rows, with a
problem per bad cell, and writing rows back with English or Chinese headers and labels."""

from __future__ import annotations

import csv
import io
import ipaddress
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from v6pilot.errors import V6PilotError
from v6pilot.inventory.model import (
    COLUMNS,
    AssetKind,
    CityLevel,
    Direction,
    Industry,
    InventoryRow,
    LabelledEnum,
    OrganisationType,
)
from v6pilot.scan.targets import TargetError, parse_target
from v6pilot.store.models import NAME_LENGTH, TARGET_LENGTH

REQUIRED_COLUMNS = ("target", "organisation")
REGION_LENGTH = 64
ENDPOINT = re.compile(r"^(?P<host>\[[^\]]+\]|[^\s:/\[\]]+):(?P<port>\d{1,5})/(?P<protocol>\S+)$")
TRANSPORT_PROTOCOLS = ("tcp", "udp", "quic")
WEB_PROTOCOLS = ("http", "https", "ws", "wss", "grpc", "sip", "xmpp", "dns", "ntp")
IOT_PROTOCOLS = ("mqtt", "mqtts", "coap", "coaps", "amqp", "amqps", "lwm2m", "modbus", "opcua")
ENDPOINT_PROTOCOLS = frozenset((*TRANSPORT_PROTOCOLS, *WEB_PROTOCOLS, *IOT_PROTOCOLS))
E = TypeVar("E", bound=LabelledEnum)
EXCEL_ENCODINGS = ("utf-8-sig", "gb18030")
"""UTF-8 with or without BOM first; Chinese Excel saves CSV in GBK, a subset of GB18030."""


class InventoryError(V6PilotError):
    """The inventory file as a whole cannot be read: missing, wrong format, bad header."""


@dataclass(frozen=True)
class RowProblem:
    """A bad row: its line in the file, the column at fault (as headed in the file) and why."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.column is None:
            return f"line {self.line}: {self.message}"
        return f"line {self.line}, column {self.column}: {self.message}"


@dataclass(frozen=True)
class ParsedRow:
    """A valid row and the line it came from, for reporting conflicts with later rows."""

    line: int
    row: InventoryRow


@dataclass
class InventorySheet:
    """What an inventory file holds: valid rows, problems of the invalid ones, and how the
    file headed each known column (English name -> header) and which headers it ignored."""

    rows: list[ParsedRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    ignored_columns: tuple[str, ...] = ()


def _endpoint(text: str) -> str:
    match = ENDPOINT.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not an endpoint host:port/protocol")
    host, port, protocol = match["host"], int(match["port"]), match["protocol"].lower()
    if not 1 <= port <= 65535:
        raise ValueError(f"{text!r}: port {port} is not in 1-65535")
    if protocol not in ENDPOINT_PROTOCOLS:
        raise ValueError(
            f"{text!r}: protocol {protocol!r} is not one of: "
            + ", ".join(sorted(ENDPOINT_PROTOCOLS))
        )
    if host.startswith("["):
        try:
            address = ipaddress.IPv6Address(host[1:-1])
        except ValueError as exc:
            raise ValueError(f"{text!r}: {host} is not an IPv6 address") from exc
        return f"[{address.compressed}]:{port}/{protocol}"
    try:
        name = str(ipaddress.IPv4Address(host))
    except ValueError:
        name = parse_target(host, allow_private=True).host
    return f"{name}:{port}/{protocol}"


def normalise_target(text: str, kind: AssetKind) -> str:
    """The canonical form of an asset's target, so one asset is always written one way:
    a website is its ASCII host when it starts at `http://host/`, else its URL; a domain is
    its ASCII name; an endpoint is `host:port/protocol`. ValueError says what is wrong."""
    if kind is AssetKind.ENDPOINT:
        return _endpoint(text.strip())
    try:
        target = parse_target(text, allow_private=True)
    except TargetError as exc:
        raise ValueError(str(exc)) from exc
    bare = target.url == f"http://{target.host}/"
    if kind is AssetKind.DOMAIN and not bare:
        raise ValueError(f"{text!r} is a URL; a domain is a bare name like example.cn")
    return target.host if bare else target.url


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _csv_lines(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    for encoding in EXCEL_ENCODINGS:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text, newline=""))]
    raise InventoryError(f"{path}: not UTF-8 or GB18030 text; save the CSV as UTF-8")


def _xlsx_lines(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError) as exc:
        raise InventoryError(f"{path}: not an .xlsx workbook: {exc}") from exc
    try:
        sheet = book.worksheets[0]
        return [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _lines(path: Path) -> list[list[str]]:
    readers = {".csv": _csv_lines, ".xlsx": _xlsx_lines}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise InventoryError(f"{path}: an inventory is a .csv or .xlsx file")
    try:
        return reader(path)
    except (OSError, csv.Error) as exc:
        raise InventoryError(f"cannot read {path}: {exc}") from exc


def _header(cells: list[str], path: Path) -> tuple[dict[str, int], dict[str, str], list[str]]:
    """Column positions and headers by English name, and the headers not understood."""
    names = {english: english for english in COLUMNS} | {zh: en for en, zh in COLUMNS.items()}
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    for position, header in enumerate(cells):
        name = names.get(header) or names.get(header.lower())
        if name is None:
            if header:
                ignored.append(header)
            continue
        if name in positions:
            raise InventoryError(
                f"{path}: columns {headers[name]!r} and {header!r} are both {name}"
            )
        positions[name] = position
        headers[name] = header
    missing = [c for c in REQUIRED_COLUMNS if c not in positions]
    if missing:
        raise InventoryError(
            f"{path}: no {' or '.join(repr(c) + f' ({COLUMNS[c]})' for c in missing)} column"
            f" in the header {cells}"
        )
    return positions, headers, ignored


class _RowReader:
    """Validates one row's cells, collecting a problem per bad cell."""

    def __init__(self, line: int, cells: dict[str, str], headers: dict[str, str]) -> None:
        self.line = line
        self.cells = cells
        self.headers = headers
        self.faults: list[tuple[str, str]] = []

    @property
    def problems(self) -> list[RowProblem]:
        """The row's problems, in the order of the inventory's columns."""
        order = list(COLUMNS)
        faults = sorted(self.faults, key=lambda fault: order.index(fault[0]))
        return [RowProblem(self.line, self.headers.get(c, c), message) for c, message in faults]

    def problem(self, column: str, message: str) -> None:
        self.faults.append((column, message))

    def text(self, column: str, limit: int) -> str | None:
        value = self.cells.get(column, "")
        if len(value) > limit:
            self.problem(column, f"longer than {limit} characters")
        return value or None

    def member(self, column: str, enum: type[E]) -> E | None:
        value = self.cells.get(column, "")
        if not value:
            return None
        try:
            return enum.parse(value)
        except ValueError as exc:
            self.problem(column, str(exc))
            return None

    def target(self, kind: AssetKind | None) -> str:
        text = self.cells.get("target", "")
        if kind is None:
            return text
        try:
            target = normalise_target(text, kind)
        except ValueError as exc:
            self.problem("target", str(exc))
            return text
        if len(target) > TARGET_LENGTH:
            self.problem("target", f"longer than {TARGET_LENGTH} characters")
        return target

    def row(self) -> InventoryRow | None:
        kind_text = self.cells.get("kind", "")
        kind = self.member("kind", AssetKind) if kind_text else AssetKind.WEBSITE
        target = self.target(kind)
        organisation = self.text("organisation", NAME_LENGTH)
        if organisation is None:
            self.problem("organisation", "every asset needs its organisation")
        province = self.text("province", REGION_LENGTH)
        city = self.text("city", REGION_LENGTH)
        city_level = self.member("city_level", CityLevel)
        if city_level is not None and city is None:
            self.problem("city", f"a city level ({city_level}) needs a city")
        if city is not None and province is None:
            self.problem("province", f"city {city!r} needs its province")
        project = self.text("project", NAME_LENGTH)
        direction = self.member("direction", Direction)
        if direction is not None and project is None:
            self.problem("project", f"a direction ({direction}) needs a project")
        organisation_type = self.member("organisation_type", OrganisationType)
        industry = self.member("industry", Industry)
        if self.faults or kind is None or organisation is None:
            return None
        return InventoryRow(
            target=target,
            kind=kind,
            organisation=organisation,
            organisation_type=organisation_type,
            industry=industry,
            province=province,
            city=city,
            city_level=city_level,
            project=project,
            direction=direction,
        )


def read_inventory(path: Path) -> InventorySheet:
    """Every row of an inventory file, validated; blank rows and rows whose target starts
    with `#` are skipped. InventoryError when the file as a whole is unusable."""
    lines = _lines(path)
    if not lines:
        raise InventoryError(f"{path}: empty file, expected a header row")
    positions, headers, ignored = _header(lines[0], path)
    sheet = InventorySheet(headers=headers, ignored_columns=tuple(ignored))
    for line, cells in enumerate(lines[1:], start=2):
        values = {name: cells[i] if i < len(cells) else "" for name, i in positions.items()}
        if not any(values.values()) or values["target"].startswith("#"):
            continue
        reader = _RowReader(line, values, headers)
        row = reader.row()
        if row is None:
            sheet.problems += reader.problems
        else:
            sheet.rows.append(ParsedRow(line, row))
    return sheet


def _cells(row: InventoryRow, chinese: bool) -> list[str]:
    cells = []
    for column in COLUMNS:
        value = getattr(row, column)
        if isinstance(value, LabelledEnum):
            cells.append(value.zh if chinese else value.value)
        else:
            cells.append(value or "")
    return cells


def write_inventory(path: Path, rows: Iterable[InventoryRow], *, chinese: bool = False) -> int:
    """Write `rows` to a .csv (UTF-8 with BOM, for Excel) or .xlsx file, headed in English
    or, with `chinese`, in Chinese with Chinese labels; the number of rows written."""
    header = list(COLUMNS.values()) if chinese else list(COLUMNS)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InventoryError(f"{path}: an inventory is a .csv or .xlsx file")
    try:
        if suffix == ".csv":
            return _write_csv(path, header, (_cells(r, chinese) for r in rows))
        return _write_xlsx(path, header, (_cells(r, chinese) for r in rows))
    except OSError as exc:
        raise InventoryError(f"cannot write {path}: {exc}") from exc


def _write_csv(path: Path, header: list[str], lines: Iterator[list[str]]) -> int:
    count = 0
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for cells in lines:
            writer.writerow(cells)
            count += 1
    return count


def _write_xlsx(path: Path, header: list[str], lines: Iterator[list[str]]) -> int:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("inventory")
    sheet.append(header)
    count = 0
    for cells in lines:
        sheet.append(cells)
        count += 1
    book.save(path)
    return count
