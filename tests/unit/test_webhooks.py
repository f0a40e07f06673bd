"""Issue 18, Standard Webhooks: a receiver written with the ``standardwebhooks`` package verifies our
deliveries over real HTTP; a replay is the same event (same webhook-id, so the receiver dedupes it) sent
now (a new timestamp, inside the receiver's 5-minute window); a POST older than the window is refused
by the receiver; a forged dead letter reaches nobody; http targets are refused unless allowed."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from pydantic import SecretStr

from services import operations
from shared.certificate import certificate_json
from shared.config import ConfigError, Settings
from shared.models import ErasureRecord, RequestState, Subject, utcnow
from shared.webhooks import WebhookSender, webhook_id
from tests.support.signed_receiver import SignedReceiver

SECRET = "whsec_" + base64.b64encode(b"unit-tests-webhook-key-32-bytes!").decode()


@pytest.fixture
def receiver():
    receiver = SignedReceiver(SECRET)
    yield receiver
    receiver.close()


@pytest.fixture
def hooked(runtime, receiver, monkeypatch):
    """The runtime with one global target, ``crm``, at the receiver (http allowed to 127.0.0.1 for it)."""
    monkeypatch.setattr(runtime.settings, "webhook_secret", SecretStr(SECRET))
    monkeypatch.setattr(runtime.settings, "webhook_targets", {"crm": f"http://127.0.0.1:{receiver.port}/hooks"})
    monkeypatch.setattr(runtime.settings, "webhook_http_hosts", ["127.0.0.1"])
    runtime._webhook_http = httpx.Client(timeout=5)
    return runtime


def final_request(runtime, ticket: str, callback_url: str | None = None) -> str:
    record = runtime.store.create(ErasureRecord(ticket=ticket, subject=Subject(emails=["x@example.org"]),
                                                verified_at=utcnow(), state=RequestState.COMPLETED,
                                                callback_url=callback_url))
    runtime.redis.set(runtime.keys.certificate(record.request_id), certificate_json({"ticket": ticket}))
    return record.request_id


def sender_at(runtime, clock) -> WebhookSender:
    """The runtime's sender with its clock set (a send's ``webhook-timestamp``)."""
    assert runtime._webhook_http is not None
    return WebhookSender(runtime.redis, runtime.keys, runtime.settings.require_webhook_secret(), runtime._webhook_http,
                         resolve=runtime.webhook_target_url, clock=clock)


def test_a_standard_webhooks_receiver_verifies_our_delivery(hooked, receiver):
    request_id = final_request(hooked, "SW-1")
    result = hooked.webhooks().send(request_id, "crm", {"event": "erasure.final", "ticket": "SW-1"})
    assert result.delivered and not result.already
    [event] = receiver.accepted
    assert receiver.refused == []
    assert event["body"] == {"event": "erasure.final", "ticket": "SW-1"}
    assert event["webhook_id"] == webhook_id(request_id, "crm")
    assert abs(event["timestamp"] - time.time()) < 60
    assert receiver.received[0]["headers"]["webhook-signature"].startswith("v1,")


def test_a_replay_is_the_same_event_at_a_new_time_so_the_receiver_dedupes_it(hooked, receiver):
    """A delivery whose answer never came back (the receiver took it; we parked it) is sent again on
    replay: same webhook-id, a new webhook-timestamp. The receiver verifies it and drops it by its id."""
    request_id = final_request(hooked, "SW-2")
    first = sender_at(hooked, lambda: time.time() - 200).send(request_id, "crm", {"ticket": "SW-2"})
    assert first.delivered
    hooked.redis.srem(hooked.keys.webhook_delivered, webhook_id(request_id, "crm"))  # the 204 we never saw
    hooked.webhooks().park(request_id, "crm", {"ticket": "SW-2"}, attempts=3, error="ReadTimeout")

    assert operations.replay_webhooks(hooked) == operations.Replay(delivered=1, failing=0)
    first_sent, replayed = (r["headers"] for r in receiver.received)
    assert replayed["webhook-id"] == first_sent["webhook-id"] == webhook_id(request_id, "crm")
    assert int(replayed["webhook-timestamp"]) >= int(first_sent["webhook-timestamp"]) + 190
    assert len(receiver.accepted) == 1 and receiver.duplicates == [webhook_id(request_id, "crm")]
    assert receiver.refused == []


def test_a_post_older_than_the_tolerance_is_refused_by_the_receiver(hooked, receiver):
    """What a captured POST re-sent later looks like to the receiver: its timestamp is more than 5 minutes
    old, so ``verify`` refuses it. Our own replay never sends one (it signs with the time of the send)."""
    request_id = final_request(hooked, "SW-3")
    stale = sender_at(hooked, lambda: time.time() - 301).send(request_id, "crm", {"ticket": "SW-3"})
    assert (stale.delivered, stale.error) == (False, "HTTP 400")
    assert receiver.accepted == [] and receiver.refused == ["Message timestamp too old"]


def test_a_forged_dead_letter_is_sent_to_nobody(hooked, receiver, monkeypatch):
    """The measured attack: a dead letter naming a URL on the receiver's host (one the callback allow-list
    accepts, over http) was signed and delivered by replay. Now neither an unknown name nor a URL is sent."""
    monkeypatch.setattr(hooked.settings, "callback_http_hosts", ["127.0.0.1"])
    request_id = final_request(hooked, "SW-4")
    forged_url = f"http://127.0.0.1:{receiver.port}/internal-admin"
    old_shape = {"event_id": "f" * 32, "request_id": request_id, "target": forged_url, "body": {"ticket": "SW-4"},
                 "attempts": 3, "last_error": "HTTP 503"}
    hooked.redis.hset(hooked.keys.webhook_dead_letters, old_shape["event_id"], json.dumps(old_shape))
    hooked.webhooks().park(request_id, "internal-admin", {"ticket": "SW-4"}, attempts=3, error="HTTP 503")
    hooked.webhooks().park(request_id, "callback", {"ticket": "SW-4"}, attempts=3, error="HTTP 503")  # it has none

    replay = operations.replay_webhooks(hooked)
    assert (replay.delivered, replay.failing, replay.refused) == (0, 0, 3)
    assert receiver.received == []
    assert len(hooked.webhooks().dead_letters()) == 3  # left parked for the operator to see (or drop)
    refusals = [e for e in hooked.audit.entries() if e["event"] == "webhook.replay_refused"]
    assert len(refusals) == 3 and "internal-admin?" not in json.dumps(refusals)
    assert all(str(receiver.port) not in line for line in replay.refusals)


# --- the configuration ---------------------------------------------------------------------------------

def test_an_http_target_is_refused_unless_its_host_is_allowed():
    with pytest.raises(ValueError, match=r"ERASURE_WEBHOOK_TARGETS: target 'crm' must be https .*ERASURE_WEBHOOK_HTTP_HOSTS"):
        Settings(webhook_targets={"crm": "http://crm.example/hook?token=t0ken"})
    allowed = Settings(webhook_targets={"crm": "http://crm.example/hook"}, webhook_http_hosts=["crm.example"])
    assert allowed.webhook_target_url("crm") == "http://crm.example/hook"
    assert Settings(webhook_targets=["https://a.example/h"]).webhook_target_urls == {
        "url-" + hashlib.sha256(b"https://a.example/h").hexdigest()[:8]: "https://a.example/h"}
    with pytest.raises(ValueError, match="'callback' is reserved"):
        Settings(webhook_targets={"callback": "https://a.example/h"})


def test_an_http_target_stops_the_cli_with_one_line_naming_the_variable():
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ERASURE_")}
    env = {**clean, "ERASURE_HMAC_KEY": "k" * 32, "ERASURE_WEBHOOK_TARGETS": '["http://crm.example/h?token=t0ken"]'}
    result = subprocess.run([sys.executable, "-m", "services.cli", "webhooks", "list"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "ERASURE_WEBHOOK_TARGETS" in result.stderr and "ERASURE_WEBHOOK_HTTP_HOSTS" in result.stderr
    assert "t0ken" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(("secret", "key"), [
    (SECRET, b"unit-tests-webhook-key-32-bytes!"),  # the spec's form: the key is the decoded bytes
    ("a-plain-secret-of-24-chars", b"a-plain-secret-of-24-chars"),  # as before: its UTF-8 bytes
])
def test_the_secret_maps_to_the_key_receivers_use(secret, key):
    assert Settings(webhook_secret=secret).require_webhook_secret() == key


@pytest.mark.parametrize("secret", ["", "short", "whsec_not*base64", "whsec_" + base64.b64encode(b"x" * 16).decode()])
def test_a_bad_or_missing_secret_is_a_clear_error(secret):
    with pytest.raises(ConfigError, match="ERASURE_WEBHOOK_SECRET"):
        Settings(webhook_secret=secret).require_webhook_secret()
