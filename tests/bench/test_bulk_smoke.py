"""Smoke run of the bulk benchmark: real Redis, the simulator and real Celery worker processes.

The quick size (60 subjects batched, 30 naive, GDPR requests of a few seconds) checks that every subject
is erased once, that batching really saves calls, and that the result file has the documented shape. It
makes no claim about speed: the full run (``python -m bench bulk``) is where time_ratio is measured.
"""

from __future__ import annotations

import json

import pytest

from bench import bulk

pytestmark = pytest.mark.integration

FIELDS = ("subjects", "erased", "api_calls", "calls_per_subject", "wall_s", "ideal_s", "time_ratio", "duplicate_deletes")


@pytest.fixture(scope="module")
def report(tmp_path_factory, redis_url):
    output = tmp_path_factory.mktemp("bench") / "bulk.json"
    assert bulk.main(["--quick", "--output", str(output)]) == 0
    return json.loads(output.read_text())


def test_report_has_the_documented_fields_for_both_runs(report):
    assert report["command"].startswith("python -m bench bulk --quick")
    assert report["machine"]
    for run in (report, report["naive"]):
        for field in FIELDS:
            assert isinstance(run[field], int | float), field
    assert set(report["targets"]) == {"erased_all", "no_duplicate_deletes", "time_ratio_at_most_1.10",
                                      "calls_per_subject_at_most_half_naive"}


def test_every_subject_erased_exactly_once_in_both_runs(report):
    for run in (report, report["naive"]):
        assert run["erased"] == run["subjects"] > 0, run["states"]
        assert run["duplicate_deletes"] == 0
        # One per external contact of each subject, the warm-up subject's not counted.
        assert run["gdpr_deletes"] == run["gdpr_deletes_needed"] >= run["subjects"]


def test_batching_spends_fewer_calls_per_subject_than_the_naive_run(report):
    assert report["calls_per_subject"] < report["naive"]["calls_per_subject"]
    by_endpoint, naive_by_endpoint = report["calls_per_subject_by_endpoint"], report["naive"]["calls_per_subject_by_endpoint"]
    query = "POST /api/v2/analytics/conversations/details/query"
    assert by_endpoint[query] < naive_by_endpoint[query]
    assert by_endpoint.get("GET /api/v2/gdpr/requests/{requestId}", 0) == 0
    assert naive_by_endpoint["GET /api/v2/gdpr/requests/{requestId}"] > 0
