"""The two queue lanes (issue 21): which list of its queue each stage message lands in, and that a request
keeps its lane through hand-ons, retries, deferrals and re-drives."""

from __future__ import annotations

import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from kombu.transport.redis import Channel

from services.deletion.purge import PurgePlan, start_purge
from services.intake.bulk import FileLine, submit_lines
from services.intake.submit import IntakeError, submit
from services.resume import redrive
from shared import celery_app, pipeline
from shared.api_keys import ApiKeyStore
from shared.celery_app import celery_config
from shared.config import Settings
from shared.errors import RunLater
from shared.genesys import ServerError
from shared.lane_context import batch_lane, current_lane, in_lane
from shared.lanes import lane_of_priority, queue_key, send_ids
from shared.models import ErasureRecord, Lane, RequestState, Subject, utcnow
from shared.task_names import DELETE_TASK, DISCOVER_TASK, REDACT_TASK
from tests.support.intake_client import bearer, intake_client

BULK = 9  # kombu's priority of the bulk lane on Redis


@pytest.fixture
def sent(monkeypatch):
    """Every message sent, as (task name, args, the priority it carries or None)."""
    calls: list[tuple[str, object, object]] = []
    monkeypatch.setattr(celery_app.app, "send_task",
                        lambda name, args=None, **kw: calls.append((name, args, kw.get("priority"))))
    return calls


def stored(runtime, ticket, state=RequestState.DISCOVERING, lane=Lane.INTERACTIVE):
    return runtime.store.create(ErasureRecord(ticket=ticket, subject=Subject(emails=[f"{ticket.lower()}@example.org"]),
                                              verified_at=utcnow(), state=state, lane=lane)).request_id


# --- the mapping onto kombu's Redis lists ---

def test_each_lane_has_its_own_list_and_a_worker_asks_for_every_interactive_list_first():
    transport = celery_config(Settings(hmac_key="k" * 32, key_prefix="lanes"))["broker_transport_options"]
    # kombu's own naming and ordering, with the steps this deployment configures (kombu.transport.redis.Channel)
    channel = SimpleNamespace(priority_steps=transport["priority_steps"], sep=Channel.sep)
    channel.priority = lambda n: Channel.priority(channel, n)
    assert Channel._q_for_pri(channel, "deletion", 0) == queue_key("", "deletion", Lane.INTERACTIVE) == "deletion"
    assert Channel._q_for_pri(channel, "deletion", BULK) == queue_key("", "deletion", Lane.BULK) == "deletion\x06\x169"
    # _brpop_start lists every queue's key per step, steps in order: all interactive lists come first
    order = [Channel._q_for_pri(channel, q, p) for p in channel.priority_steps for q in ("discovery", "deletion")]
    assert order[:2] == ["discovery", "deletion"] and order[-2:] == ["discovery\x06\x169", "deletion\x06\x169"]


@pytest.mark.parametrize("priority", range(10))
def test_a_message_another_producer_sends_with_any_priority_is_in_a_list_the_workers_read(priority):
    """An upstream app on the Celery door, with kombu's default steps, sends priority 3: its kombu files it
    under 3, which this deployment's workers must ask for too (after interactive work, before bulk work)."""
    producer = SimpleNamespace(priority_steps=Channel.priority_steps, sep=Channel.sep)
    producer.priority = lambda n: Channel.priority(producer, n)
    transport = celery_config(Settings(hmac_key="k" * 32, key_prefix="lanes"))["broker_transport_options"]
    worker = SimpleNamespace(priority_steps=transport["priority_steps"], sep=Channel.sep)
    worker.priority = lambda n: Channel.priority(worker, n)
    read = [Channel._q_for_pri(worker, "deletion", p) for p in worker.priority_steps]  # _brpop_start's order
    landed = Channel._q_for_pri(producer, "deletion", priority)
    assert landed in read
    assert read.index(queue_key("", "deletion", Lane.INTERACTIVE)) <= read.index(landed)
    assert read.index(landed) <= read.index(queue_key("", "deletion", Lane.BULK))
    assert lane_of_priority(priority) is (Lane.BULK if priority == BULK else Lane.INTERACTIVE)


@pytest.mark.parametrize(("priority", "lane"), [(None, Lane.INTERACTIVE), (0, Lane.INTERACTIVE), (BULK, Lane.BULK),
                                                ("9", Lane.BULK), ("garbled", Lane.INTERACTIVE)])
def test_a_delivered_message_is_read_back_in_its_lane(priority, lane):
    assert lane_of_priority(priority) is lane


def test_a_send_goes_in_the_running_batchs_lane_unless_told_otherwise(sent):
    send_ids("t", ["a"])
    with in_lane(Lane.BULK):
        assert current_lane() is Lane.BULK and batch_lane() is Lane.BULK
        send_ids("t", ["b"])
        send_ids("t", ["c"], lane=Lane.INTERACTIVE)
    assert batch_lane() is None and current_lane() is Lane.INTERACTIVE
    assert sent == [("t", [["a"]], None), ("t", [["b"]], BULK), ("t", [["c"]], None)]


# --- inside a task: hand-ons, deferrals and retries keep the batch's lane ---

@pytest.fixture
def wired(runtime, monkeypatch, sent):
    monkeypatch.setattr(pipeline, "get_runtime", lambda: runtime)
    return runtime


def make_task(body):
    return pipeline.erasure_task(f"test.lanes.{uuid.uuid4().hex}")(body)


@pytest.mark.parametrize(("priority", "expected"), [(BULK, BULK), (None, None)])
def test_a_batch_hands_on_in_the_lane_it_was_delivered_in(wired, sent, priority, expected):
    request_id = stored(wired, "L-1")
    seen = []

    def body(runtime, ids):
        seen.append(batch_lane())
        moved: list[str] = []
        with pipeline.handing_on(REDACT_TASK, moved):
            for i in ids:
                pipeline.transition(runtime, i, RequestState.REDACTING, "test.done")
                moved.append(i)

    make_task(body).apply(args=[[request_id]], priority=priority)
    assert seen == [Lane.BULK if priority else Lane.INTERACTIVE]
    assert sent == [(REDACT_TASK, [[request_id]], expected)]


def test_a_deferred_bulk_batch_is_sent_again_in_the_bulk_lane(wired, sent):
    request_id = stored(wired, "L-2")

    def body(runtime, ids):
        raise RunLater(7.0, "the budget says not yet")

    task = make_task(body)
    task.apply(args=[[request_id]], priority=BULK)
    assert sent == [(task.name, [[request_id]], BULK)]


def test_a_retried_bulk_batch_keeps_its_lane(wired, sent):
    """Celery's retry copies the delivery's priority: the retry runs (eagerly here) as bulk work again."""
    request_id = stored(wired, "L-3")
    lanes = []

    def body(runtime, ids):
        lanes.append(batch_lane())
        if len(lanes) == 1:
            raise ServerError("GET x -> 503", status=503)

    make_task(body).apply(args=[[request_id]], priority=BULK)
    assert lanes == [Lane.BULK, Lane.BULK]


# --- the doors and the re-drives ---

def test_a_single_request_is_interactive_unless_it_asks_for_bulk(runtime, sent):
    one = submit(runtime, {"ticket": "L-4", "emails": ["l4@example.org"]})
    other = submit(runtime, {"ticket": "L-5", "emails": ["l5@example.org"], "lane": "bulk"})
    assert (one.lane, other.lane) == (Lane.INTERACTIVE, Lane.BULK)
    assert runtime.store.get(other.request_id).lane is Lane.BULK
    assert sent == [(DISCOVER_TASK, [[one.request_id]], None), (DISCOVER_TASK, [[other.request_id]], BULK)]


def test_an_unknown_lane_is_refused_by_field_name(runtime, sent):
    with pytest.raises(IntakeError) as refused:
        submit(runtime, {"ticket": "L-6", "emails": ["l6@example.org"], "lane": "urgent"})
    assert any(e.startswith("lane") for e in refused.value.errors) and sent == []


def test_a_file_goes_to_discovery_in_the_bulk_lane(runtime, sent):
    lines = [FileLine(n, {"ticket": f"F-{n}", "emails": [f"f{n}@example.org"]}) for n in range(1, 4)]
    submit_lines(runtime, lines)
    assert sent and all(name == DISCOVER_TASK and priority == BULK for name, _, priority in sent)
    assert all(runtime.store.get(i).lane is Lane.BULK for _, args, _ in sent for i in args[0])


def test_a_retention_purge_is_bulk_work(runtime, sent):
    runtime.settings.retention_policy = "RP-1: recordings older than 90 days"
    now = utcnow()
    record = start_purge(runtime, PurgePlan(older_than_days=90, as_of=now, cutoff=now - timedelta(days=90),
                                            interval="x", conversations=["c1"]))
    assert record.lane is Lane.BULK and sent == [(DELETE_TASK, [[record.request_id]], BULK)]


def test_a_redriven_request_keeps_its_lane_and_batches_do_not_mix(runtime, sent):
    bulk = [stored(runtime, f"B-{n}", lane=Lane.BULK) for n in range(2)]
    single = stored(runtime, "I-1")
    redrive(runtime, [runtime.store.get(i) for i in [bulk[0], single, bulk[1]]])
    assert sorted(sent, key=str) == sorted([(DISCOVER_TASK, [bulk], BULK), (DISCOVER_TASK, [[single]], None)], key=str)



def test_the_http_door_takes_a_lane_and_refuses_an_unknown_one(runtime, sent):
    headers = bearer(ApiKeyStore(runtime.redis, runtime.keys), "dsar-tool", "requests:submit", "requests:read")
    with intake_client(runtime) as client:
        bulk = client.post("/requests", json={"ticket": "H-1", "emails": ["h1@example.org"], "lane": "bulk"},
                           headers=headers)
        refused = client.post("/requests", json={"ticket": "H-2", "emails": ["h2@example.org"], "lane": "urgent"},
                              headers=headers)
    assert bulk.status_code == 202 and runtime.store.get(bulk.json()["request_id"]).lane is Lane.BULK
    assert refused.status_code == 422 and any(e.startswith("lane") for e in refused.json()["errors"])
    assert sent == [(DISCOVER_TASK, [[bulk.json()["request_id"]]], BULK)]


def test_the_cli_sends_a_single_request_in_the_lane_it_is_given(runtime, sent, monkeypatch):
    from typer.testing import CliRunner

    from services.cli import app as cli

    monkeypatch.setattr("shared.runtime.get_runtime", lambda: runtime)
    for ticket, extra in (("C-1", []), ("C-2", ["--lane", "bulk"])):
        result = CliRunner().invoke(cli, ["submit", "--ticket", ticket, "--email", f"{ticket.lower()}@example.org", *extra])
        assert result.exit_code == 0, result.output
    refused = CliRunner().invoke(cli, ["submit", "--ticket", "C-3", "--email", "c3@example.org", "--lane", "urgent"])
    assert refused.exit_code == 2
    lanes = [runtime.store.find_by_ticket(t).lane for t in ("C-1", "C-2")]
    assert lanes == [Lane.INTERACTIVE, Lane.BULK] and [p for _, _, p in sent] == [None, BULK]
