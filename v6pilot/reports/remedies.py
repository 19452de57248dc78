"""How to fix a failing or warning check, in either language, from the `remedy.*` catalogue."""

from __future__ import annotations

from v6pilot import i18n
from v6pilot.checks.result import Status

GENERIC = {Status.ERROR.value: "remedy.error", Status.SKIPPED.value: "remedy.skipped"}


def remedy_key(check_id: str, status: str) -> str | None:
    """The catalogue key of the advice for `check_id` in `status`; None when nothing to fix.

    A warning without advice of its own gets the failure's advice.
    """
    if status in GENERIC:
        return GENERIC[status]
    if status not in (Status.FAIL.value, Status.WARN.value):
        return None
    known = i18n.catalogue("en")
    for key in (f"remedy.{check_id}.{status}", f"remedy.{check_id}.fail"):
        if key in known:
            return key
    return None


def remedy(check_id: str, status: str, lang: str = "en") -> str | None:
    """The advice for `check_id` in `status` in `lang`, or None (passing, or an unknown check)."""
    key = remedy_key(check_id, status)
    return i18n.render(key, lang) if key else None
