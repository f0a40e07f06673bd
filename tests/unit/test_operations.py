"""The operator's commands as functions: where requests stand, certificates, holds (audited), webhook
replay (a delivery recorded once) and the audit check; none returns personal data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from services import operations, registers
from services.registers import NotFound, Refused
from shared.certificate import certificate_json
from shared.certificate_store import deliveries
from shared.digest import digest_value
from shared.models import ErasureRecord, RequestState, Subject
from shared.webhooks import ID_HEADER, webhook_id
from tests.support.certificates import signed_certificate

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def stored(runtime, ticket: str, verified_days_ago: float, state: RequestState = RequestState.RECEIVED,
           **fields) -> ErasureRecord:
    record = ErasureRecord(ticket=ticket, subject=Subject(emails=[f"{ticket.lower()}@example.org"]),
                           verified_at=NOW - timedelta(days=verified_days_ago), state=state, **fields)
    return runtime.store.create(record)


def audit_events(runtime) -> list[dict]:
    return [{"event": e["event"], **e["details"]} for e in runtime.audit.entries()]


# --- status ---

def test_status_rows_put_open_requests_first_by_deadline_then_final_ones(runtime):
    stored(runtime, "LATE", 40)  # overdue by 10 days
    stored(runtime, "SOON", 25, reason="waiting for approval")
    stored(runtime, "DONE", 50, RequestState.COMPLETED, completed_at=NOW - timedelta(days=25))
    stored(runtime, "FRESH", 1)

    report = operations.status(runtime, now=NOW)

    assert report.rows() == [
        ("LATE", "received", "overdue 10.0d", ""),
        ("SOON", "received", "5.0d left", "waiting for approval"),
        ("FRESH", "received", "29.0d left", ""),
        ("DONE", "completed", "met", ""),
    ]
    view = report.deadlines()
    assert (view.open, view.overdue, view.at_risk) == (3, 1, 1)


def test_status_counts_requests_per_state_in_pipeline_order_leaving_out_empty_states(runtime):
    for n in range(3):
        stored(runtime, f"P-{n}", 2, RequestState.POLLING)
    stored(runtime, "R-1", 2)
    stored(runtime, "F-1", 2, RequestState.FAILED)
    assert operations.status(runtime, now=NOW).counts() == [
        (RequestState.RECEIVED, 1), (RequestState.POLLING, 3), (RequestState.FAILED, 1)]


def test_status_of_one_ticket_or_none_known(runtime):
    stored(runtime, "ONE", 3)
    stored(runtime, "TWO", 3)
    assert [row[0] for row in operations.status(runtime, "TWO", now=NOW).rows()] == ["TWO"]
    with pytest.raises(NotFound, match="no request with ticket 'THREE'"):
        operations.status(runtime, "THREE")


# --- certificates ---

def test_the_certificate_is_the_stored_json_and_its_page(runtime):
    record = stored(runtime, "CERT-1", 3, RequestState.COMPLETED)
    with pytest.raises(NotFound, match=r"no certificate for ticket 'CERT-1' \(yet\)"):
        operations.certificate(runtime, "CERT-1")
    text = certificate_json({"ticket": "CERT-1", "request_id": record.request_id})
    runtime.redis.set(runtime.keys.certificate(record.request_id), text)

    found = operations.certificate(runtime, "CERT-1")

    assert found.text == text
    assert "<strong id=\"ticket\">CERT-1</strong>" in found.html()
    with pytest.raises(NotFound):
        operations.certificate(runtime, "NOBODY")


# --- holds ---

def test_a_subject_hold_keeps_only_the_digest_of_the_normalised_identifier_and_is_audited(runtime):
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(days=90)
    hold = registers.add_hold(runtime, "litigation CASE-1", email="Jane.Doe@Example.org", expires_at=later)
    key = runtime.settings.require_hmac_key()
    assert hold.kind == "subject" and hold.target == digest_value(key, "jane.doe@example.org")
    assert hold.basis.startswith("Art. 17(3)(e)") and hold.expires_at == later
    assert registers.list_holds(runtime) == [hold]
    assert audit_events(runtime) == [{"event": "hold.added", "hold": hold.id, "kind": "subject",
                                      "reason": "litigation CASE-1", "by": "cli"}]
    assert "jane" not in json.dumps(runtime.audit.entries()).lower()


def test_a_conversation_hold_under_its_own_basis(runtime):
    hold = registers.add_hold(runtime, "regulator inquiry", conversation="conv-9", basis="Art. 17(3)(b)")
    assert (hold.kind, hold.target, hold.basis, hold.expires_at) == ("conversation", "conv-9", "Art. 17(3)(b)", None)


def test_a_phone_hold_is_normalised_to_e164(runtime):
    hold = registers.add_hold(runtime, "case", phone="+44 7911 123456")
    assert hold.target == digest_value(runtime.settings.require_hmac_key(), "+447911123456")


def test_free_text_of_a_hold_is_scrubbed_and_capped_before_the_register_and_audit_keep_it(runtime):
    typed = "call from jane.doe@example.org on +44 7911 123456 " + "x" * 400
    hold = registers.add_hold(runtime, typed, conversation="c-1", basis="per jane.doe@example.org " + "y" * 400)
    registers.remove_hold(runtime, hold.id, "settled with jane.doe@example.org " + "z" * 400)
    kept = json.dumps([hold.reason, hold.basis, runtime.audit.entries()])
    assert "jane" not in kept and "7911" not in kept
    assert len(hold.reason) <= 300 and len(hold.basis) <= 300 and hold.reason.startswith("call from ")
    assert all(len(e["details"]["reason"]) <= 300 for e in runtime.audit.entries())


@pytest.mark.parametrize(("typed", "means"), [
    ("2030-01-31", datetime(2030, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)),  # a date: the end of that day, UTC
    ("2030-01-31T10:00:00+02:00", datetime(2030, 1, 31, 8, tzinfo=UTC)),  # an offset is converted, not dropped
    ("2030-01-31T10:00:00", datetime(2030, 1, 31, 10, tzinfo=UTC)),  # no offset: UTC
])
def test_a_typed_expiry_means_what_was_typed(typed, means):
    assert registers.parse_expiry(typed) == means


def test_a_hold_expiring_in_the_past_or_an_unreadable_expiry_is_refused(runtime):
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    with pytest.raises(Refused, match="expires: a moment in the future"):
        registers.add_hold(runtime, "case", conversation="c-1", expires_at=registers.parse_expiry(yesterday))
    with pytest.raises(Refused, match="expires: an ISO date"):
        registers.parse_expiry("next tuesday")
    assert registers.list_holds(runtime) == [] and runtime.audit.entries() == []


@pytest.mark.parametrize("conversation", ["jane@example.org", "+44 7911 123456", "x" * 65, "-c1", "c 1"])
def test_a_conversation_hold_on_something_not_shaped_like_a_conversation_id_is_refused(runtime, conversation):
    with pytest.raises(Refused, match="conversation: not a conversation id") as refused:
        registers.add_hold(runtime, "case", conversation=conversation)
    assert conversation not in str(refused.value) and registers.list_holds(runtime) == []


@pytest.mark.parametrize(("targets", "says"), [
    ({}, "give exactly one of conversation, email, phone"),
    ({"conversation": "c-1", "email": "a@example.org"}, "give exactly one of conversation, email, phone"),
    ({"email": "not-an-email"}, "email: "),
    ({"phone": "12"}, "phone: "),
])
def test_a_hold_on_nothing_or_on_a_bad_identifier_is_refused_and_nothing_is_stored(runtime, targets, says):
    with pytest.raises(Refused, match=says) as refused:
        registers.add_hold(runtime, "case", **targets)
    assert "not-an-email" not in str(refused.value)
    assert registers.list_holds(runtime) == [] and runtime.audit.entries() == []


def test_removing_a_hold_is_audited_and_an_unknown_one_is_not_found(runtime):
    hold = registers.add_hold(runtime, "case", conversation="c-1")
    registers.remove_hold(runtime, hold.id)
    assert registers.list_holds(runtime) == []
    assert audit_events(runtime)[-1] == {"event": "hold.removed", "hold": hold.id, "by": "cli"}
    with pytest.raises(NotFound, match=f"no hold '{hold.id}'"):
        registers.remove_hold(runtime, hold.id)
    assert len(runtime.audit.entries()) == 2


# --- webhooks ---

@pytest.fixture
def receiver(runtime, monkeypatch):
    """A downstream target answering with the status in ``answers["up"]``; ``calls`` are (webhook id, URL) it got."""
    answers = {"up": 500}
    calls: list[tuple[str, str]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append((request.headers[ID_HEADER], str(request.url)))
        return httpx.Response(answers["up"])

    monkeypatch.setattr(runtime.settings, "webhook_secret", SecretStr("w" * 32))
    runtime._webhook_http = httpx.Client(transport=httpx.MockTransport(handle))
    return answers, calls


def test_a_replayed_event_is_recorded_as_delivered_once(runtime, receiver, monkeypatch):
    answers, calls = receiver
    record = stored(runtime, "HOOK-1", 3, RequestState.COMPLETED)
    certificate = signed_certificate(runtime, record.request_id, "HOOK-1")
    target = "https://crm.example/hook?token=t0ken"
    monkeypatch.setattr(runtime.settings, "webhook_targets", {"crm": target})
    sender = runtime.webhooks()
    sender.park(record.request_id, "crm", attempts=3, error="HTTP 500")
    assert [e["target_name"] for e in registers.dead_letters(runtime)] == ["crm"]
    assert "t0ken" not in json.dumps(registers.dead_letters(runtime))  # a name is parked, never the URL

    assert registers.replay_webhooks(runtime) == registers.Replay(delivered=0, failing=1)
    assert registers.dead_letters(runtime)[0]["attempts"] == 4
    assert [e["event"] for e in runtime.audit.entries()] == []

    answers["up"] = 204
    assert registers.replay_webhooks(runtime) == registers.Replay(delivered=1, failing=0)
    assert registers.replay_webhooks(runtime) == registers.Replay(delivered=0, failing=0)

    assert calls == [(webhook_id(record.request_id, "crm"), target)] * 2
    assert registers.dead_letters(runtime) == []
    assert audit_events(runtime) == [{"event": "webhook.delivered", "target": "https://crm.example"}]
    assert deliveries(runtime.redis, runtime.keys, record.request_id) == ["https://crm.example"]
    assert json.loads(runtime.redis.get(runtime.keys.certificate(record.request_id))) == certificate


def park_old_shape(runtime, request_id: str, url: str) -> None:
    """A dead letter as versions before Standard Webhooks parked it: with the target's URL."""
    entry = {"event_id": f"old-{len(url)}-{url[-4:]}", "request_id": request_id, "target": url,
             "body": {"ticket": "OLD"}, "attempts": 3, "last_error": "HTTP 500"}
    runtime.redis.hset(runtime.keys.webhook_dead_letters, entry["event_id"], json.dumps(entry))


def test_a_forged_dead_letter_is_not_sent_on_replay(runtime, receiver, monkeypatch):
    """Issue 18: whoever can write to Redis can park an event naming anything; replay sends only to the
    URL a target name stands for now: a global target configured now, or the request's own callback
    (read from its record) if the allow-list accepts it now. A URL in a dead letter is never sent to."""
    answers, calls = receiver
    answers["up"] = 204
    monkeypatch.setattr(runtime.settings, "webhook_targets", {"crm": "https://crm.example/hook"})
    monkeypatch.setattr(runtime.settings, "callback_hosts", [".dsar.example"])
    callback = "https://hooks.dsar.example/done?token=t0ken"
    record = stored(runtime, "HOOK-2", 3, RequestState.COMPLETED, callback_url=callback)
    signed_certificate(runtime, record.request_id, "HOOK-2")
    sender = runtime.webhooks()
    sender.park(record.request_id, "internal-admin", attempts=3, error="HTTP 500")
    sender.park("no-such-request", "callback", attempts=3, error="HTTP 500")
    # Old-shape entries holding a URL: on an allowed callback host, but not the request's callback.
    park_old_shape(runtime, record.request_id, "https://other.dsar.example/internal-admin")
    park_old_shape(runtime, record.request_id, "http://127.0.0.1:9/internal-admin")
    sender.park(record.request_id, "callback", attempts=3, error="HTTP 500")

    replay = registers.replay_webhooks(runtime)
    assert (replay.delivered, replay.failing, replay.refused) == (1, 0, 4)
    assert calls == [(webhook_id(record.request_id, "callback"), callback)]
    assert len(registers.dead_letters(runtime)) == 4
    refused = [e for e in audit_events(runtime) if e["event"] == "webhook.replay_refused"]
    assert len(refused) == 4 == len(replay.refusals)
    assert sorted(str(e["target"]) for e in refused) == ["(not a target name)"] * 2 + ["callback", "internal-admin"]
    shown = json.dumps(refused) + "\n".join(replay.refusals)
    assert not any(v in shown for v in ("t0ken", "127.0.0.1", "other.dsar.example", "/internal-admin"))


def test_an_old_dead_letter_for_a_target_configured_now_is_moved_to_its_name(runtime, receiver, monkeypatch):
    answers, calls = receiver
    answers["up"] = 204
    monkeypatch.setattr(runtime.settings, "webhook_targets", {"crm": "https://crm.example/hook"})
    record = stored(runtime, "HOOK-4", 3, RequestState.COMPLETED)
    signed_certificate(runtime, record.request_id, "HOOK-4")
    park_old_shape(runtime, record.request_id, "https://crm.example/hook")
    assert registers.replay_webhooks(runtime) == registers.Replay(delivered=1, failing=0)
    assert calls == [(webhook_id(record.request_id, "crm"), "https://crm.example/hook")]
    assert registers.dead_letters(runtime) == []


def test_a_callback_host_taken_off_the_list_is_not_sent_on_replay(runtime, receiver, monkeypatch):
    answers, calls = receiver
    answers["up"] = 204
    monkeypatch.setattr(runtime.settings, "callback_hosts", ["hooks.dsar.example"])
    record = stored(runtime, "HOOK-3", 3, RequestState.COMPLETED, callback_url="https://hooks.dsar.example/done")
    signed_certificate(runtime, record.request_id, "HOOK-3")
    runtime.webhooks().park(record.request_id, "callback", 3, "HTTP 500")
    monkeypatch.setattr(runtime.settings, "callback_hosts", [])
    replay = registers.replay_webhooks(runtime)
    assert (replay.delivered, replay.failing, replay.refused) == (0, 0, 1)
    assert "not configured or not allowed now" in replay.refusals[0]
    assert calls == []


def test_a_refused_dead_letter_can_be_dropped_audited(runtime, receiver):
    record = stored(runtime, "HOOK-5", 3, RequestState.COMPLETED)
    runtime.webhooks().park(record.request_id, "gone", 3, "HTTP 500")
    [entry] = registers.dead_letters(runtime)
    registers.drop_dead_letter(runtime, entry["webhook_id"])
    assert registers.dead_letters(runtime) == []
    assert audit_events(runtime) == [{"event": "webhook.dead_letter_dropped", "webhook_id": entry["webhook_id"],
                                      "target": "gone"}]
    with pytest.raises(NotFound):
        registers.drop_dead_letter(runtime, entry["webhook_id"])


# --- the audit log ---

def test_the_stored_and_the_exported_log_are_checked_alike(runtime, tmp_path):
    for n in range(3):
        runtime.audit.append("step", request_id=f"r{n}", details={"n": n})
    stored_check = operations.verify_stored_audit(runtime)
    assert (stored_check.entries, stored_check.problem) == (3, None)

    entries = runtime.audit.entries()
    export = tmp_path / "audit.jsonl"
    export.write_text("".join(json.dumps(e) + "\n" for e in entries) + "\n")
    head = runtime.redis.get(runtime.keys.audit_head)
    assert operations.verify_exported_audit(export, head, key=runtime.audit.key) == stored_check

    export.write_text("".join(json.dumps(e) + "\n" for e in entries[:2]))
    cut = operations.verify_exported_audit(export, head, key=runtime.audit.key)
    assert cut.entries == 2 and cut.problem is not None and cut.problem.seq == 3
    # without the head a cut end cannot show
    assert operations.verify_exported_audit(export, key=runtime.audit.key).problem is None
