"""Smoke run of the mixed-load benchmark: real Redis, the simulator and real Celery worker processes.

The quick size (150 bulk subjects, 2 singles, GDPR requests of a few seconds) checks that both phases run
end to end on the same subjects, that every request ends with a certificate, and that the result file has
the documented shape. It makes no claim about fairness or speed: the full run (``python -m bench mixed``)
is where the singles' times against idle and the bulk run's time against its floor are measured.
"""

from __future__ import annotations

import json

import pytest

from bench import mixed

pytestmark = pytest.mark.integration

PAIR_FIELDS = ("idle_s", "mixed_s", "ratio", "submitted_after_s", "overtook_bulk")
BULK_FIELDS = ("subjects", "completed", "api_calls", "calls_per_subject", "wall_s", "floor_s", "time_ratio")


@pytest.fixture(scope="module")
def report(tmp_path_factory, redis_url):
    output = tmp_path_factory.mktemp("bench") / "mixed.json"
    assert mixed.main(["--quick", "--output", str(output)]) == 0
    return json.loads(output.read_text())


def test_report_has_the_documented_fields(report):
    assert report["command"].startswith("python -m bench mixed --quick")
    assert report["machine"]
    assert report["singles_compared"].startswith("per single")
    for phase in ("idle", "mixed"):
        assert isinstance(report[phase]["median_s"], float | int), phase
        assert report[phase]["worst_s"] >= report[phase]["median_s"] > 0
    for field in BULK_FIELDS:
        assert isinstance(report["bulk"][field], int | float), field
    assert set(report["targets"]) == {"singles_within_1_5x_idle", "bulk_within_1_15x_floor",
                                      "singles_submitted_during_bulk", "met"}
    assert all(isinstance(v, bool) for v in report["targets"].values())


def test_every_single_and_bulk_request_completed_with_a_certificate(report):
    assert report["bulk"]["completed"] == report["bulk"]["subjects"] == report["subjects"] > 0
    assert len(report["per_single"]) == report["singles"] == 2
    for pair in report["per_single"]:
        assert pair["idle_state"] == pair["mixed_state"] == "completed", pair
        for field in PAIR_FIELDS:
            assert isinstance(pair[field], int | float), field
        assert pair["ratio"] == pytest.approx(pair["mixed_s"] / pair["idle_s"], abs=0.01)
