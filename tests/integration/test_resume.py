"""A lost queue (crash, Redis restart without persistence of the lists) loses no request, and
re-enqueueing twice still submits each erasure once."""

from __future__ import annotations

import httpx
from genesys_sim.config import SimConfig

from shared.models import RequestState
from tests.support.stack import queue_keys, running_stack, submit, wait_final


def test_resume_after_lost_queue_submits_each_erasure_once(tmp_path, redis_available):
    config = SimConfig(subjects=5, seed=17, gdpr_step_s=0.1, rate_limit=6000)
    with running_stack(tmp_path, redis_available, config, pools=()) as stack:
        subjects = httpx.get(f"{stack.sim_url}/_sim/subjects").json()
        ids = submit(stack, [{"ticket": f"RES-{n}", "emails": s["emails"][:1], "approved_by": "it"}
                             for n, s in enumerate(subjects)])
        assert redis_available.delete(*queue_keys(stack, "discovery")) == 1  # the queue (its bulk lane) is gone
        for _ in range(2):  # an operator runs it twice: duplicates must not double anything
            result = stack.cli("resume")
            assert result.returncode == 0, result.stderr
            assert f"resumed {len(ids)} request(s): {len(ids)} received" in result.stdout
        stack.workers.start_all(stack.env, tmp_path / "logs", concurrency=2)
        states = wait_final(stack, ids)
        assert set(states.values()) == {RequestState.COMPLETED}
        stats = httpx.get(f"{stack.sim_url}/_sim/stats").json()
        deletes = {r["subject"]: r["count"] for r in stats["gdpr_requests"] if r["requestType"] == "GDPR_DELETE"}
        assert deletes == {s["id"]: 1 for s in subjects}
