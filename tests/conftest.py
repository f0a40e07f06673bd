"""Test tiers by folder: everything under ``tests/integration`` and ``tests/bench`` starts real
processes or needs the real Redis, and carries the ``integration`` marker, so
``pytest -m "not integration"`` is the fast tier that runs with no Redis at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_TESTS = Path(__file__).parent
INTEGRATION_FOLDERS = (_TESTS / "integration", _TESTS / "bench")

# The simulator is a distribution of its own (sim/). The tests use this checkout's copy, installed or not:
# pyproject's `pythonpath = ["sim"]` does it for pytest, PYTHONPATH for the processes tests start (the demo,
# benchmark runs).
_SIM = str(_TESTS.parent / "sim")
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_SIM, os.environ.get("PYTHONPATH")) if p)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.path))
        if any(path.is_relative_to(folder) for folder in INTEGRATION_FOLDERS):
            item.add_marker(pytest.mark.integration)
