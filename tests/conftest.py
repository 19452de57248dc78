"""Fixtures shared by the whole suite; the lab fixture brings the simulated internet up once."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from v6pilot.lab.catalogue import Catalogue, load_catalogue


def lab_unavailable_reason() -> str | None:
    """Why the lab cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "the lab needs root to create network namespaces"
    if shutil.which("ip") is None:
        return "the lab needs iproute2 (`ip`)"
    return None


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="session")
def lab(catalogue: Catalogue) -> Iterator[Catalogue]:
    """The running lab, up for the whole session and removed at its end."""
    reason = lab_unavailable_reason()
    if reason:
        pytest.skip(reason)
    from v6pilot.lab import topology

    topology.up(catalogue)
    yield catalogue
    topology.down()
