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

from services import registers
from shared.certificate import certificate_json
from shared.config import ConfigError, Settings
from shared.models import ErasureRecord, RequestState, Subject, utcnow
from shared.webhooks import WebhookSender, webhook_id
from tests.support.certificates import signed_certificate
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
    signed_certificate(runtime, record.request_id, ticket)
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
    hooked.webhooks().park(request_id, "crm", attempts=3, error="ReadTimeout")

    assert registers.replay_webhooks(hooked) == registers.Replay(delivered=1, failing=0)
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
    hooked.webhooks().park(request_id, "internal-admin", attempts=3, error="HTTP 503")
    hooked.webhooks().park(request_id, "callback", attempts=3, error="HTTP 503")  # it has none

    replay = registers.replay_webhooks(hooked)
    assert (replay.delivered, replay.failing, replay.refused) == (0, 0, 3)
    assert receiver.received == []
    assert len(hooked.webhooks().dead_letters()) == 3  # left parked for the operator to see (or drop)
    refusals = [e for e in hooked.audit.entries() if e["event"] == "webhook.replay_refused"]
    assert len(refusals) == 3 and forged_url not in json.dumps(refusals)  # a host and port: never a URL
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


# --- what a replay sends: only what this deployment certified ------------------------------------------

FORGED = {"event": "erasure.final", "outcome": "completed", "deadline_met": True, "ticket": "FORGED",
          "subject_digest": "sha256:" + "f" * 64}


def park_raw(runtime, key: str, entry) -> None:
    """A dead letter as anyone with Redis access could write it."""
    runtime.redis.hset(runtime.keys.webhook_dead_letters, key, entry if isinstance(entry, str) else json.dumps(entry))


def forged_entry(request_id: str) -> dict:
    """A dead letter in the current shape that carries a body of its own (as parked before bodies were dropped)."""
    return {"webhook_id": webhook_id(request_id, "crm"), "request_id": request_id, "target_name": "crm",
            "body": {**FORGED, "request_id": request_id}, "attempts": 3, "last_error": "HTTP 503"}


def test_replay_sends_the_event_of_the_signed_certificate_never_the_parked_body(hooked, receiver):
    """Issue: replay signed and sent the body read from Redis. Now the body is rebuilt from the request's
    certificate, for an entry of today's shape and for one parked by an older version (a URL)."""
    from shared.final_event import event_body

    new_shape = final_request(hooked, "SW-5")
    park_raw(hooked, webhook_id(new_shape, "crm"), forged_entry(new_shape))
    old_shape = final_request(hooked, "SW-6")
    park_raw(hooked, "e" * 32, {"event_id": "e" * 32, "request_id": old_shape, "target": hooked.settings.webhook_targets["crm"],
                                "body": {**FORGED, "request_id": old_shape}, "attempts": 3, "last_error": "HTTP 503"})

    assert registers.replay_webhooks(hooked) == registers.Replay(delivered=2, failing=0)
    bodies = {event["body"]["request_id"]: event["body"] for event in receiver.accepted}
    for request_id in (new_shape, old_shape):
        certificate = json.loads(hooked.redis.get(hooked.keys.certificate(request_id)))
        assert bodies[request_id] == event_body(certificate)
        assert bodies[request_id]["ticket"] != "FORGED" and bodies[request_id]["subject_digest"] != FORGED["subject_digest"]
    assert hooked.webhooks().dead_letters() == []


def test_replay_refuses_an_event_whose_certificate_is_missing_or_does_not_verify(hooked, receiver):
    """No certificate, one edited in Redis, another request's copied over: each refused (audited, one line,
    left parked), and a good one beside them still delivered."""
    no_certificate = hooked.store.create(ErasureRecord(ticket="SW-7", subject=Subject(emails=["x@example.org"]),
                                                       verified_at=utcnow(), state=RequestState.COMPLETED)).request_id
    edited = final_request(hooked, "SW-8")
    certificate = json.loads(hooked.redis.get(hooked.keys.certificate(edited)))
    hooked.redis.set(hooked.keys.certificate(edited), certificate_json({**certificate, "outcome": "failed"}))
    copied_over, good = final_request(hooked, "SW-9"), final_request(hooked, "SW-10")
    hooked.redis.set(hooked.keys.certificate(copied_over), hooked.redis.get(hooked.keys.certificate(good)))
    for request_id in (no_certificate, edited, copied_over, good):
        park_raw(hooked, webhook_id(request_id, "crm"), forged_entry(request_id))

    replay = registers.replay_webhooks(hooked)
    assert (replay.delivered, replay.failing, replay.refused) == (1, 0, 3)
    assert [event["body"]["request_id"] for event in receiver.accepted] == [good]
    reasons = {line.split("(request ")[1].split(")")[0]: line for line in replay.refusals}
    assert "no certificate" in reasons[no_certificate]
    assert "does not verify (tampered)" in reasons[edited]
    assert "another request's" in reasons[copied_over]
    assert all(len(line.splitlines()) == 1 for line in replay.refusals)
    refused = [e for e in hooked.audit.entries() if e["event"] == "webhook.replay_refused"]
    assert sorted(e["request_id"] for e in refused) == sorted([no_certificate, edited, copied_over])
    assert sorted(e["request_id"] for e in hooked.webhooks().dead_letters()) == sorted([no_certificate, edited, copied_over])


def test_replay_without_a_signing_key_sends_nothing(hooked, receiver, monkeypatch):
    request_id = final_request(hooked, "SW-11")
    park_raw(hooked, webhook_id(request_id, "crm"), forged_entry(request_id))
    monkeypatch.setattr(hooked.settings, "signing_key", SecretStr(""))
    replay = registers.replay_webhooks(hooked)
    assert (replay.delivered, replay.refused) == (0, 1) and "ERASURE_SIGNING_KEY" in replay.refusals[0]
    assert receiver.received == []


def test_a_malformed_dead_letter_is_refused_on_its_own_and_the_others_replayed(hooked, receiver):
    """Issue: one entry without ``attempts`` or ``body``, or not a JSON object, raised out of replay and
    stopped it for every other. Each is refused (audited), listed, droppable; the good one is delivered."""
    good, other = final_request(hooked, "SW-12"), final_request(hooked, "SW-13")
    park_raw(hooked, webhook_id(good, "crm"), forged_entry(good))
    bad = {"not-json": "{not json", "a-list": "[1, 2]", "a-string": '"crm"',
           webhook_id(other, "crm"): {"webhook_id": webhook_id(other, "crm"), "request_id": other, "target_name": "crm"},
           "old-no-body": {"event_id": "old-no-body", "request_id": other, "target": "https://crm.example/h"},
           "attempts-text": {"request_id": other, "target_name": "crm", "attempts": "3"},
           "not-its-id": {"request_id": other, "target_name": "crm", "attempts": 3, "last_error": "x"}}
    for key, entry in bad.items():
        park_raw(hooked, key, entry)

    replay = registers.replay_webhooks(hooked)
    assert (replay.delivered, replay.failing, replay.refused) == (1, 0, len(bad))
    assert [event["body"]["request_id"] for event in receiver.accepted] == [good]
    assert all("malformed" in line for line in replay.refusals)
    assert len([e for e in hooked.audit.entries() if e["event"] == "webhook.replay_refused"]) == len(bad)
    listed = registers.dead_letters(hooked)
    assert sorted(e["webhook_id"] for e in listed) == sorted(bad)
    registers.drop_dead_letter(hooked, "not-json")
    assert len(registers.dead_letters(hooked)) == len(bad) - 1


def test_a_replayed_access_event_carries_its_links_while_they_work(hooked, receiver):
    """The same builder as the first send: an access request's event has its download links (read from
    their expiring key at replay, never from the dead letter)."""
    from datetime import timedelta

    from shared.export_links import keep_links

    record = hooked.store.create(ErasureRecord(ticket="SW-14", subject=Subject(emails=["x@example.org"]),
                                               verified_at=utcnow(), state=RequestState.COMPLETED))
    expires = utcnow() + timedelta(hours=1)
    signed_certificate(hooked, record.request_id, "SW-14", kind="access",
                       export={"gdpr_request_id": "gdpr-1", "link_expires_at": expires.isoformat()})
    keep_links(hooked.redis, hooked.keys, record.request_id, ["https://exports.example/a.zip"], expires)
    park_raw(hooked, webhook_id(record.request_id, "crm"), forged_entry(record.request_id))

    assert registers.replay_webhooks(hooked) == registers.Replay(delivered=1, failing=0)
    [event] = receiver.accepted
    assert event["body"]["export"] == {"gdpr_request_id": "gdpr-1", "results_urls": ["https://exports.example/a.zip"],
                                       "expires_at": expires.isoformat(), "expired": False}


def test_the_list_shows_a_malformed_dead_letter_by_its_key(hooked, monkeypatch):
    """``erasure webhooks list`` used to index every entry's fields: one malformed entry stopped it."""
    from rich.console import Console
    from typer.testing import CliRunner

    import services.cli
    import shared.runtime
    from services.cli import app

    monkeypatch.setattr(shared.runtime, "get_runtime", lambda: hooked)
    # The CLI's console is made when services.cli is first imported, at whatever width that process had:
    # a wide one here, so the table's cells are not wrapped whichever test imported it first.
    monkeypatch.setattr(services.cli, "out", Console(width=200))
    park_raw(hooked, "not-json", "{nope")
    park_raw(hooked, "no-attempts", {"request_id": "r1", "target_name": "crm"})
    result = CliRunner().invoke(app, ["webhooks", "list"])
    assert result.exit_code == 0, result.output
    assert "not-json" in result.output and "(malformed: not a JSON object)" in result.output
    assert "no-attempts" in result.output and "(malformed: no count of attempts)" in result.output
