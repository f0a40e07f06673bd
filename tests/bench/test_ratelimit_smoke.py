"""Smoke run of the rate-limit benchmark: real Redis, the simulator and real Celery worker processes.

The quick size (R = 60 per 3 s window, 1 and 2 workers, 3 s measured) checks that the benchmark runs end
to end and that its result file has the documented shape. It makes no claim about speed: the full run
(``python -m bench ratelimit``) is where the utilization target is measured.
"""

from __future__ import annotations

import json

import pytest

from bench import ratelimit

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def result(tmp_path_factory, redis_url):
    output = tmp_path_factory.mktemp("bench") / "ratelimit.json"
    status = ratelimit.main(["--quick", "--output", str(output), "--redis-url", redis_url])
    assert status == 0
    return json.loads(output.read_text())


def runs_by(result):
    return {(r["workers"], r["mode"]): r for r in result["runs"]}


def test_result_has_the_documented_shape(result):
    assert {"R", "window_s", "duration_s", "machine", "command", "runs"} <= set(result)
    assert result["machine"]["nproc"] >= 1 and result["machine"]["platform"]
    assert result["command"].startswith("python -m bench ratelimit --quick")
    assert set(runs_by(result)) == {(1, "shared"), (1, "baseline"), (2, "shared"), (2, "baseline")}
    for run in result["runs"]:
        for field in ("utilization", "rate_429", "requests", "ok", "rate_limited", "duration_s", "achieved_rps"):
            assert isinstance(run[field], int | float), field
        assert run["requests"] == run["ok"] + run["rate_limited"] + run["other_errors"]
        assert run["ok"] > 0, run
        assert 0.0 <= run["rate_429"] <= 1.0
        assert run["workers_alive_at_end"], run


def test_shared_budget_draws_no_more_429s_than_per_worker_rate_limits(result):
    runs = runs_by(result)
    assert runs[(2, "shared")]["rate_429"] <= runs[(2, "baseline")]["rate_429"]
    for workers in (1, 2):
        assert runs[(workers, "shared")]["rate_limited"] <= 3, runs[(workers, "shared")]
