"""A downstream target that fails three times gets the event on replay, exactly once."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from genesys_sim.config import SimConfig

from shared.certificate_store import deliveries
from tests.support.stack import running_stack, submit, wait_certificate, wait_final, wait_until

SECRET = "webhook-secret-for-tests"


class FlakyTarget:
    """An HTTP endpoint that answers 503 until told to recover, and records what it accepted."""

    def __init__(self):
        self.failures = 0
        self.healthy = False
        self.accepted: list[dict] = []
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if not target.healthy:
                    target.failures += 1
                    self.send_response(503)
                    self.end_headers()
                    return
                expected = "sha256=" + hmac.new(SECRET.encode(), self.headers["X-Erasure-Timestamp"].encode()
                                                + b"." + body, hashlib.sha256).hexdigest()
                target.accepted.append({"body": json.loads(body), "signed": self.headers["X-Erasure-Signature"] == expected})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/erasure"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture()
def hooked_stack(tmp_path, redis_available):
    target = FlakyTarget()
    try:
        with running_stack(tmp_path, redis_available, SimConfig(subjects=2, seed=3, gdpr_step_s=0.1, rate_limit=6000),
                           ERASURE_WEBHOOK_TARGETS=json.dumps([target.url]), ERASURE_WEBHOOK_SECRET=SECRET,
                           ERASURE_WEBHOOK_ATTEMPTS="3") as stack:
            yield stack, target
    finally:
        target.server.shutdown()


def test_failing_target_gets_event_on_replay_exactly_once(hooked_stack):
    stack, target = hooked_stack
    subject = httpx.get(f"{stack.sim_url}/_sim/subjects").json()[0]
    [request_id] = submit(stack, [{"ticket": "HOOK-1", "emails": subject["emails"][:1], "approved_by": "it"}])
    wait_final(stack, [request_id])
    sender = stack.runtime.webhooks()
    wait_until(lambda: sender.dead_letters(), timeout_s=60, message="the event to be dead-lettered")
    assert target.failures == 3 and target.accepted == []
    [parked] = sender.dead_letters()
    assert parked["attempts"] == 3 and parked["request_id"] == request_id

    target.healthy = True
    first = stack.cli("webhooks", "replay")
    assert first.returncode == 0, first.stderr
    assert "1 delivered, 0 still failing" in first.stdout
    second = stack.cli("webhooks", "replay")
    assert "0 delivered, 0 still failing" in second.stdout
    # Even if the event is parked again by mistake, a delivered event is not sent twice.
    sender.park(request_id, target.url, parked["body"], 3, "test")
    sender.replay()

    assert len(target.accepted) == 1
    delivered = target.accepted[0]
    assert delivered["signed"] is True
    assert delivered["body"]["ticket"] == "HOOK-1" and delivered["body"]["outcome"] == "completed"
    assert not any(v in json.dumps(delivered["body"]) for v in subject["emails"] + subject["phones"] + [subject["name"]])
    wait_certificate(stack, request_id)
    assert deliveries(stack.runtime.redis, stack.runtime.keys, request_id) == ["http://127.0.0.1"]
