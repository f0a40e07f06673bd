"""The workers' own watchdog finishes requests whose next-stage message was lost: no `erasure resume`."""

from __future__ import annotations

import time

import httpx
from genesys_sim.config import SimConfig

from shared.models import RequestState
from tests.support.stack import queue_keys, running_stack, submit, wait_final, wait_until


def test_the_workers_watchdog_finishes_requests_whose_deletion_message_was_lost(tmp_path, redis_available):
    config = SimConfig(subjects=4, seed=23, gdpr_step_s=0.1, rate_limit=6000)
    # Discovery and redaction only, without a watchdog: the requests stop in DELETING with their message
    # in the deletion queue.
    with running_stack(tmp_path, redis_available, config, pools=("discovery", "redaction"),
                       ERASURE_WATCHDOG_INTERVAL_S="0") as stack:
        runtime = stack.runtime
        subjects = httpx.get(f"{stack.sim_url}/_sim/subjects").json()
        ids = submit(stack, [{"ticket": f"WD-{n}", "emails": s["emails"][:1], "approved_by": "it"}
                             for n, s in enumerate(subjects)])

        def handed_to_deletion() -> bool:
            # All in DELETING, and no task holds them: the redaction task sends the deletion message
            # before it lets go of its requests.
            states = runtime.store.states(ids)
            return (set(states.values()) == {RequestState.DELETING}
                    and not any(runtime.redis.exists(runtime.keys.request_lock(i)) for i in ids))

        wait_until(handed_to_deletion, timeout_s=60, message="every request handed to the deletion pool")
        assert redis_available.delete(*queue_keys(stack, "deletion")) == 1  # the hand-on is lost
        # As if stall_after_s (1,200 s) had passed with nothing moving them (the one thing this test fakes).
        assert redis_available.zadd(runtime.keys.progress, dict.fromkeys(ids, time.time() - 2000), xx=True, ch=True) == len(ids)
        assert all(runtime.store.progress.last_progress(i) < time.time() - 1200 for i in ids)
        # The pools that finish them run the watchdog, as prefork workers (the production pool): its thread
        # lives in the worker's main process.
        watching = {**stack.env, "ERASURE_WATCHDOG_INTERVAL_S": "1"}
        for pool in ("deletion", "polling"):
            stack.workers.start(pool, watching, tmp_path / "logs", concurrency=2, worker_pool="prefork")

        states = wait_final(stack, ids, timeout_s=90)

        assert set(states.values()) == {RequestState.COMPLETED}
        redriven = [e for e in runtime.audit.entries() if e["event"] == "watchdog.redriven"]
        assert sorted(e["request_id"] for e in redriven) == sorted(ids)  # each once
        assert {e["details"]["state"] for e in redriven} == {"deleting"}
        assert all(e["details"]["idle_s"] >= 1200 for e in redriven)
        stats = httpx.get(f"{stack.sim_url}/_sim/stats").json()
        deletes = {r["subject"]: r["count"] for r in stats["gdpr_requests"] if r["requestType"] == "GDPR_DELETE"}
        assert deletes == {s["id"]: 1 for s in subjects}
        logs = "".join(p.read_text() for p in (tmp_path / "logs").glob("worker-*.log"))
        assert logs.count("watchdog re-drove request") == len(ids)
        assert not stack.workers.dead()
        # The same pass by hand: nothing is overdue now.
        result = stack.cli("watchdog")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("re-drove 0 request(s); 0 busy")
