"""Legal holds: a held conversation keeps its recording while the rest of the subject goes, the
certificate names the hold and its basis, and a later run erases what was held once the hold ends.
A hold on the subject keeps the whole erasure back until then."""

from __future__ import annotations

import json

import httpx
import pytest
from genesys_sim.config import SimConfig

from shared.certificate_signing import reference, verify
from shared.models import RequestState
from tests.support.stack import DELETING_CALLS, running_stack, sim_find, submit, wait_final, wait_until

FAST = {"ERASURE_RECORDING_POLL_S": "0.1", "ERASURE_RECORDING_LEASE_TTL_S": "30"}


@pytest.fixture()
def hold_stack(tmp_path, redis_available):
    config = SimConfig(subjects=4, seed=1, gdpr_step_s=0.2, rate_limit=6000)
    with running_stack(tmp_path, redis_available, config, **FAST) as stack:
        yield stack


def live_recordings(stack, conversation_id: str) -> list[dict]:
    return httpx.get(f"{stack.sim_url}/_sim/recordings", params={"conversation_id": conversation_id}).json()["recordings"]


def recorded_subject(stack, minimum: int) -> tuple[dict, list[str]]:
    for subject in httpx.get(f"{stack.sim_url}/_sim/subjects").json():
        recorded = [c for c in subject["conversation_ids"] if live_recordings(stack, c)]
        if len(recorded) >= minimum:
            return subject, recorded
    raise AssertionError(f"no seeded subject has {minimum} recorded conversations")


def certificate(stack, request_id: str) -> dict:
    return json.loads(stack.runtime.redis.get(stack.runtime.keys.certificate(request_id)))


def test_held_conversations_keep_their_recordings_and_are_erased_after_release(hold_stack):
    stack = hold_stack
    subject, (held, protected, *others) = recorded_subject(stack, 3)
    added = stack.cli("hold", "add", "--conversation", held, "--reason", "litigation CASE-17")
    assert added.returncode == 0, added.stderr
    hold_id = added.stdout.split()[1]
    stack.runtime.genesys("deletion").set_deletion_protection([protected], protect=True)

    [request_id] = submit(stack, [{"ticket": "HOLD-1", "emails": subject["emails"][:1], "approved_by": "dpo"}])
    states = wait_final(stack, [request_id], timeout_s=60)
    assert states[request_id] is RequestState.COMPLETED_WITH_WITHHELD

    # The held and the protected conversation keep their recordings; the rest of the subject is gone.
    assert live_recordings(stack, held) and live_recordings(stack, protected)
    for conversation_id in others:
        assert live_recordings(stack, conversation_id) == []
    assert sim_find(stack, subject["emails"] + subject["phones"]) == []

    cert = certificate(stack, request_id)
    withheld = {w["id"]: w for w in cert["withheld"] if w["kind"] == "conversation"}
    assert withheld[held]["hold"] == hold_id and withheld[held]["reason"] == "litigation CASE-17"
    assert withheld[held]["basis"].startswith("Art. 17(3)(e)")
    assert withheld[protected]["hold"] == "platform:deletionprotection"
    assert cert["complete"] is True and cert["verification"]["ok"] is True
    assert len(cert["platform"]["recording_job_ids"]) == 1
    raw = json.dumps(cert)
    assert not any(v in raw for v in subject["emails"] + subject["phones"] + [subject["name"]])

    # Nothing is released while the holds stand.
    assert "released 0 request(s)" in stack.cli("release-held").stdout
    # The register hold is lifted and the platform protection revoked: a later run erases the rest.
    assert stack.cli("hold", "remove", hold_id).returncode == 0
    stack.runtime.genesys("deletion").set_deletion_protection([protected], protect=False)
    dry = stack.cli("release-held", "--dry-run")
    assert "would release HOLD-1: 2 conversation(s)" in dry.stdout, dry.stdout
    run = stack.cli("release-held")
    assert "released HOLD-1: 2 conversation(s)" in run.stdout, run.stdout + run.stderr
    wait_until(lambda: stack.runtime.store.get(request_id).state is RequestState.COMPLETED, timeout_s=60,
               message="the released request to complete")
    assert live_recordings(stack, held) == [] and live_recordings(stack, protected) == []
    # The certificate is issued again just after the state changes: wait for the new one.
    cert = wait_until(lambda: (c := certificate(stack, request_id))["withheld"] == [] and c, timeout_s=30,
                      message="the re-issued certificate")
    assert cert["withheld"] == [] and cert["verification"]["ok"] is True
    assert len(cert["platform"]["recording_job_ids"]) == 2
    assert cert["platform"]["gdpr_request_ids"] and len(set(cert["platform"]["gdpr_request_ids"])) == 1
    # Issue 18: certificates are issued once; the release's is a new one naming the first, which stays readable.
    shown = stack.cli("certificate", "HOLD-1", "--superseded")
    assert shown.returncode == 0, shown.stderr
    [first] = [json.loads(line) for line in shown.stdout.splitlines()]
    assert {w["id"] for w in first["withheld"] if w["kind"] == "conversation"} == {held, protected}
    assert cert["supersedes"] == reference(first) and first["certificate_id"] != cert["certificate_id"]
    public = stack.runtime.settings.require_signer().public_key
    assert verify(json.dumps(first), public).valid and verify(json.dumps(cert), public).valid


def deleting_calls(stack) -> int:
    stats = httpx.get(f"{stack.sim_url}/_sim/stats").json()
    return sum(r["count"] for r in stats["requests"] if (r["method"], r["path"]) in DELETING_CALLS)


def test_a_subject_hold_withholds_the_whole_erasure_until_it_ends(hold_stack):
    stack = hold_stack
    subject, recorded = recorded_subject(stack, 1)
    added = stack.cli("hold", "add", "--email", subject["emails"][0], "--reason", "regulator inquiry R-9",
                      "--basis", "Art. 17(3)(b) GDPR: legal obligation")
    assert added.returncode == 0, added.stderr
    hold_id = added.stdout.split()[1]
    # Submitted by another of the subject's identifiers: identity resolution still finds the hold.
    [request_id] = submit(stack, [{"ticket": "HOLD-2", "phones": subject["phones"][:1], "approved_by": "dpo"}])
    store = stack.runtime.store
    wait_until(lambda: store.get(request_id).state is RequestState.HELD, timeout_s=60,
               message="the request to be held")
    record = store.get(request_id)
    assert hold_id in record.reason and "Art. 17(3)(b)" in record.reason
    assert [w.hold for w in record.withheld] == [hold_id]
    assert deleting_calls(stack) == 0
    assert sim_find(stack, subject["emails"][:1])  # nothing erased
    assert "released 0 request(s)" in stack.cli("release-held").stdout

    assert stack.cli("hold", "remove", hold_id).returncode == 0
    assert "released HOLD-2: the whole erasure" in stack.cli("release-held").stdout
    states = wait_final(stack, [request_id], timeout_s=60)
    assert states[request_id] is RequestState.COMPLETED
    assert sim_find(stack, subject["emails"] + subject["phones"]) == []
    for conversation_id in recorded:
        assert live_recordings(stack, conversation_id) == []
    assert certificate(stack, request_id)["withheld"] == []


HELD_S = 24 * 3600.0  # a simulator step no test outlives: nothing moves on until the step is put back


def set_step(stack, seconds: float) -> None:
    """The simulator's step for GDPR requests and recording jobs; it applies to those already made too."""
    httpx.post(f"{stack.sim_url}/_sim/config", json={"gdpr_step_s": seconds}).raise_for_status()


@pytest.fixture()
def slow_job_stack(tmp_path, redis_available):
    config = SimConfig(subjects=4, seed=1, gdpr_step_s=1.0, rate_limit=6000)
    with running_stack(tmp_path, redis_available, config, **FAST) as stack:
        yield stack


def test_failed_recordings_are_read_and_a_late_platform_hold_is_reported(slow_job_stack):
    """Protection set on the platform after our check, before the job runs: the job cannot delete that
    recording, polling reads the job's failed recordings, and the certificate reports it as withheld."""
    stack = slow_job_stack
    subject, recorded = recorded_subject(stack, 2)
    # Jobs (and GDPR requests) are held in their first step until the protection is set: the job is
    # created after our check and cannot run before the platform hold, however slow the machine.
    set_step(stack, HELD_S)
    [request_id] = submit(stack, [{"ticket": "HOLD-3", "emails": subject["emails"][:1], "approved_by": "dpo"}])
    jobs = wait_until(lambda: httpx.get(f"{stack.sim_url}/_sim/recording-jobs").json()["jobs"], timeout_s=60,
                      message="the recording job to be created")
    assert [j["state"] for j in jobs] == ["PENDING"]
    late = jobs[0]["conversation_ids"][0]
    stack.runtime.genesys("deletion").set_deletion_protection([late], protect=True)
    set_step(stack, 1.0)
    states = wait_final(stack, [request_id], timeout_s=60)
    assert states[request_id] is RequestState.COMPLETED_WITH_WITHHELD

    [job] = httpx.get(f"{stack.sim_url}/_sim/recording-jobs").json()["jobs"]
    assert job["failed_recordings"] == 1
    final = [e for e in stack.runtime.audit.entries_for(request_id) if e["event"] == "polling.recording_job_final"]
    assert final[0]["details"]["failed_recordings"] == 1
    assert live_recordings(stack, late)
    assert [c for c in recorded if c != late and live_recordings(stack, c)] == []
    cert = certificate(stack, request_id)
    assert [(w["id"], w["hold"]) for w in cert["withheld"]] == [(late, "platform:deletionprotection")]
    assert cert["failed_recordings"] == [] and cert["verification"]["ok"] is True
