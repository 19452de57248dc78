"""The report catalogues are complete in both languages, and labels read as expected."""

from __future__ import annotations

from importlib import resources

import yaml

from v6pilot.reports.labels import both, group_label, sheet_title


def keys(lang: str) -> set[str]:
    text = resources.files("v6pilot.i18n").joinpath(lang, "reports.yaml").read_text("utf-8")
    return set(yaml.safe_load(text))


def test_same_keys_in_both_languages() -> None:
    assert keys("en") == keys("zh")


def test_labels() -> None:
    assert both("column.assets") == "资产数 / assets"
    assert sheet_title("level.industry") == "industry 行业"
    assert group_label("industry", "finance") == "finance 金融"
    assert group_label("industry", "金融") == "finance 金融"
    assert group_label("industry", "space") == "space"
    assert group_label("city", "Hangzhou") == "Hangzhou"
