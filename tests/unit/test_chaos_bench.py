"""The chaos benchmark's parts that need no processes: its seeded schedule and its stuck/lost verdict."""

from __future__ import annotations

import base64
import itertools
import json
from collections import Counter

from bench._chaos_outcome import stuck_and_lost
from bench._chaos_schedule import FAMILIES, HTTP_KINDS, Options, build
from shared.config import POOLS
from shared.task_names import DELETE_TASK, SWEEP_TASK, VERIFY_TASK


def test_the_same_seed_gives_the_same_schedule_and_another_seed_another() -> None:
    assert build(Options(seed=3)) == build(Options(seed=3))
    assert build(Options(seed=3)) != build(Options(seed=4))


def test_default_schedule_kills_main_and_child_of_every_pool_and_restarts_each_main_2_to_5_s_later() -> None:
    schedule = build(Options(seed=11))
    kills = [e for e in schedule if e.kind == "worker_kill"]
    assert {(e.pool, e.target) for e in kills} == {(p, t) for p in POOLS for t in ("main", "child")}
    assert all(e.at_s < 180 for e in kills)
    gaps = [b.at_s - a.at_s for a, b in itertools.pairwise(kills)]
    assert min(gaps) >= 15 * 0.7 - 0.01 and max(gaps) <= 15 * 1.3 + 0.01
    restarts = [e for e in schedule if e.kind == "worker_restart"]
    assert len(restarts) == sum(1 for e in kills if e.target == "main")
    for kill in (e for e in kills if e.target == "main"):
        assert any(r.pool == kill.pool and 2.0 <= r.at_s - kill.at_s <= 5.0 for r in restarts), kill


def test_default_schedule_has_one_redis_restart_an_outage_gdpr_errors_and_every_family_kind() -> None:
    schedule = build(Options(seed=11))
    [kill] = [e for e in schedule if e.kind == "redis_kill"]
    [back] = [e for e in schedule if e.kind == "redis_restart"]
    assert back.at_s - kill.at_s == 5.0
    [outage] = [e for e in schedule if e.kind == "platform_unreachable"]
    assert outage.fault == {"path_prefix": "/api/v2", "drop": True, "for_s": 30.0}
    [errors] = [e for e in schedule if e.kind == "gdpr_error"]
    assert errors.fault["count"] == 3
    bursts = Counter((e.family, e.fault["_kind"]) for e in schedule if e.kind == "http_fault")
    assert bursts == Counter({(f, k): 1 for f in FAMILIES for k in HTTP_KINDS})
    timeouts = [e.fault for e in schedule if e.kind == "http_fault" and e.fault["_kind"] == "timeout"]
    assert all(f["delay_s"] > Options().client_timeout_s for f in timeouts)
    # A burst ends with the window: nothing left to fire once the faults are over.
    assert all(e.at_s + e.fault["for_s"] <= 180.01 for e in schedule if e.kind == "http_fault")


def _message(task: str, args: list[object]) -> str:
    """A task message as kombu's Redis transport stores it (checked against a real one)."""
    body = base64.b64encode(json.dumps([args, {}, {"callbacks": None}]).encode()).decode()
    return json.dumps({"body": body, "content-encoding": "utf-8", "content-type": "application/json",
                       "headers": {"task": task}, "properties": {"body_encoding": "base64"}})


def test_stuck_requests_with_no_message_and_no_followed_entry_are_lost(runtime) -> None:
    redis, keys = runtime.redis, runtime.keys
    celery = f"{keys.prefix}:celery:"
    redis.rpush(celery + "deletion", _message(DELETE_TASK, [["queued", "other"]]))
    redis.hset(celery + "unacked", "tag1", json.dumps([json.loads(_message(VERIFY_TASK, ["held"])), "erasure",
                                                       "polling"]))
    redis.hset(keys.pending_gdpr, mapping={"g1": "followed", "g2": "sweepless"})
    states = {"queued": "deleting", "held": "verifying", "orphan": "verifying", "followed": "polling",
              "sweepless": "polling", "gone": "absent", "done": "completed"}
    stuck, lost = stuck_and_lost(states, runtime)
    assert {r["request_id"] for r in stuck} == set(states) - {"done"}
    # Without a sweep on its way, a polling entry moves nothing.
    assert {r["request_id"] for r in lost} == {"orphan", "followed", "sweepless", "gone"}
    redis.rpush(celery + "polling", _message(SWEEP_TASK, []))
    _, lost = stuck_and_lost(states, runtime)
    assert sorted(lost, key=lambda r: r["request_id"]) == [{"request_id": "gone", "state": "absent"},
                                                           {"request_id": "orphan", "state": "verifying"}]
