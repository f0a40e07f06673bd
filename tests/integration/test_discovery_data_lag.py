"""The data lake's lag: async details jobs (discovery over the default 365 days) see conversations only up
to ``dataAvailabilityDate``, and recording jobs see new recordings up to 48 h late. A subject whose
conversations all lie inside the lag is still found, erased, its recordings deleted, and verified."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from genesys_sim.config import SimConfig
from genesys_sim.limits import SYNC_QUERY_MAX_DAYS

from shared.models import RequestState
from tests.support.stack import running_stack, submit, wait_final

FAST = {"ERASURE_RECORDING_POLL_S": "0.1", "ERASURE_RECORDING_LEASE_TTL_S": "30"}
MARGIN_S = 3600.0


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _live_recordings(sim_url: str, conversation_id: str) -> list[dict]:
    return httpx.get(f"{sim_url}/_sim/recordings", params={"conversation_id": conversation_id}).json()["recordings"]


def _lagged_subject(stack, recorded: int = 1) -> tuple[dict, float]:
    """A subject with at least ``recorded`` recorded conversations, and the lag that puts every one of its
    conversations inside it (the smallest such lag among the seeded subjects: theirs are the most recent)."""
    sim_url = stack.sim_url
    client = stack.runtime.genesys("discovery")
    now = datetime.now(UTC)
    best: tuple[dict, float] | None = None
    for subject in httpx.get(f"{sim_url}/_sim/subjects").json():
        if sum(1 for c in subject["conversation_ids"] if _live_recordings(sim_url, c)) < recorded:
            continue
        conversations = client.get_conversation_details(subject["conversation_ids"])  # real-time, by id
        if any(c.conversation_end is None for c in conversations):
            continue
        lag = (now - min(_parse(str(c.conversation_start)) for c in conversations)).total_seconds() + MARGIN_S
        if best is None or lag < best[1]:
            best = (subject, lag)
    assert best is not None, f"no seeded subject with {recorded} recorded, finished conversations"
    return best


def _certificate(stack, request_id: str) -> dict:
    return json.loads(stack.runtime.redis.get(stack.runtime.keys.certificate(request_id)))


def _erase_lagged_subject(stack, *, recording_lag: bool) -> None:
    subject, lag = _lagged_subject(stack)
    settings = {"data_lag_s": lag, **({"recording_lag_s": lag} if recording_lag else {})}
    httpx.post(f"{stack.sim_url}/_sim/config", json=settings).raise_for_status()
    recorded = [c for c in subject["conversation_ids"] if _live_recordings(stack.sim_url, c)]

    [request_id] = submit(stack, [{"ticket": "LAG-1", "emails": subject["emails"][:1], "approved_by": "dpo"}])
    states = wait_final(stack, [request_id], timeout_s=90)
    assert states[request_id] is RequestState.COMPLETED, stack.runtime.store.get(request_id).reason

    record = stack.runtime.store.get(request_id)
    assert set(subject["conversation_ids"]) <= set(record.conversation_ids)  # found although the job could not
    completed = [e for e in stack.runtime.audit.entries_for(request_id) if e["event"] == "discovery.completed"]
    assert completed[-1]["details"]["found_after_data_lag"] >= len(subject["conversation_ids"])
    assert [c for c in recorded if _live_recordings(stack.sim_url, c)] == []
    assert httpx.post(f"{stack.sim_url}/_sim/find", json={"values": subject["emails"] + subject["phones"]}
                      ).json()["matches"] == []
    assert _certificate(stack, request_id)["verification"]["ok"] is True


@pytest.fixture()
def lag_stack(tmp_path, redis_available):
    config = SimConfig(subjects=4, seed=1, gdpr_step_s=0.2, rate_limit=6000, sync_query_max_days=SYNC_QUERY_MAX_DAYS)
    # The client must assume a recording lag at least as long as the organisation's (48 h in production).
    with running_stack(tmp_path, redis_available, config, ERASURE_RECORDING_LAG_S=str(120 * 86400), **FAST) as stack:
        yield stack


def test_conversations_inside_the_data_lag_are_found_erased_and_verified(lag_stack):
    _erase_lagged_subject(lag_stack, recording_lag=False)


def test_recordings_inside_the_recording_lag_are_deleted_not_left_to_a_job_that_cannot_see_them(lag_stack):
    _erase_lagged_subject(lag_stack, recording_lag=True)


def test_held_recordings_inside_the_recording_lag_are_kept(lag_stack):
    """The one-by-one deletion of recent recordings passes the same holds check as the job: a register hold
    and the platform's deletion protection keep their recordings; the others go."""
    stack = lag_stack
    subject, lag = _lagged_subject(stack, recorded=3)
    httpx.post(f"{stack.sim_url}/_sim/config", json={"data_lag_s": lag, "recording_lag_s": lag}).raise_for_status()
    held, protected, *others = [c for c in subject["conversation_ids"] if _live_recordings(stack.sim_url, c)]
    added = stack.cli("hold", "add", "--conversation", held, "--reason", "litigation CASE-18")
    assert added.returncode == 0, added.stderr
    stack.runtime.genesys("deletion").set_deletion_protection([protected], protect=True)

    [request_id] = submit(stack, [{"ticket": "LAG-HOLD", "emails": subject["emails"][:1], "approved_by": "dpo"}])
    states = wait_final(stack, [request_id], timeout_s=90)
    assert states[request_id] is RequestState.COMPLETED_WITH_WITHHELD, stack.runtime.store.get(request_id).reason
    assert _live_recordings(stack.sim_url, held) and _live_recordings(stack.sim_url, protected)
    assert [c for c in others if _live_recordings(stack.sim_url, c)] == []
    recent = [e for e in stack.runtime.audit.entries_for(request_id) if e["event"] == "deletion.recent_recordings_deleted"]
    assert recent and recent[-1]["details"]["conversations"] == len(others)
    assert _certificate(stack, request_id)["verification"]["ok"] is True
