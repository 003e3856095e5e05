"""Shared fixtures (an in-memory workspace) and the test tiers.

``pytest -m "not slow"`` is the fast tier to iterate on; the whole suite (CI,
``bash scripts/test.sh``) runs everything.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import journeylib as jl

GOLDEN = Path(__file__).parent / "golden"


def pytest_configure(config: pytest.Config) -> None:
    """Property tests try 60 examples each; 15 in the fast tier (``-m "not slow"``)."""
    fast = "not slow" in (config.option.markexpr or "")
    settings.register_profile(
        "journeylib",
        max_examples=15 if fast else 60,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.load_profile("journeylib")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Spark tests are slow too (the browser's are marked so where they are)."""
    for item in items:
        if item.get_closest_marker("spark"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def ws() -> Iterator[jl.Workspace]:
    """A fresh in-memory workspace."""
    workspace = jl.open()
    yield workspace
    workspace.close()
