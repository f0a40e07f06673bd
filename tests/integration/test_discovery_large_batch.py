"""Issue 15, item 8: a full batch over the default (async job) window puts more predicates into its
query than one job filter may hold; it is discovered through several jobs the platform accepts."""

from __future__ import annotations

import httpx
from genesys_sim.config import SimConfig

from shared.models import RequestState
from tests.support.stack import running_stack, sim_find, submit, wait_final


def test_a_large_batch_is_discovered_through_jobs_the_platform_accepts(tmp_path, redis_available):
    config = SimConfig(subjects=25, seed=5, gdpr_step_s=0.2, rate_limit=6000)
    with running_stack(tmp_path, redis_available, config, concurrency=4) as stack:
        subjects = httpx.get(f"{stack.sim_url}/_sim/subjects").json()
        assert len(subjects) == stack.runtime.settings.batch_size  # one discovery batch
        identifiers = sum(len(s["emails"]) + len(s["phones"]) for s in subjects)
        assert identifiers * 2 > config.analytics_job_predicates_max  # the batch cannot fit in one filter
        # No window: the default lookback is longer than sync_query_max_days, so discovery uses jobs.
        ids = submit(stack, [{"ticket": f"BIG-{n}", "emails": s["emails"][:1], "approved_by": "it"}
                             for n, s in enumerate(subjects)])
        states = wait_final(stack, ids, timeout_s=120)
        assert set(states.values()) == {RequestState.COMPLETED}, states
        for subject in subjects:
            assert sim_find(stack, subject["emails"] + subject["phones"]) == [], subject["id"]
        jobs = httpx.get(f"{stack.sim_url}/_sim/stats", params={"per_subject": "false"}).json()["analytics_jobs"]
        assert jobs["submitted"] >= 2  # split, not one oversized job
