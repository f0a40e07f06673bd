"""Smoke run of the console page-render benchmark (``python -m bench console --quick``): real Redis, the
intake app in process. It checks the report's shape and that a list page costs a fixed, small number of
Redis round trips (no request read one at a time); the full run (10,000 requests) is where times are
measured."""

from __future__ import annotations

import json

import pytest

from bench import console

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def report(tmp_path_factory, redis_url):
    output = tmp_path_factory.mktemp("bench") / "console.json"
    assert console.main(["--quick", "--output", str(output)]) == 0
    return json.loads(output.read_text())


def test_report_has_each_page_with_time_and_round_trips(report):
    assert report["command"] == "python -m bench console --quick" and report["requests"] == 500
    assert set(report["pages"]) == {"overview", "approval_queue"}
    for page in report["pages"].values():
        assert page["renders"] == 3 and 0 < page["median_ms"] <= page["p95_ms"]


def test_a_list_page_costs_a_few_round_trips_whatever_the_number_of_requests(report):
    # The session (2), every request's list row with the dead letters (1), and for the queue the page's
    # records with their submitters (1): reading a request at a time would be hundreds.
    assert report["pages"]["overview"]["round_trips_per_render"] == 3
    assert report["pages"]["approval_queue"]["round_trips_per_render"] == 4
    for page in report["pages"].values():
        assert page["round_trips_min"] == page["round_trips_per_render"]


def test_round_trips_are_counted(monkeypatch, redis_url):
    """The counter itself: a command is one, a pipeline of many is one."""
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    trips = console.RoundTrips()
    with trips.counting(client):
        client.ping()
        with client.pipeline(transaction=False) as pipe:
            pipe.ping()
            pipe.ping()
            pipe.execute()
    assert trips.count == 2
