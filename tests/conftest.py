"""Shared fixtures: an in-memory workspace and a folder for written files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import journeylib as jl

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def ws() -> Iterator[jl.Workspace]:
    """A fresh in-memory workspace."""
    workspace = jl.open()
    yield workspace
    workspace.close()
