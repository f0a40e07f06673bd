"""A request's own callback URL gets the final event, a Standard Webhook like the global ones, from real
workers; a forged dead letter (a URL on an allowed host, or a target name unknown now) is sent to nobody."""

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

SECRET = "whsec_" + base64.b64encode(b"callback-test-webhook-key-32byte").decode()
TOKEN = "cb-t0ken-in-the-query"


@pytest.fixture()
def callback_stack(tmp_path, redis_available):
    global_target, callback, internal = SignedReceiver(SECRET), SignedReceiver(SECRET), SignedReceiver(SECRET)
    try:
        with running_stack(tmp_path, redis_available, SimConfig(subjects=2, seed=5, gdpr_step_s=0.1, rate_limit=6000),
                           pools=("discovery", "redaction", "deletion", "polling"),
                           ERASURE_WEBHOOK_TARGETS=json.dumps([f"http://127.0.0.1:{global_target.port}/global"]),
                           ERASURE_WEBHOOK_SECRET=SECRET, ERASURE_WEBHOOK_ATTEMPTS="3",
                           ERASURE_WEBHOOK_HTTP_HOSTS=json.dumps(["127.0.0.1"]),
                           ERASURE_CALLBACK_HTTP_HOSTS=json.dumps(["127.0.0.1"])) as stack:
            yield stack, global_target, callback, internal
    finally:
        for receiver in (global_target, callback, internal):
            receiver.close()


def test_the_callback_gets_the_signed_final_event_and_a_forged_dead_letter_is_refused(callback_stack):
    stack, global_target, callback, internal = callback_stack
    subject = httpx.get(f"{stack.sim_url}/_sim/subjects").json()[0]
    url = f"http://127.0.0.1:{callback.port}/erasure/done?token={TOKEN}"
    [request_id] = submit(stack, [{"ticket": "CB-1", "emails": subject["emails"][:1], "approved_by": "it",
                                   "callback_url": url}])
    wait_final(stack, [request_id])
    wait_until(lambda: callback.accepted and global_target.accepted, timeout_s=60,
               message="the final event at the callback and at the global target")

    [event] = callback.accepted  # verified by the standardwebhooks package
    assert callback.refused == []
    assert event["path"] == f"/erasure/done?token={TOKEN}"
    assert event["webhook_id"] == webhook_id(request_id, "callback")
    assert event["body"]["ticket"] == "CB-1" and event["body"]["event"] == "erasure.final"
    assert event["body"]["outcome"] == "completed"
    assert event["body"] == global_target.accepted[0]["body"]  # the same event as the global target's
    assert not any(v in json.dumps(event["body"]) for v in subject["emails"] + subject["phones"] + [subject["name"]])
    certificate = wait_certificate(stack, request_id)
    assert certificate["callback"] == "http://127.0.0.1"
    wait_until(lambda: deliveries(stack.runtime.redis, stack.runtime.keys, request_id) == ["http://127.0.0.1"],
               timeout_s=30, message="both deliveries recorded beside the certificate")
    status = stack.cli("status", "CB-1")
    assert "callback: http://127.0.0.1" in status.stdout and TOKEN not in status.stdout

    # Someone with Redis access parks events: one with a URL on the allowed host 127.0.0.1 (the shape
    # dead letters had before, which replay used to sign and send), one naming a target unknown now.
    # Replay signs and sends nothing to either, and says so.
    forged = f"http://127.0.0.1:{internal.port}/internal-admin"
    old_shape = {"event_id": "f" * 32, "request_id": request_id, "target": forged, "body": event["body"],
                 "attempts": 3, "last_error": "HTTP 503"}
    stack.runtime.redis.hset(stack.runtime.keys.webhook_dead_letters, old_shape["event_id"], json.dumps(old_shape))
    sender = stack.runtime.webhooks()
    sender.park(request_id, "internal-admin", 3, "HTTP 503")
    replay = stack.cli("webhooks", "replay")
    assert replay.returncode == 1
    assert "0 delivered, 0 still failing, 2 refused" in replay.stdout
    assert replay.stderr.count("refused ") == 2 and "internal-admin?" not in replay.stderr
    assert internal.received == []
    assert len(sender.dead_letters()) == 2
    assert len([e for e in stack.runtime.audit.entries() if e["event"] == "webhook.replay_refused"]) == 2

    # The callback itself was delivered once, and its token is in no worker's log.
    assert len(callback.accepted) == 1
    logs = "".join(p.read_text(errors="replace") for p in (stack.tmp / "logs").rglob("*") if p.is_file())
    assert logs and TOKEN not in logs
