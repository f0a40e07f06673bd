"""Issue 19, must-show 3: a worker started without a Genesys region or base URL exits at once with one line
naming the variable, and a request submitted before it is still waiting on its queue, not failed; a
corrected worker then takes it. The HTTP intake refuses to start the same way."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
from genesys_sim.config import SimConfig

from services.workers import worker_command
from tests.support.private_redis import free_port
from tests.support.stack import queued, running_stack, submit, wait_until


def test_a_worker_without_a_region_exits_naming_it_and_the_request_waits(tmp_path, redis_available):
    config = SimConfig(subjects=1, seed=19, gdpr_step_s=0.1, rate_limit=6000)
    with running_stack(tmp_path, redis_available, config, pools=()) as stack:
        runtime = stack.runtime
        subject = httpx.get(f"{stack.sim_url}/_sim/subjects").json()[0]
        [request_id] = submit(stack, [{"ticket": "CFG-1", "emails": subject["emails"][:1], "approved_by": "it"}])
        waiting = runtime.store.get(request_id).state
        assert queued(stack, "discovery") == 1

        no_platform = {k: v for k, v in stack.env.items()
                       if k not in ("ERASURE_GENESYS_BASE_URL", "ERASURE_GENESYS_REGION", "ERASURE_GENESYS_LOGIN_URL")}
        worker = subprocess.run(worker_command("discovery", concurrency=1), env=no_platform, capture_output=True,
                                text=True, timeout=60)

        assert worker.returncode == 2, worker.stderr
        naming = [line for line in worker.stderr.splitlines() if "ERASURE_GENESYS_REGION" in line]
        assert len(naming) == 1 and "worker refuses to start" in naming[0], worker.stderr
        assert "ERASURE_GENESYS_BASE_URL" in naming[0] and "Traceback" not in worker.stderr
        # Nothing taken: the request is as submitted, its message still queued, no failure recorded.
        assert runtime.store.get(request_id).state is waiting and not waiting.is_final
        assert queued(stack, "discovery") == 1
        assert not [e for e in runtime.audit.entries_for(request_id) if e["event"] == "request.failed"]

        stack.workers.start("discovery", stack.env, tmp_path / "logs", concurrency=1)
        wait_until(lambda: runtime.store.get(request_id).state is not waiting, timeout_s=60,
                   message="the corrected worker to take the request")
        assert runtime.store.get(request_id).state is not waiting


def test_the_intake_api_without_its_digest_key_exits_with_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERASURE_")}
    env |= {"ERASURE_REDIS_URL": "redis://127.0.0.1:1/0", "ERASURE_KEY_PREFIX": "it-no-hmac"}
    api = subprocess.run([sys.executable, "-m", "uvicorn", "services.intake.api:app", "--host", "127.0.0.1",
                          "--port", str(free_port())], env=env, capture_output=True, text=True, timeout=60)
    assert api.returncode == 2
    naming = [line for line in api.stderr.splitlines() if "ERASURE_HMAC_KEY" in line]
    assert naming == ["intake API refuses to start: ERASURE_HMAC_KEY must be set to a secret of at least 16 characters"]
    assert "Traceback" not in api.stderr
