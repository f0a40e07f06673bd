"""Bad intake input is refused with a message naming the field, and nothing is enqueued."""

from __future__ import annotations

import base64
import json

import pytest
from genesys_sim.config import SimConfig

from tests.support.stack import queue_keys, running_stack


@pytest.fixture()
def idle_stack(tmp_path, redis_available):
    """Redis and settings, but no workers: whatever is enqueued stays in the queue to be counted."""
    with running_stack(tmp_path, redis_available, SimConfig(subjects=1), pools=()) as stack:
        yield stack


def queued_request_ids(stack) -> list[str]:
    """Request ids in the discovery queue's messages (tasks carry batches of ids)."""
    raw = [m for key in queue_keys(stack, "discovery") for m in stack.runtime.redis.lrange(key, 0, -1)]
    ids: list[str] = []
    for message in raw:
        args = json.loads(base64.b64decode(json.loads(message)["body"]))[0]
        ids += args[0]
    return ids


def queued(stack) -> int:
    return len(queued_request_ids(stack))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ticket", "B-1", "--email", "jane.doe(at)example.org"], "emails[0]: not a valid email address"),
        (["--ticket", "B-2", "--phone", "not a number"], "phones[0]: not a parseable phone number"),
        (["--ticket", "B-3"], "subject: give at least one identifier"),
        (["--email", "jane@example.org"], "ticket: String should match pattern"),
        (["--ticket", "B-4", "--name", "Jane Doe", "--erase-by-name"],
         "erase_by_name: a name is never the only identifier of an erasure"),
    ],
)
def test_bad_input_refused_and_nothing_enqueued(idle_stack, args, message):
    result = idle_stack.cli("submit", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "jane" not in result.stderr.lower()
    assert queued(idle_stack) == 0
    assert idle_stack.runtime.store.ids() == []


def test_duplicate_ticket_refused_and_enqueued_once(idle_stack):
    first = idle_stack.cli("submit", "--ticket", "D-1", "--email", "jane@example.org")
    assert first.returncode == 0, first.stderr
    assert queued(idle_stack) == 1
    second = idle_stack.cli("submit", "--ticket", "D-1", "--email", "other@example.org")
    assert second.returncode == 3
    assert "ticket 'D-1' was already submitted as request" in second.stderr
    assert queued(idle_stack) == 1
    assert len(idle_stack.runtime.store.ids()) == 1


def test_bulk_file_reports_bad_lines_and_keeps_good_ones(idle_stack):
    bulk = idle_stack.tmp / "bulk.csv"
    bulk.write_text("ticket,emails,phones\nF-1,a@example.org,\nF-2,not-an-email,\nF-3,,+447911123456\n")
    result = idle_stack.cli("submit", "--file", str(bulk))
    assert result.returncode == 2
    assert "line 3: refused: emails[0]: not a valid email address" in result.stderr
    assert "accepted 2, refused 1" in result.stdout
    assert sorted(queued_request_ids(idle_stack)) == sorted(idle_stack.runtime.store.ids())
    assert queued(idle_stack) == 2


def test_rerunning_a_bulk_file_adds_nothing_and_refuses_a_ticket_reused_for_someone_else(idle_stack):
    bulk = idle_stack.tmp / "bulk.jsonl"
    lines = [f'{{"ticket": "R-{n}", "emails": ["r{n}@example.org"]}}' for n in range(3)]
    bulk.write_text("\n".join(lines) + "\n")
    first = idle_stack.cli("submit", "--file", str(bulk))
    assert first.returncode == 0, first.stderr
    assert "accepted 3, refused 0" in first.stdout
    stored = sorted(idle_stack.runtime.store.ids())

    # An interrupted run's rerun, with one line's ticket now pointing at another person.
    lines[2] = '{"ticket": "R-2", "emails": ["someone.else@example.org"]}'
    bulk.write_text("\n".join(lines) + "\n")
    again = idle_stack.cli("submit", "--file", str(bulk))
    assert again.returncode == 2
    assert "accepted 0, refused 1, already submitted 2" in again.stdout
    assert "line 3: refused: ticket 'R-2' was already submitted as request" in again.stderr
    assert "someone.else" not in again.stderr
    assert sorted(idle_stack.runtime.store.ids()) == stored  # nothing new stored
    # The two still waiting for discovery are enqueued again (harmless if they already were).
    queued_ids = queued_request_ids(idle_stack)
    reruns = {i for i in queued_ids if queued_ids.count(i) == 2}
    assert len(reruns) == 2 and reruns <= set(stored)


def test_erase_by_name_is_kept_from_the_cli_and_from_a_bulk_file(idle_stack):
    """The opt-in reaches the request from every door that carries it (a CSV cell is text)."""
    one = idle_stack.cli("submit", "--ticket", "EN-1", "--email", "a@example.org", "--name", "Ann Example",
                         "--erase-by-name")
    assert one.returncode == 0, one.stderr
    bulk = idle_stack.tmp / "names.csv"
    bulk.write_text("ticket,emails,names,erase_by_name\nEN-2,b@example.org,Bo Example,true\nEN-3,c@example.org,,\n"
                    "EN-4,,Di Example,true\n")
    result = idle_stack.cli("submit", "--file", str(bulk))
    assert "accepted 2, refused 1" in result.stdout
    assert "line 4: refused: erase_by_name:" in result.stderr and "Di" not in result.stderr
    records = {r.ticket: r for r in (idle_stack.runtime.store.get(i) for i in idle_stack.runtime.store.ids())}
    assert {t: r.erase_by_name for t, r in records.items()} == {"EN-1": True, "EN-2": True, "EN-3": False}


def test_anonymise_under_a_legal_hold_refused_naming_the_field_and_nothing_enqueued(idle_stack):
    """Issue 17: records under a hold may not be rewritten; the CLI door refuses with the field and the hold."""
    hold = idle_stack.runtime.holds().add_subject("jane@example.org", "litigation")
    result = idle_stack.cli("submit", "--ticket", "AH-1", "--email", "jane@example.org", "--kind", "anonymise")
    assert result.returncode == 2, result.stderr
    assert "kind: 'anonymise' refused: the subject is under legal hold" in result.stderr and hold.id in result.stderr
    assert "jane" not in result.stderr.lower()
    assert queued(idle_stack) == 0 and idle_stack.runtime.store.ids() == []
