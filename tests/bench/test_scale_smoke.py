"""Smoke run of the scale benchmark: real Redis, the simulator and real Celery worker processes.

Two tiny sizes (20 and 40 subjects) check that every per-size figure is there and that the key check
finds every key of a final request with a TTL or a reason. It makes no claim about flatness: the full run
(``python -m bench scale``) is where 1,000 and 20,000 subjects are compared.
"""

from __future__ import annotations

import json

import pytest

from bench import scale

pytestmark = pytest.mark.integration

FIELDS = ("subjects", "erased", "calls_per_subject", "wall_s", "ideal_s", "time_ratio", "peak_bytes_per_request",
          "final_bytes_per_request", "in_flight_bytes_per_request", "audit_entries_per_subject",
          "audit_bytes_per_subject")


@pytest.fixture(scope="module")
def report(tmp_path_factory, redis_url):
    output = tmp_path_factory.mktemp("bench") / "scale.json"
    assert scale.main(["--quick", "--output", str(output)]) == 0
    return json.loads(output.read_text())


def test_report_has_every_figure_for_every_size(report):
    assert report["command"].startswith("python -m bench scale --quick")
    assert report["machine"]
    assert [run["subjects"] for run in report["runs"]] == [20, 40]
    for run in report["runs"]:
        for field in FIELDS:
            assert isinstance(run[field], int | float), field
        assert run["erased"] == run["subjects"]
    assert set(report["targets"]) == {"erased_all_chain_intact", "calls_per_subject_flat", "time_ratio_flat",
                                      "time_ratio_not_worse_than_smallest",
                                      "final_keys_have_ttl_or_reason", "met"}


def test_final_requests_leave_records_certificates_and_audit_entries(report):
    for run in report["runs"]:
        assert run["final_keys_by_pattern"]["{p}:req:<request_id>"] == run["requests_in_prefix"]
        assert run["final_bytes_per_request_by_pattern"]["{p}:cert:<request_id>"] > 0
        assert run["audit_entries_per_subject"] > 1 and run["audit_bytes_per_subject"] > 100
        assert run["audit_chain_intact"]


def test_every_key_without_a_ttl_has_a_reason(report):
    assert report["targets"]["final_keys_have_ttl_or_reason"]
    for run in report["runs"]:
        assert run["keys_without_ttl"], "records and certificates are kept: the check must see them"
        assert run["keys_without_ttl_unexplained"] == []
    assert "{p}:req:<request_id>" in report["kept_without_ttl_reasons"]
