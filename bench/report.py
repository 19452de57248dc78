"""The benchmark's outputs: a readable table on the terminal and the full figures as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

COLUMNS = ("run", "sites", "sites/s", "CPU s/site", "peak RSS MB", "v6pilot/peer", "not all-pass")


def _cell(value: Any, digits: int) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for profile, run in results["v6pilot"].items():
        scanned = run["scanned"]
        label = f"v6pilot {profile}" + ("" if run["complete"] else " (budget)")
        failing = 1 - run["sites_all_pass"] / scanned if scanned else None
        rows.append(
            [
                label,
                str(scanned),
                _cell(run["sites_per_s"], 1),
                _cell(run["cpu_s_per_site"], 5),
                _cell(run["peak_rss_mb"], 1),
                _cell(run.get("ratio_vs_peer"), 3),
                _cell(None if failing is None else f"{failing:.1%}", 0),
            ]
        )
    peer = results.get("peer")
    if peer:
        rows.append(
            [
                "peer adns+curl",
                str(peer["sites"]),
                _cell(peer["sites_per_s"], 1),
                _cell(peer["cpu_s_per_site"], 5),
                _cell(peer["peak_rss_mb"], 1),
                "1.000",
                _cell(f"{1 - peer['ok'] / peer['total']:.1%}", 0),
            ]
        )
    scale = results.get("scale_check")
    if scale:
        rows.append(
            [
                f"scale {scale['profile']}",
                str(scale["scanned"]),
                _cell(scale["sites_per_s"], 1),
                _cell(scale["cpu_s_per_site"], 5),
                _cell(scale["peak_rss_mb"], 1),
                "-",
                _cell(f"{1 - scale['sites_all_pass'] / max(1, scale['scanned']):.1%}", 0),
            ]
        )
    return rows


def table(results: dict[str, Any]) -> str:
    """The summary table: one row per v6pilot profile, the peer, and the scale check."""
    rows = [list(COLUMNS), *_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(
            cell.rjust(w) if i else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_json(results: dict[str, Any], path: Path) -> None:
    """Write every figure to `path` (directories made as needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
