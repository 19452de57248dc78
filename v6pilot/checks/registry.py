"""The check registry: every check registers its id, lowest profile and national indicator."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from v6pilot.checks.result import CheckResult

if TYPE_CHECKING:
    from v6pilot.checks.context import TargetContext

PROFILES = ("quick", "standard", "full")
AREA_MODULES = ("dns", "mail", "web", "links", "security")
CheckFn = Callable[["TargetContext"], Awaitable[CheckResult]]


@dataclass(frozen=True)
class Check:
    """A registered check: `profile` is the lightest profile that runs it."""

    id: str
    profile: str
    fn: CheckFn
    indicator: int | None = None
    needs: frozenset[int] = frozenset()
    """IP versions the scanner must be able to reach for the check to mean anything."""


REGISTRY: dict[str, Check] = {}


def register(
    check_id: str, *, profile: str, indicator: int | None = None, needs: tuple[int, ...] = ()
) -> Callable[[CheckFn], CheckFn]:
    """Decorator adding an async check function to the registry under a stable id."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r} for {check_id}")

    def add(fn: CheckFn) -> CheckFn:
        if check_id in REGISTRY:
            raise ValueError(f"check {check_id} registered twice")
        REGISTRY[check_id] = Check(check_id, profile, fn, indicator, frozenset(needs))
        return fn

    return add


def load_all() -> dict[str, Check]:
    """Import every area module so its checks register, then return the registry."""
    for module in AREA_MODULES:
        importlib.import_module(f"v6pilot.checks.{module}")
    return REGISTRY


def checks_for(profile: str) -> list[Check]:
    """The checks a profile runs, in registry order (profiles include the lighter ones)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    level = PROFILES.index(profile)
    return [c for c in load_all().values() if PROFILES.index(c.profile) <= level]
