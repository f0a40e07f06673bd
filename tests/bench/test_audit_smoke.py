"""Smoke run of the audit append benchmark: 1 and 2 writer processes for a second each on the real Redis.

Checks the report's shape and that concurrent writers leave one intact chain (every append in it once,
checkpoints included). The full run (``python -m bench audit``) measures 1, 4 and 16 writers.
"""

from __future__ import annotations

import json

import pytest

from bench import audit

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def report(tmp_path_factory, redis_url):
    output = tmp_path_factory.mktemp("bench") / "audit.json"
    assert audit.main(["--quick", "--output", str(output)]) == 0
    return json.loads(output.read_text())


def test_report_has_the_documented_fields(report):
    assert report["command"].startswith("python -m bench audit --quick")
    assert report["machine"] and report["bulk_api_calls_per_s"] > 0
    assert [run["writers"] for run in report["runs"]] == [1, 2]
    for run in report["runs"]:
        for field in ("appends", "appends_per_s", "retries", "retries_per_append", "entries", "checkpoints"):
            assert isinstance(run[field], int | float), field
    assert "met" in report["targets"] and "chains_intact" in report["targets"]


def test_concurrent_writers_leave_one_intact_chain_with_checkpoints(report):
    for run in report["runs"]:
        assert run["chain_intact"], run["problems"]
        assert run["entries"] == run["appends"] > 0
        assert run["checkpoints"] >= run["appends"] // audit.QUICK_CHECKPOINT_EVERY > 0
