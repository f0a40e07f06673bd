"""The file door of the intake: each line submitted, already in, or refused with its reason; a rerun
of the same file submits nothing twice and re-sends only what never reached discovery."""

from __future__ import annotations

import json

import pytest

from services.intake.bulk import FileLine, Outcome, read_lines, submit_line, submit_lines
from services.intake.submit import submit
from shared import celery_app
from shared.lanes import PRIORITY
from shared.models import Lane, RequestState
from shared.task_names import DISCOVER_TASK
from tests.support.records import put_state


@pytest.fixture
def sent(monkeypatch):
    calls: list[tuple[str, list]] = []
    monkeypatch.setattr(celery_app.app, "send_task", lambda name, args=None, **kw: calls.append((name, args)))
    return calls


def queued(sent) -> list[str]:
    return [i for name, args in sent if name == DISCOVER_TASK for i in args[0]]


def line(number: int, ticket: str, email: str) -> FileLine:
    return FileLine(number, {"ticket": ticket, "emails": [email]})


# --- one line ---

def test_a_new_ticket_is_submitted_and_not_yet_enqueued(runtime, sent):
    result = submit_line(runtime, line(1, "B-1", "b1@example.org"))
    assert result.outcome is Outcome.SUBMITTED
    assert runtime.store.get(result.request_id).ticket == "B-1"
    assert sent == []  # the file door enqueues in batches, not per line


def test_the_same_ticket_for_the_same_subject_is_already_in_and_requeued_while_it_waits(runtime, sent):
    first = submit_line(runtime, line(1, "B-1", "b1@example.org"))
    again = submit_line(runtime, line(7, "B-1", "B1@Example.org"))  # the same subject, written differently
    assert (again.number, again.outcome, again.request_id) == (7, Outcome.ALREADY_SUBMITTED, first.request_id)
    assert again.requeued is True and again.reason is None
    assert runtime.store.ids() == [first.request_id]


@pytest.mark.parametrize("state", [RequestState.DISCOVERING, RequestState.AWAITING_APPROVAL, RequestState.COMPLETED])
def test_the_same_ticket_past_discovery_is_already_in_and_not_requeued(runtime, sent, state):
    first = submit_line(runtime, line(1, "B-1", "b1@example.org"))
    put_state(runtime, first.request_id, state)
    again = submit_line(runtime, line(1, "B-1", "b1@example.org"))
    assert again.outcome is Outcome.ALREADY_SUBMITTED and again.requeued is False


def test_the_same_ticket_for_another_subject_is_refused_without_echoing_it(runtime, sent):
    first = submit_line(runtime, line(1, "B-1", "b1@example.org"))
    other = submit_line(runtime, line(2, "B-1", "someone.else@example.org"))
    assert other.outcome is Outcome.REFUSED and other.request_id is None and other.requeued is False
    assert other.reason == (f"ticket 'B-1' was already submitted as request {first.request_id} "
                            "for another subject or another kind of request")
    assert "someone.else" not in other.reason
    assert runtime.store.get(first.request_id).subject.emails == ["b1@example.org"]


def test_an_invalid_line_is_refused_by_field_name(runtime, sent):
    result = submit_line(runtime, FileLine(3, {"ticket": "B-9", "emails": ["not-an-email"]}))
    assert result.outcome is Outcome.REFUSED and result.reason.startswith("emails[0]:")
    assert "not-an-email" not in result.reason and runtime.store.ids() == []


def test_an_unreadable_line_is_refused_with_its_problem(runtime, sent):
    assert submit_line(runtime, FileLine(4, None, "not valid JSON")).reason == "not valid JSON"
    assert submit_line(runtime, FileLine(5, None)).reason == "unreadable"


# --- the whole file ---

def test_a_rerun_counts_each_kind_and_resends_only_what_never_reached_discovery(runtime, sent, monkeypatch):
    lines = [line(n, f"R-{n}", f"r{n}@example.org") for n in range(1, 6)]
    first = submit_lines(runtime, lines)
    assert (first.accepted, first.refused, first.already_submitted, first.requeued) == (5, 0, 0, 0)
    assert first.text() == "accepted 5, refused 0"
    ids = {r.ticket: r.request_id for r in runtime.store.iter_records()}
    for ticket in ("R-1", "R-2", "R-3"):  # discovery had these; were lost with the broker
        runtime.store.set_state(ids[ticket], RequestState.DISCOVERING)
    sent.clear()

    lines[1] = line(2, "R-2", "not.them@example.org")
    seen = []
    again = submit_lines(runtime, [*lines, line(6, "R-6", "r6@example.org")], on_line=seen.append)

    assert (again.accepted, again.refused, again.already_submitted, again.requeued) == (1, 1, 4, 2)
    assert again.text() == "accepted 1, refused 1, already submitted 4"
    assert [(r.number, r.outcome) for r in seen] == [
        (1, Outcome.ALREADY_SUBMITTED), (2, Outcome.REFUSED), (3, Outcome.ALREADY_SUBMITTED),
        (4, Outcome.ALREADY_SUBMITTED), (5, Outcome.ALREADY_SUBMITTED), (6, Outcome.SUBMITTED)]
    assert queued(sent) == [ids["R-4"], ids["R-5"], seen[-1].request_id]


def test_accepted_lines_go_to_discovery_in_batches_of_the_configured_size(runtime, sent, monkeypatch):
    monkeypatch.setattr(runtime.settings, "batch_size", 2)
    summary = submit_lines(runtime, [line(n, f"S-{n}", f"s{n}@example.org") for n in range(1, 6)])
    assert summary.accepted == 5
    assert [len(args[0]) for name, args in sent] == [2, 2, 1]
    assert sorted(queued(sent)) == sorted(runtime.store.ids())


def test_a_waiting_request_named_again_in_a_file_is_requeued_in_its_own_lane(runtime, monkeypatch):
    """An interactive request (sent by the API) still waiting for discovery and named again in a file goes
    back to discovery interactive; the file's new lines go bulk."""
    calls: list[tuple[list, object]] = []
    monkeypatch.setattr(celery_app.app, "send_task",
                        lambda name, args=None, **kw: calls.append((args[0], kw.get("priority"))))
    interactive = submit(runtime, {"ticket": "I-1", "emails": ["i1@example.org"]}, enqueue=False)
    bulk = submit_line(runtime, line(1, "B-1", "b1@example.org"))
    summary = submit_lines(runtime, [line(1, "I-1", "i1@example.org"), line(2, "B-1", "b1@example.org"),
                                     line(3, "N-1", "n1@example.org")])
    assert (summary.accepted, summary.requeued) == (1, 2)
    new = next(i for i in runtime.store.ids() if i not in (interactive.request_id, bulk.request_id))
    assert sorted(calls, key=str) == sorted([([interactive.request_id], None),
                                             ([bulk.request_id, new], PRIORITY[Lane.BULK])], key=str)


def test_lines_stored_before_a_failure_are_still_enqueued(runtime, sent):
    def lines():
        yield line(1, "F-1", "f1@example.org")
        yield line(2, "F-2", "f2@example.org")
        raise OSError("the file went away")

    with pytest.raises(OSError):
        submit_lines(runtime, lines())
    assert sorted(queued(sent)) == sorted(runtime.store.ids()) and len(runtime.store.ids()) == 2


# --- reading the file ---

def test_a_csv_file_numbers_lines_from_the_header_and_leaves_out_empty_cells(tmp_path):
    path = tmp_path / "requests.CSV"
    path.write_text("ticket,emails,phones\nC-1,c1@example.org,\nC-2,,+447911123456\n")
    assert read_lines(path) == [FileLine(2, {"ticket": "C-1", "emails": "c1@example.org"}),
                                FileLine(3, {"ticket": "C-2", "phones": "+447911123456"})]


def test_a_jsonl_file_skips_blank_lines_and_names_the_unreadable_ones(tmp_path):
    path = tmp_path / "requests.jsonl"
    path.write_text(json.dumps({"ticket": "J-1"}) + "\n\n{broken\n[1, 2]\n" + json.dumps({"ticket": "J-5"}) + "\n")
    assert read_lines(path) == [FileLine(1, {"ticket": "J-1"}), FileLine(3, None, "not valid JSON"),
                                FileLine(4, None, "each line must be a JSON object"), FileLine(5, {"ticket": "J-5"})]
