"""Issue 19, what it must show: the four pools (prefork, as production runs them) and the intake API serve
Prometheus metrics; after a few subjects the counters have moved (API calls, tasks, requests completed), the
store gauges agree with the store (requests by state), and no identifier, ticket or request id is in any
label or value of any endpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest
from genesys_sim.config import SimConfig
from prometheus_client.parser import text_string_to_metric_families

from services.workers import POOLS
from shared.api_keys import ApiKeyStore
from shared.models import RequestState
from tests.support.intake_api import running_api
from tests.support.private_redis import free_port
from tests.support.stack import running_stack, wait_final, wait_until

pytestmark = pytest.mark.integration


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [(s.name, s.labels, s.value) for family in text_string_to_metric_families(text) for s in family.samples]


def key(stack, name: str, *scopes: str) -> tuple[str, dict[str, str]]:
    info, token = ApiKeyStore(stack.runtime.redis, stack.runtime.keys).create(name, list(scopes))
    return info.key_id, {"Authorization": f"Bearer {token}"}


def total(scrapes: dict[str, str], name: str, **labels: str) -> float:
    """The sum over every endpoint of the samples named ``name`` carrying ``labels``."""
    return sum(value for text in scrapes.values() for sample, have, value in samples(text)
               if sample == name and all(have.get(k) == v for k, v in labels.items()))


def test_every_pool_and_the_api_serve_metrics_that_move_and_name_nobody(tmp_path, redis_available):
    ports = {pool: free_port() for pool in POOLS}

    def pool_env(pool: str) -> dict[str, str]:
        return {"ERASURE_METRICS_PORT": str(ports[pool]),
                "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics" / pool)}

    # Counts an earlier run of the deletion worker left in its directory: the worker empties it at start.
    stale = tmp_path / "metrics" / "deletion"
    stale.mkdir(parents=True)
    subprocess.run([sys.executable, "-c", "from shared.metrics import TASKS; TASKS.labels('stale.run', 'ok').inc(7)"],
                   env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(stale)}, check=True, timeout=60)
    assert list(stale.glob("*.db"))
    config = SimConfig(subjects=2, seed=11, gdpr_step_s=0.1, rate_limit=6000)
    with running_stack(tmp_path, redis_available, config, worker_pool="prefork", concurrency=1, pool_env=pool_env,
                       ERASURE_METRICS_INTERVAL_S="0.5") as stack:
        # Keys made in-process (the CLI's door is tested elsewhere): two CLI processes would cost seconds.
        scraper = key(stack, "prometheus", "metrics:read")[1]
        submitter_id, submitter = key(stack, "dsar-tool", "requests:submit", "requests:read")
        subjects = httpx.get(f"{stack.sim_url}/_sim/subjects").json()
        env = {**stack.env, "ERASURE_PREAPPROVE_KEYS": json.dumps([submitter_id])}
        with running_api(env, stack.tmp / "logs") as url:
            tickets = [f"MX-{n}" for n in range(len(subjects))] + ["MX-WAIT"]
            ids = []
            for ticket, subject in zip(tickets, [*subjects, subjects[0]], strict=True):
                body = {"ticket": ticket, "emails": subject["emails"][:1]}
                if ticket != "MX-WAIT":  # preapproved; the last one waits for a second key's approval
                    body["approved_by"] = "dsar-tool"
                answer = httpx.post(f"{url}/requests", json=body, headers=submitter, timeout=30)
                assert answer.status_code == 202, answer.text
                ids.append(answer.json()["request_id"])
            store = stack.runtime.store
            wait_final(stack, ids[:-1])
            wait_until(lambda: store.get(ids[-1]).state is RequestState.AWAITING_APPROVAL, timeout_s=30,
                       message="the unapproved request to wait at the gate")
            expected = {state.value: n for state in RequestState
                        if (n := sum(s is state for s in store.states(ids).values()))}

            def scrape_all() -> dict[str, str]:
                scrapes = {pool: httpx.get(f"http://127.0.0.1:{ports[pool]}/metrics", timeout=10).text for pool in POOLS}
                assert httpx.get(f"{url}/metrics").status_code == 401  # the API's own: behind a metrics:read key
                scrapes["api"] = httpx.get(f"{url}/metrics", headers=scraper, timeout=10).text
                return scrapes

            def gauges_right() -> dict[str, str] | None:
                scrapes = scrape_all()
                every_pool = all(
                    {state: total({pool: scrapes[pool]}, "erasure_requests", state=state) for state in expected}
                    == expected for pool in POOLS)
                return scrapes if every_pool else None

            # Each pool serves the same store gauges (one worker reads the store per interval).
            scrapes = wait_until(gauges_right, timeout_s=15, message="every pool's gauges to agree with the store")

        completed = expected.get("completed", 0) + expected.get("completed_with_withheld", 0)
        assert completed >= 1 and expected["awaiting_approval"] == 1
        # Counted in the pools' prefork children, merged by each worker's endpoint.
        assert total(scrapes, "erasure_requests_finished_total", kind="erase") == len(subjects)
        assert total(scrapes, "erasure_api_requests_total", method="POST", route="/requests", status="202") == len(tickets)
        assert total(scrapes, "erasure_genesys_api_calls_total") > 0
        assert total(scrapes, "erasure_ratelimit_tokens_granted_total") > 0
        for pool in POOLS:
            assert total({pool: scrapes[pool]}, "erasure_tasks_total", outcome="ok") > 0, pool
            assert any(name == "erasure_queue_messages" and labels.get("queue") == pool
                       for name, labels, _ in samples(scrapes[pool])), pool  # every pool serves its queue's depth
        assert total({"discovery": scrapes["discovery"]}, "erasure_requests_overdue", kind="erase") == 0

        assert "stale.run" not in scrapes["deletion"]
        secrets = {*tickets, *ids}
        for subject in subjects:
            secrets |= {*subject["emails"], *subject["phones"], subject["name"], *subject["name"].split(),
                        *subject["external_contact_ids"], *subject["conversation_ids"]}
        secrets.discard("")
        for endpoint, text in scrapes.items():
            leaked = sorted(s for s in secrets if s.lower() in text.lower())
            assert not leaked, f"{endpoint} serves {len(leaked)} identifier(s)"
