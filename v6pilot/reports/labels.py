"""Bilingual labels for report headings, grades, states and group names (from `reports.yaml`)."""

from __future__ import annotations

from v6pilot import i18n
from v6pilot.inventory.model import Direction, Industry, LabelledEnum

ENUM_LEVELS: dict[str, type[LabelledEnum]] = {"industry": Industry, "direction": Direction}


def label(key: str, lang: str) -> str:
    """The report label `report.<key>` in `lang`."""
    return i18n.render(f"report.{key}", lang)


def both(key: str, separator: str = " / ") -> str:
    """The label in Chinese and English, e.g. "资产数 / assets"."""
    return f"{label(key, 'zh')}{separator}{label(key, 'en')}"


def sheet_title(key: str) -> str:
    """An English-then-Chinese sheet name such as "industry 行业" (under Excel's 31 characters)."""
    return f"{label(key, 'en')} {label(key, 'zh')}"[:31]


def group_label(level: str, name: str) -> str:
    """A group's name, with its Chinese label when it is a known industry or direction."""
    kind = ENUM_LEVELS.get(level)
    if kind is None:
        return name
    try:
        member = kind.parse(name)
    except ValueError:
        return name
    return f"{member.value} {member.zh}"
