"""A downstream target that fails three times gets the event on replay, exactly once, as a Standard
Webhook its receiver (the ``standardwebhooks`` package) verifies; the dead letter names the target."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from genesys_sim.config import SimConfig

from shared.certificate_store import deliveries
from shared.webhooks import webhook_id
from tests.support.signed_receiver import SignedReceiver
from tests.support.stack import running_stack, submit, wait_certificate, wait_final, wait_until

SECRET = "whsec_" + base64.b64encode(b"integration-webhook-key-32bytes!").decode()


@pytest.fixture()
def hooked_stack(tmp_path, redis_available):
    target = SignedReceiver(SECRET)
    target.down = True
    url = f"http://127.0.0.1:{target.port}/hooks/erasure?token=t0ken"
    try:
        with running_stack(tmp_path, redis_available, SimConfig(subjects=2, seed=3, gdpr_step_s=0.1, rate_limit=6000),
                           ERASURE_WEBHOOK_TARGETS=json.dumps({"crm": url}), ERASURE_WEBHOOK_SECRET=SECRET,
                           ERASURE_WEBHOOK_HTTP_HOSTS=json.dumps(["127.0.0.1"]),
                           ERASURE_WEBHOOK_ATTEMPTS="3") as stack:
            yield stack, target
    finally:
        target.close()


def test_failing_target_gets_event_on_replay_exactly_once(hooked_stack):
    stack, target = hooked_stack
    subject = httpx.get(f"{stack.sim_url}/_sim/subjects").json()[0]
    [request_id] = submit(stack, [{"ticket": "HOOK-1", "emails": subject["emails"][:1], "approved_by": "it"}])
    wait_final(stack, [request_id])
    sender = stack.runtime.webhooks()
    wait_until(lambda: sender.dead_letters(), timeout_s=60, message="the event to be dead-lettered")
    assert target.failures == 3 and target.accepted == []
    [parked] = sender.dead_letters()
    assert parked["attempts"] == 3 and parked["request_id"] == request_id and "body" not in parked  # rebuilt on replay
    assert parked["target_name"] == "crm" and "127.0.0.1" not in json.dumps(parked)  # a name, never the URL
    listed = stack.cli("webhooks", "list")
    assert "crm" in listed.stdout and "t0ken" not in listed.stdout

    # Someone with Redis access gives the dead letter a body of their own: replay sends the certificate's.
    keys = stack.runtime.keys
    forged = {**parked, "body": {"event": "erasure.final", "request_id": request_id, "ticket": "HOOK-1",
                                 "outcome": "failed", "deadline_met": False}}
    stack.runtime.redis.hset(keys.webhook_dead_letters, parked["webhook_id"], json.dumps(forged))

    target.down = False
    first = stack.cli("webhooks", "replay")
    assert first.returncode == 0, first.stderr
    assert "1 delivered, 0 still failing" in first.stdout
    second = stack.cli("webhooks", "replay")
    assert "0 delivered, 0 still failing" in second.stdout
    # Even if the event is parked again by mistake, a delivered event is not sent twice.
    sender.park(request_id, "crm", 3, "test")
    sender.replay()

    assert len(target.accepted) == 1 and target.refused == [] and target.duplicates == []
    certificate = json.loads(stack.runtime.redis.get(keys.certificate(request_id)))
    [event] = target.accepted
    assert (event["body"]["outcome"], event["body"]["deadline_met"]) == (certificate["outcome"], certificate["deadline_met"])
    assert event["body"]["subject_digest"] == certificate["subject_digest"] and certificate["outcome"] != "failed"
    delivered = target.accepted[0]
    assert delivered["webhook_id"] == webhook_id(request_id, "crm")
    assert delivered["body"]["ticket"] == "HOOK-1" and delivered["body"]["outcome"] == "completed"
    assert not any(v in json.dumps(delivered["body"]) for v in subject["emails"] + subject["phones"] + [subject["name"]])
    # The three failed attempts and the replay are one event to the receiver: one id throughout.
    assert {r["headers"]["webhook-id"] for r in target.received} == {delivered["webhook_id"]}
    wait_certificate(stack, request_id)
    assert deliveries(stack.runtime.redis, stack.runtime.keys, request_id) == ["http://127.0.0.1"]
