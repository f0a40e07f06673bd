"""The ticket is the idempotency key: the same request sent again changes nothing, a ticket reused for
someone else is refused, and either way nothing is enqueued twice and no identifier is echoed."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from services import cli
from services.intake.submit import DuplicateTicket, IntakeError, enqueue_discovery, submit
from shared import celery_app
from shared.models import RequestState
from shared.task_names import DISCOVER_TASK

JANE = {"ticket": "DSAR-1", "emails": ["jane.doe@example.org"], "phones": ["+447911123456"]}


@pytest.fixture
def sent(monkeypatch):
    calls: list[tuple[str, list]] = []
    monkeypatch.setattr(celery_app.app, "send_task", lambda name, args=None, **kw: calls.append((name, args)))
    return calls


def received(runtime) -> list[dict]:
    return [e for e in runtime.audit.entries() if e["event"] == "request.received"]


def test_an_accepted_request_is_stored_audited_and_enqueued_once(runtime, sent):
    record = submit(runtime, {**JANE, "approved_by": "a.dpo"})

    stored = runtime.store.get(record.request_id)
    assert stored.state is RequestState.RECEIVED and stored.ticket == "DSAR-1"
    assert stored.subject_digest == runtime.digest(record) and stored.subject_digest.startswith("hmac-sha256:")
    assert runtime.store.find_by_ticket("DSAR-1").request_id == record.request_id
    assert sent == [(DISCOVER_TASK, [[record.request_id]])]
    [entry] = received(runtime)
    assert entry["request_id"] == record.request_id and entry["subject"] == stored.subject_digest
    assert entry["details"] == {"ticket": "DSAR-1", "identifiers": 2, "approved": True, "windowed": False}


def test_the_audit_entry_says_unapproved_and_windowed(runtime, sent):
    submit(runtime, {"ticket": "DSAR-W", "emails": ["w@example.org"],
                     "window_start": "2026-01-01T00:00:00Z", "window_end": "2026-02-01T00:00:00Z"})
    [entry] = received(runtime)
    assert entry["details"] == {"ticket": "DSAR-W", "identifiers": 1, "approved": False, "windowed": True}


def test_bulk_mode_stores_without_enqueuing(runtime, sent):
    record = submit(runtime, JANE, enqueue=False)
    assert runtime.store.get(record.request_id).state is RequestState.RECEIVED
    assert sent == []


def test_the_same_request_again_is_already_submitted_and_enqueues_nothing(runtime, sent):
    first = submit(runtime, JANE)
    # The same person however typed: other case, other order, national number with its region.
    again = {"ticket": "DSAR-1", "emails": [" Jane.Doe@EXAMPLE.org"], "phones": ["07911 123456"], "phone_region": "GB"}

    with pytest.raises(DuplicateTicket) as info:
        submit(runtime, again)

    assert info.value.same_subject is True
    assert info.value.request_id == first.request_id
    assert runtime.store.ids() == [first.request_id]
    assert sent == [(DISCOVER_TASK, [[first.request_id]])]  # the first submission's message only
    assert len(received(runtime)) == 1


@pytest.mark.parametrize("other", [
    {"emails": ["omar@example.com"]},  # someone else entirely
    {"emails": ["jane.doe@example.org"]},  # a different subject: one identifier fewer
    {"emails": ["jane.doe@example.org"], "phones": ["+447911123456"], "names": ["Omar Haddad"]},  # one more
])
def test_a_ticket_reused_for_another_subject_is_refused_naming_the_ticket_only(runtime, sent, other):
    first = submit(runtime, JANE)

    with pytest.raises(DuplicateTicket) as info:
        submit(runtime, {"ticket": "DSAR-1", **other})

    assert info.value.same_subject is False
    assert info.value.ticket == "DSAR-1" and info.value.request_id == first.request_id
    message = str(info.value)
    assert message == f"ticket 'DSAR-1' was already submitted as request {first.request_id}"
    for value in (*other.get("emails", []), *other.get("names", []), "omar", "jane"):
        assert value.lower() not in message.lower()
    stored = runtime.store.get(first.request_id)
    assert stored.subject.emails == ["jane.doe@example.org"] and stored.subject.phones == ["+447911123456"]
    assert runtime.store.ids() == [first.request_id]
    assert sent == [(DISCOVER_TASK, [[first.request_id]])]
    assert len(received(runtime)) == 1


def test_a_refused_request_stores_audits_and_enqueues_nothing(runtime, sent):
    with pytest.raises(IntakeError) as info:
        submit(runtime, {"ticket": "DSAR-2", "emails": ["jane.doe(at)example.org"]})
    assert info.value.errors == ["emails[0]: not a valid email address"]
    assert runtime.store.ids() == [] and runtime.audit.entries() == [] and sent == []


def test_national_numbers_take_the_deployment_default_region(runtime, sent, monkeypatch):
    monkeypatch.setattr(runtime.settings, "default_phone_region", "GB")
    record = submit(runtime, {"ticket": "DSAR-3", "phones": ["07911 123456"]})
    assert record.subject.phones == ["+447911123456"]


def test_discovery_is_sent_in_batches_of_the_configured_size(runtime, sent):
    ids = [f"r{n}" for n in range(2 * runtime.settings.batch_size + 3)]
    enqueue_discovery(runtime, ids)
    size = runtime.settings.batch_size
    assert sent == [(DISCOVER_TASK, [ids[:size]]), (DISCOVER_TASK, [ids[size:2 * size]]),
                    (DISCOVER_TASK, [ids[2 * size:]])]


# The CLI's bulk door is where "already submitted" and "refused" part ways on ``same_subject``.

@pytest.fixture
def cli_runtime(runtime, monkeypatch, sent):
    monkeypatch.setattr("shared.runtime.get_runtime", lambda: runtime)
    return runtime


def run_file(path):
    return CliRunner().invoke(cli.app, ["submit", "--file", str(path)])


def queued_ids(sent) -> list[str]:
    return [i for name, args in sent if name == DISCOVER_TASK for i in args[0]]


def test_rerunning_a_bulk_file_counts_the_same_lines_as_already_submitted(cli_runtime, sent, tmp_path):
    bulk = tmp_path / "bulk.jsonl"
    lines = [f'{{"ticket": "R-{n}", "emails": ["r{n}@example.org"]}}' for n in range(3)]
    bulk.write_text("\n".join(lines) + "\n")
    first = run_file(bulk)
    assert first.exit_code == 0, first.output
    assert "accepted 3, refused 0" in first.stdout
    stored = cli_runtime.store.ids()
    assert sorted(queued_ids(sent)) == sorted(stored)
    for request_id in stored:  # discovery has them: a rerun must not send them again
        cli_runtime.store.set_state(request_id, RequestState.DISCOVERING)
    sent.clear()

    lines[2] = '{"ticket": "R-2", "emails": ["someone.else@example.org"]}'
    bulk.write_text("\n".join(lines) + "\n")
    again = run_file(bulk)

    assert again.exit_code == 2
    assert "accepted 0, refused 1, already submitted 2" in again.stdout
    assert "line 3: refused: ticket 'R-2' was already submitted as request" in again.stderr
    assert "someone.else" not in again.output
    assert cli_runtime.store.ids() == stored
    assert sent == []


def test_a_rerun_enqueues_lines_an_interrupted_run_stored_but_never_sent(cli_runtime, sent, tmp_path):
    bulk = tmp_path / "bulk.csv"
    bulk.write_text("ticket,emails\nC-1,c1@example.org\nC-2,c2@example.org\n")
    assert run_file(bulk).exit_code == 0
    stored = cli_runtime.store.ids()
    sent.clear()  # the first run died before its messages reached the broker

    again = run_file(bulk)

    assert again.exit_code == 0
    assert "accepted 0, refused 0, already submitted 2" in again.stdout
    assert sorted(queued_ids(sent)) == sorted(stored)
