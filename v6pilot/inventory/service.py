"""Importing an inventory file into the store, all or nothing, and exporting it back.

Rows that repeat an organisation, region, asset or project must agree with the first row
stating each fact; a row that contradicts one is reported and skipped. An empty cell states
nothing, so each entity is written with every fact its rows state.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from v6pilot.inventory.io import (
    InventorySheet,
    ParsedRow,
    RowProblem,
    read_inventory,
    write_inventory,
)
from v6pilot.inventory.model import InventoryRow
from v6pilot.store.assets import AssetFilter, inventory_rows, upsert_inventory_row
from v6pilot.store.db import Store

Fact = tuple[str, str, str]
"""(entity kind, entity key, attribute), e.g. ("organisation", "某大学", "industry")."""


@dataclass
class ImportReport:
    """What an import did: rows written, rows refused with why, headers not understood."""

    imported: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    ignored_columns: tuple[str, ...] = ()


def _stated(row: InventoryRow) -> list[tuple[Fact, Any, str]]:
    """The facts a row states about its entities, each with its value and source column."""
    facts: list[tuple[Fact, Any, str]] = [
        (("asset", row.target, "kind"), row.kind, "kind"),
        (("asset", row.target, "organisation"), row.organisation, "organisation"),
    ]
    for column in ("organisation_type", "industry", "province", "city"):
        value = getattr(row, column)
        if value is not None:
            facts.append((("organisation", row.organisation, column), value, column))
    if row.city is not None and row.city_level is not None:
        region = f"{row.province}/{row.city}"
        facts.append((("region", region, "city_level"), row.city_level, "city_level"))
    if row.project is not None and row.direction is not None:
        facts.append((("project", row.project, "direction"), row.direction, "direction"))
    return facts


@dataclass
class _Facts:
    """The first value stated for each fact, and the line stating it."""

    known: dict[Fact, tuple[Any, int]] = field(default_factory=dict)

    def contradictions(self, parsed: ParsedRow, headers: dict[str, str]) -> list[RowProblem]:
        problems = []
        for fact, value, column in _stated(parsed.row):
            first = self.known.get(fact)
            if first is not None and first[0] != value:
                kind, key, attribute = fact
                problems.append(
                    RowProblem(
                        parsed.line,
                        headers.get(column, column),
                        f"{kind} {key!r} has {attribute} {str(first[0])!r} on line {first[1]},"
                        f" not {str(value)!r}",
                    )
                )
        return problems

    def learn(self, parsed: ParsedRow) -> None:
        for fact, value, _ in _stated(parsed.row):
            self.known.setdefault(fact, (value, parsed.line))

    def get(self, fact: Fact) -> Any:
        known = self.known.get(fact)
        return known[0] if known else None

    def completed(self, row: InventoryRow) -> InventoryRow:
        """`row` with every fact other rows state about its organisation, region, project."""
        organisation = {
            column: self.get(("organisation", row.organisation, column))
            for column in ("organisation_type", "industry", "province", "city")
        }
        merged = replace(row, **organisation)
        if merged.city is not None:
            region = f"{merged.province}/{merged.city}"
            merged = replace(merged, city_level=self.get(("region", region, "city_level")))
        if merged.project is not None:
            merged = replace(merged, direction=self.get(("project", merged.project, "direction")))
        return merged


def reconcile(sheet: InventorySheet) -> tuple[list[InventoryRow], list[RowProblem]]:
    """The rows to write, each completed with the facts of its entities, and a problem for
    every cell that contradicts an earlier row (that row is skipped)."""
    facts = _Facts()
    kept: list[ParsedRow] = []
    problems: list[RowProblem] = []
    for parsed in sheet.rows:
        contradictions = facts.contradictions(parsed, sheet.headers)
        if contradictions:
            problems += contradictions
            continue
        facts.learn(parsed)
        kept.append(parsed)
    return [facts.completed(p.row) for p in kept], problems


def import_inventory(store: Store, path: Path) -> ImportReport:
    """Import an inventory file: good rows written in one transaction (a database error
    leaves nothing written), bad rows reported by line and column."""
    sheet = read_inventory(path)
    rows, contradictions = reconcile(sheet)
    with store.transaction() as session:
        for row in rows:
            upsert_inventory_row(session, row)
    problems = sorted(sheet.problems + contradictions, key=lambda p: p.line)
    return ImportReport(len(rows), problems, sheet.ignored_columns)


def export_inventory(
    store: Store, path: Path, *, chinese: bool = False, where: AssetFilter | None = None
) -> int:
    """Write the inventory (or the assets matching `where`) to a .csv or .xlsx file, one row
    per asset and project; with `chinese`, Chinese headers and labels. Rows written."""
    with store.transaction() as session:
        return write_inventory(path, inventory_rows(session, where), chinese=chinese)
