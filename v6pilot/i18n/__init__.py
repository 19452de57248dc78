"""Translation catalogues: every user-facing explanation text lives in YAML, one file per area
and language (`i18n/<lang>/<area>.yaml`), and is rendered here by key with named parameters."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGUAGES = ("en", "zh")


@cache
def catalogue(lang: str) -> dict[str, str]:
    """All messages of one language, merged over the area files."""
    merged: dict[str, str] = {}
    for entry in sorted(resources.files("v6pilot.i18n").joinpath(lang).iterdir(), key=str):
        if entry.name.endswith(".yaml"):
            merged.update(yaml.safe_load(entry.read_text("utf-8")) or {})
    return merged


def render(key: str, lang: str = "en", **params: Any) -> str:
    """The message `key` in `lang` with `params` filled in; a missing key is a bug (KeyError)."""
    return catalogue(lang)[key].format(**params)
