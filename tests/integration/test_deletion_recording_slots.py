"""At most 2 recording jobs per organisation, across worker processes: a third waits until one of the
two has finished, and every job still gets done. Three deletion worker processes erase four subjects
at once; the simulator's own timeline of jobs proves how many were in flight."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
from genesys_sim.config import SimConfig

from services.workers import worker_command
from shared.models import RequestState
from shared.recording_jobs import LEASE_NAME, lease_pool
from tests.support.stack import running_stack, submit, wait_final, wait_until

ENV = {"ERASURE_BATCH_SIZE": "1", "ERASURE_RECORDING_POLL_S": "0.1", "ERASURE_RECORDING_LEASE_TTL_S": "30",
       "ERASURE_RECORDING_SLOT_RETRY_S": "0.3"}


STEP_S = 0.8
HELD_S = 24 * 3600.0  # a simulator step no test outlives: jobs stay PENDING until the step is put back


@pytest.fixture()
def slot_stack(tmp_path, redis_available):
    config = SimConfig(subjects=5, seed=1, gdpr_step_s=STEP_S, rate_limit=6000)
    with running_stack(tmp_path, redis_available, config, pools=("discovery", "redaction", "polling"),
                       concurrency=4, **ENV) as stack:
        logs = tmp_path / "logs"
        deleters: list[subprocess.Popen[bytes]] = []
        try:
            for n in range(3):
                command = worker_command("deletion", concurrency=1)
                command[command.index("-n") + 1] = f"deletion-{n}@%h"
                with (logs / f"worker-deletion-{n}.log").open("ab") as log:
                    deleters.append(subprocess.Popen(command, env=stack.env, stdout=log, stderr=subprocess.STDOUT))
            yield stack
        finally:
            for process in deleters:
                process.terminate()
            for process in deleters:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def max_in_flight(jobs: list[dict]) -> int:
    """Most jobs alive at one moment, each from its creation until it reached FULFILLED."""
    events = sorted([(j["created_s"], 1) for j in jobs] + [(j["finished_s"], -1) for j in jobs],
                    key=lambda e: (e[0], e[1]))
    alive = peak = 0
    for _, change in events:
        alive += change
        peak = max(peak, alive)
    return peak


def test_a_third_recording_job_waits_for_one_of_two_across_processes(slot_stack):
    stack = slot_stack
    subjects = httpx.get(f"{stack.sim_url}/_sim/subjects").json()[:4]
    ids = submit(stack, [{"ticket": f"SLOT-{n}", "emails": s["emails"][:1]} for n, s in enumerate(subjects)])
    store = stack.runtime.store
    wait_until(lambda: set(store.states(ids).values()) == {RequestState.AWAITING_APPROVAL}, timeout_s=60,
               message="every request to wait for approval")
    httpx.post(f"{stack.sim_url}/_sim/config", json={"gdpr_step_s": HELD_S}).raise_for_status()
    # Four approvals at once: four erasures reach three deletion processes together.
    approvals = [subprocess.Popen([sys.executable, "-m", "services.cli", "approve", f"SLOT-{n}", "--by", "dpo"],
                                  env=stack.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for n in range(len(ids))]
    assert all(p.wait(timeout=60) == 0 for p in approvals)
    # The jobs are held PENDING until two exist, so the cap is reached however the machine paces the four
    # erasures; then the simulator's step is put back and every job runs.
    wait_until(lambda: len(httpx.get(f"{stack.sim_url}/_sim/recording-jobs").json()["jobs"]) >= 2, timeout_s=90,
               message="two recording jobs to be created")
    httpx.post(f"{stack.sim_url}/_sim/config", json={"gdpr_step_s": STEP_S}).raise_for_status()
    states = wait_final(stack, ids, timeout_s=90)
    assert set(states.values()) == {RequestState.COMPLETED}, states

    jobs = httpx.get(f"{stack.sim_url}/_sim/recording-jobs").json()["jobs"]
    assert len(jobs) == 4 and all(j["state"] == "FULFILLED" for j in jobs)
    assert max_in_flight(jobs) == 2  # the cap was reached, never passed
    first_two_end = min(j["finished_s"] for j in sorted(jobs, key=lambda j: j["created_s"])[:2])
    assert sorted(j["created_s"] for j in jobs)[2] >= first_two_end  # the third waited for one of two

    stats = httpx.get(f"{stack.sim_url}/_sim/stats").json()
    refused = [r for r in stats["requests"] if r["path"] == "/api/v2/recording/jobs" and r["status"] == 429]
    assert refused == []  # the platform never had to refuse a job
    assert lease_pool(stack.runtime).held(LEASE_NAME) == 0  # every slot given back

    created = [e for e in stack.runtime.audit.entries() if e["event"] == "deletion.recording_job_created"]
    assert len(created) == 4
    workers = {e["details"]["worker"] for e in created}
    assert len(workers) >= 2, workers  # jobs came from more than one deletion process
    for request_id in ids:
        cert = json.loads(stack.runtime.redis.get(stack.runtime.keys.certificate(request_id)))
        assert len(cert["platform"]["recording_job_ids"]) == 1 and cert["verification"]["ok"] is True
