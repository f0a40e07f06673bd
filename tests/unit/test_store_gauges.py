"""The gauges read from the store: one pass, right by state, kind and deadline; read by one worker per
interval; served by every worker from the snapshot; counts only, never an identifier."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import redis
from prometheus_client import CollectorRegistry

from shared.models import ErasureRecord, RequestKind, RequestState, Subject, utcnow
from shared.store_gauges import StoreCollector, compute, load, refresh, save

DAY = 86400.0


def put(runtime, ticket: str, state: RequestState, *, kind: RequestKind = RequestKind.ERASE, verified_days_ago: float = 1,
        received_days_ago: float | None = None) -> str:
    now = utcnow()
    record = ErasureRecord(ticket=ticket, subject=Subject(emails=[f"{ticket.lower()}@example.org"]), kind=kind,
                           verified_at=now - timedelta(days=verified_days_ago), state=state,
                           received_at=now - timedelta(days=received_days_ago if received_days_ago is not None
                                                       else verified_days_ago))
    return runtime.store.create(record).request_id


def message(sent_at: float | None) -> str:
    headers = {} if sent_at is None else {"erasure_sent_at": sent_at}
    return json.dumps({"body": "W10=", "headers": headers, "properties": {}})


def test_one_pass_counts_requests_by_state_and_kind_and_places_them_on_the_clock(runtime):
    put(runtime, "G-1", RequestState.DISCOVERING, verified_days_ago=35)  # overdue
    put(runtime, "G-2", RequestState.DISCOVERING, verified_days_ago=25, received_days_ago=26)  # due in 5 days
    put(runtime, "G-3", RequestState.POLLING, kind=RequestKind.ACCESS, verified_days_ago=2)
    put(runtime, "G-4", RequestState.COMPLETED, verified_days_ago=40)  # final: never overdue
    put(runtime, "G-5", RequestState.AWAITING_APPROVAL, kind=RequestKind.ANONYMISE, verified_days_ago=24)

    gauges = compute(runtime.redis, runtime.keys)

    assert gauges.requests["discovering"] == {"erase": 2, "anonymise": 0, "access": 0}
    assert gauges.requests["polling"]["access"] == 1 and gauges.requests["completed"]["erase"] == 1
    assert gauges.requests["awaiting_approval"]["anonymise"] == 1 and gauges.requests["failed"]["erase"] == 0
    assert gauges.overdue == {"erase": 1, "anonymise": 0, "access": 0}
    assert gauges.due_soon == {"erase": 1, "anonymise": 1, "access": 0}
    assert 35 * DAY - 60 < gauges.oldest_age_s["discovering"] < 35 * DAY + 60
    assert "completed" not in gauges.oldest_age_s  # ages of open requests only


def test_queues_dead_letters_and_platform_jobs_are_counted(runtime):
    now = time.time()
    queue = f"{runtime.keys.prefix}:celery:deletion"
    runtime.redis.lpush(queue, message(now - 120))  # the oldest: kombu takes from the right
    runtime.redis.lpush(queue, message(now - 5), message(None))
    runtime.redis.lpush(queue + "\x06\x163", message(now - 30))  # a priority list of the same queue
    runtime.redis.lpush(queue + "\x06\x169", message(now - 10), message(now - 9))  # its bulk lane
    runtime.redis.hset(f"{runtime.keys.prefix}:celery:unacked", mapping={"t1": "{}", "t2": "{}"})
    runtime.redis.hset(runtime.keys.webhook_dead_letters, mapping={"m1": "{}", "m2": "{}", "m3": "{}"})
    runtime.redis.hset(runtime.keys.pending_gdpr, "gdpr-1", "r1")
    runtime.redis.hset(f"{{{runtime.keys.prefix}}}:recjobs:pending", mapping={"j1": "r1", "j2": "r2"})

    gauges = compute(runtime.redis, runtime.keys, now)

    assert gauges.queue_messages == {"discovery": 0, "redaction": 0, "deletion": 6, "polling": 0}
    # another producer's priority 3 is read as interactive (``shared.lanes.lane_of_priority``) and counted so
    assert gauges.queue_lane_messages["deletion"] == {"interactive": 4, "bulk": 2}
    assert gauges.queue_lane_messages["polling"] == {"interactive": 0, "bulk": 0}
    assert gauges.queue_oldest_age_s["deletion"] == 120 and gauges.queue_oldest_age_s["polling"] == 0
    assert gauges.unacked_messages == 2 and gauges.dead_letters == 3
    assert gauges.jobs_in_flight == {"gdpr_request": 1, "recording_job": 2}


def test_one_worker_reads_the_store_per_interval_and_every_worker_serves_the_snapshot(runtime):
    request_id = put(runtime, "DSAR-77", RequestState.REDACTING)
    assert refresh(runtime.redis, runtime.keys, 30.0, "worker-a") is True
    assert refresh(runtime.redis, runtime.keys, 30.0, "worker-b") is False  # the lease is taken
    assert 0 < runtime.redis.pttl(runtime.keys.metrics_snapshot) <= 90_000  # gone after three intervals

    for worker in ("a", "b"):
        registry = CollectorRegistry()
        registry.register(StoreCollector(runtime.redis, runtime.keys))
        assert registry.get_sample_value("erasure_requests", {"state": "redacting", "kind": "erase"}) == 1, worker
        assert registry.get_sample_value("erasure_requests_at_risk") == 0
        assert registry.get_sample_value("erasure_store_gauges_age_seconds") < 60

    snapshot = runtime.redis.get(runtime.keys.metrics_snapshot)
    assert "DSAR-77" not in snapshot and request_id not in snapshot and "example.org" not in snapshot


def test_overdue_and_due_soon_add_up_to_the_at_risk_gauge(runtime):
    put(runtime, "G-6", RequestState.DELETING, verified_days_ago=31)
    put(runtime, "G-7", RequestState.DELETING, verified_days_ago=29)
    put(runtime, "G-8", RequestState.DELETING, verified_days_ago=1)
    refresh(runtime.redis, runtime.keys, 30.0, "w")
    registry = CollectorRegistry()
    registry.register(StoreCollector(runtime.redis, runtime.keys))
    assert registry.get_sample_value("erasure_requests_overdue", {"kind": "erase"}) == 1
    assert registry.get_sample_value("erasure_requests_due_soon", {"kind": "erase"}) == 1
    assert registry.get_sample_value("erasure_requests_at_risk") == 2


def test_no_snapshot_or_no_redis_serves_no_gauges_and_does_not_break_the_scrape(runtime):
    registry = CollectorRegistry()
    registry.register(StoreCollector(runtime.redis, runtime.keys))
    assert registry.get_sample_value("erasure_requests_at_risk") is None  # nothing read yet

    class Down:
        def get(self, key):
            raise redis.exceptions.ConnectionError("Redis restarting")

    down = Down()
    registry = CollectorRegistry()
    registry.register(StoreCollector(down, runtime.keys))
    assert list(registry.collect()) == []
    assert load(runtime.redis, runtime.keys) is None


def test_a_malformed_record_is_skipped_and_counted_not_the_whole_pass(runtime, caplog):
    """One record without its dates, with bad JSON or not an object costs its own count, not every gauge."""
    put(runtime, "G-1", RequestState.DISCOVERING, verified_days_ago=35)
    no_dates = put(runtime, "G-2", RequestState.DISCOVERING)
    doc = json.loads(runtime.redis.get(runtime.keys.request(no_dates)))
    del doc["verified_at"], doc["received_at"]
    runtime.redis.set(runtime.keys.request(no_dates), json.dumps(doc))
    bad_json = put(runtime, "G-3", RequestState.POLLING)
    runtime.redis.set(runtime.keys.request(bad_json), "{not json")
    not_object = put(runtime, "G-4", RequestState.POLLING)
    runtime.redis.set(runtime.keys.request(not_object), "[1, 2]")
    bad_date = put(runtime, "G-5", RequestState.POLLING)
    doc = json.loads(runtime.redis.get(runtime.keys.request(bad_date)))
    doc["verified_at"] = "yesterday"
    runtime.redis.set(runtime.keys.request(bad_date), json.dumps(doc))

    with caplog.at_level("WARNING", logger="erasure.metrics"):
        gauges = compute(runtime.redis, runtime.keys)

    assert gauges.requests["discovering"]["erase"] == 1 and gauges.requests["polling"]["erase"] == 0
    assert gauges.overdue["erase"] == 1 and gauges.malformed_records == 4
    assert {no_dates, bad_json, not_object, bad_date} <= {word for r in caplog.records for word in r.getMessage().split()}
    save(runtime.redis, runtime.keys, gauges, 60)
    registry = CollectorRegistry()
    registry.register(StoreCollector(runtime.redis, runtime.keys))
    assert registry.get_sample_value("erasure_store_records_malformed") == 4


def test_a_snapshot_from_another_version_loads_its_known_fields(runtime):
    """Rolling upgrade: a newer writer's field this version does not know is dropped, an older writer's
    missing field takes its default; the scrape still serves the rest."""
    runtime.redis.set(runtime.keys.metrics_snapshot, json.dumps(
        {"computed_at": 1.0, "dead_letters": 3, "a_field_from_a_newer_version": {"x": 1}}))
    gauges = load(runtime.redis, runtime.keys)
    assert gauges is not None and (gauges.computed_at, gauges.dead_letters, gauges.unacked_messages) == (1.0, 3, 0)
