"""Retention purge: `erasure purge --older-than N --dry-run` and the real run agree on what goes, the
real run deletes exactly that (in recording jobs of at most the batch size, at most 2 at once),
honours holds, runs only under a configured standing policy, and ends with a certificate."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from genesys_sim.config import SimConfig

from shared.models import RequestState
from tests.integration.test_deletion_recording_slots import max_in_flight
from tests.support.stack import running_stack, wait_final

POLICY = "RET-7: contact-centre recordings are kept 30 days (DPO decision 2025-03)"
ENV = {"ERASURE_RETENTION_POLICY": POLICY, "ERASURE_RECORDING_JOB_BATCH": "3", "ERASURE_RECORDING_POLL_S": "0.1",
       "ERASURE_RECORDING_LEASE_TTL_S": "30", "ERASURE_RECORDING_SLOT_RETRY_S": "0.3"}
DAYS = 30


@pytest.fixture()
def purge_stack(tmp_path, redis_available):
    config = SimConfig(subjects=4, seed=1, gdpr_step_s=0.3, rate_limit=6000, analytics_job_s=0.3)
    with running_stack(tmp_path, redis_available, config, pools=("deletion", "polling"), **ENV) as stack:
        yield stack


def recordings_by_conversation(stack) -> dict[str, int]:
    out: dict[str, int] = {}
    for rec in httpx.get(f"{stack.sim_url}/_sim/recordings").json()["recordings"]:
        out[rec["conversationId"]] = out.get(rec["conversationId"], 0) + 1
    return out


def purge(stack, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "services.cli", "purge", *args], env=env or stack.env,
                          text=True, capture_output=True, timeout=120)


def test_dry_run_and_real_purge_agree_and_holds_are_honoured(purge_stack):
    stack = purge_stack
    as_of = datetime.now(UTC).replace(microsecond=0)
    cutoff = as_of - timedelta(days=DAYS)
    before = recordings_by_conversation(stack)
    # Ground truth: recorded conversations that ended before the cutoff.
    subjects = httpx.get(f"{stack.sim_url}/_sim/subjects").json()
    owned = {cid for s in subjects for cid in s["conversation_ids"]}
    details = stack.runtime.genesys("discovery").query_conversation_details({
        "interval": "2000-01-01T00:00:00.000Z/2100-01-01T00:00:00.000Z",
        "paging": {"pageSize": 100, "pageNumber": 1}})
    old = sorted(c.conversation_id for c in details.conversations if c.conversation_id in before
                 and datetime.fromisoformat(c.conversation_end.replace("Z", "+00:00")) < cutoff)
    assert len(old) >= 5 and set(old) & owned
    held = old[0]
    added = stack.cli("hold", "add", "--conversation", held, "--reason", "complaint file C-3")
    hold_id = added.stdout.split()[1]

    dry = purge(stack, "--older-than", str(DAYS), "--as-of", as_of.isoformat(), "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    planned = json.loads(dry.stdout)
    assert planned["conversations"] == old[1:]
    assert [(w["id"], w["hold"]) for w in planned["withheld"]] == [(held, hold_id)]
    assert recordings_by_conversation(stack) == before  # a dry run deletes nothing
    assert httpx.get(f"{stack.sim_url}/_sim/recording-jobs").json()["jobs"] == []

    text = purge(stack, "--older-than", str(DAYS), "--as-of", as_of.isoformat(), "--dry-run")
    assert text.stdout.splitlines()[1:len(old)] == old[1:]  # the human list is the same list

    without_policy = purge(stack, "--older-than", str(DAYS), env={**stack.env, "ERASURE_RETENTION_POLICY": ""})
    assert without_policy.returncode == 2 and "ERASURE_RETENTION_POLICY" in without_policy.stderr

    real = purge(stack, "--older-than", str(DAYS), "--as-of", as_of.isoformat(), "--json", "--ticket", "PURGE-1")
    assert real.returncode == 0, real.stderr
    done = json.loads(real.stdout)
    assert done["conversations"] == planned["conversations"] and done["withheld"] == planned["withheld"]
    states = wait_final(stack, [done["request_id"]], timeout_s=60)
    assert states[done["request_id"]] is RequestState.COMPLETED_WITH_WITHHELD

    after = recordings_by_conversation(stack)
    gone = sorted(cid for cid in before if cid not in after)
    assert gone == planned["conversations"]  # exactly what the dry run listed, nothing else
    assert after[held] == before[held]
    jobs = httpx.get(f"{stack.sim_url}/_sim/recording-jobs").json()["jobs"]
    assert len(jobs) == 3 and all(len(j["conversation_ids"]) <= 3 for j in jobs)
    assert max_in_flight(jobs) <= 2

    cert = json.loads(stack.runtime.redis.get(stack.runtime.keys.certificate(done["request_id"])))
    assert cert["retention_policy"] == POLICY and cert["approval"]["by"].endswith(POLICY)
    assert cert["erased"]["recordings_of_conversations"] == len(planned["conversations"])
    assert [(w["id"], w["hold"], w["basis"][:15]) for w in cert["withheld"]] == [(held, hold_id, "Art. 17(3)(e) G")]
    assert cert["verification"]["ok"] is True and cert["platform"]["gdpr_request_ids"] == []

    again = purge(stack, "--older-than", str(DAYS), "--as-of", as_of.isoformat(), "--ticket", "PURGE-1")
    assert again.returncode == 2 and "already submitted" in again.stderr
