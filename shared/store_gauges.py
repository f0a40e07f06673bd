"""The gauges that need the store: requests by state and kind, deadlines, oldest request per state, queues,
dead letters and platform jobs in flight.

Read once per ``metrics_interval_s`` by one worker (a lease in Redis, SET NX PX for the interval), in one
pass over the request index (MGET in chunks, only a record's state, kind and dates looked at), and kept in
Redis as a small JSON snapshot of counts (``Keys.metrics_snapshot``) that expires after three intervals.
Every worker serves that snapshot (``StoreCollector``, one GET per scrape), so the store is read once per
interval however many workers there are, and a scrape never waits on a pass. Every worker serves the same
values: aggregate with ``max`` (``max by (state, kind) (erasure_requests)``), never ``sum``.

The snapshot holds counts and ages only, keyed by state, kind, pool and job kind: never an id or a ticket.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from shared.celery_app import SENT_AT_HEADER
from shared.config import POOLS
from shared.deadlines import standing
from shared.keys import Keys
from shared.lanes import queue_key
from shared.models import DEADLINE, FINAL_STATES, Lane, RequestKind, RequestState

log = logging.getLogger("erasure.metrics")

#: Records one MGET reads.
CHUNK = 500
#: kombu's Redis transport keeps priorities 3, 6 and 9 in lists of their own, named ``<queue>\x06\x16<n>``:
#: the bulk lane is 9 (``shared.lanes``); 3 and 6 hold another producer's messages, which workers read as
#: interactive, and are counted with that lane.
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")
_FINAL = {state.value for state in FINAL_STATES}


@dataclass
class StoreGauges:
    """One pass's counts. Keys are states, kinds, pools and job kinds only."""

    computed_at: float
    requests: dict[str, dict[str, int]] = field(default_factory=dict)  # state -> kind -> count
    overdue: dict[str, int] = field(default_factory=dict)  # kind -> open requests past their deadline
    due_soon: dict[str, int] = field(default_factory=dict)  # kind -> open, due within 7 days, not overdue
    oldest_age_s: dict[str, float] = field(default_factory=dict)  # open state -> age of its oldest request
    dead_letters: int = 0
    malformed_records: int = 0  # records the pass skipped (no state or dates, bad JSON): their ids are logged
    jobs_in_flight: dict[str, int] = field(default_factory=dict)  # "gdpr_request" | "recording_job" -> count
    queue_messages: dict[str, int] = field(default_factory=dict)  # pool -> messages waiting
    queue_oldest_age_s: dict[str, float] = field(default_factory=dict)  # pool -> age of its oldest message
    queue_lane_messages: dict[str, dict[str, int]] = field(default_factory=dict)  # pool -> lane -> waiting
    unacked_messages: int = 0  # taken by a worker (running, prefetched, or waiting out a countdown)


def _epoch(stamp: str) -> float:
    moment = datetime.fromisoformat(stamp)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _read(raw: Any) -> tuple[str, str, float | None, float | None]:
    """A record's state, kind and (open requests only) when it was verified and received, as epochs;
    raises ValueError, TypeError, KeyError or AttributeError for a record that lacks or garbles them."""
    doc = json.loads(raw)
    state, kind = str(doc["state"]), str(doc.get("kind", RequestKind.ERASE.value))
    if state in _FINAL:
        return state, kind, None, None
    return state, kind, _epoch(doc["verified_at"]), _epoch(doc["received_at"])


def compute(client: redis.Redis, keys: Keys, now: float | None = None) -> StoreGauges:
    """One pass over the store: every request's state, kind and dates, read with MGET in chunks."""
    now = time.time() if now is None else now
    moment = datetime.fromtimestamp(now, UTC)
    by_state: dict[str, Counter[str]] = {state.value: Counter() for state in RequestState}
    overdue: Counter[str] = Counter()
    due_soon: Counter[str] = Counter()
    oldest: dict[str, float] = {}
    malformed = 0
    ids = [str(i) for i in client.zrange(keys.requests_index, 0, -1)]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        for request_id, raw in zip(chunk, client.mget([keys.request(i) for i in chunk]), strict=True):
            if raw is None:
                continue
            try:
                state, kind, verified, received = _read(raw)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                # One bad record costs its own count, not the interval's gauges; its id in the log, never a label.
                malformed += 1
                log.warning("store gauges: request %s skipped, malformed record (%s)", request_id, type(exc).__name__)
                continue
            by_state.setdefault(state, Counter())[kind] += 1
            if verified is None or received is None:
                continue
            place = standing(datetime.fromtimestamp(verified, UTC) + DEADLINE, moment)
            overdue[kind] += place == "overdue"
            due_soon[kind] += place == "at_risk"
            oldest[state] = max(oldest.get(state, 0.0), now - received)
    kinds = [kind.value for kind in RequestKind]
    return StoreGauges(
        computed_at=now,
        requests={state: {kind: counts[kind] for kind in kinds} for state, counts in by_state.items()},
        overdue={kind: overdue[kind] for kind in kinds},
        due_soon={kind: due_soon[kind] for kind in kinds},
        oldest_age_s=oldest,
        malformed_records=malformed,
        dead_letters=int(client.hlen(keys.webhook_dead_letters)),
        jobs_in_flight={"gdpr_request": int(client.hlen(keys.pending_gdpr)),
                        "recording_job": int(client.hlen(f"{{{keys.prefix}}}:recjobs:pending"))},
        **_queues(client, keys, now),
    )


def _queues(client: redis.Redis, keys: Keys, now: float) -> dict[str, Any]:
    """Messages waiting per pool's queue (every priority list), the age of each queue's oldest, and the
    messages workers hold. kombu pushes on the left and takes from the right: the oldest is at -1."""
    celery = f"{keys.prefix}:celery:"
    messages: dict[str, int] = {}
    ages: dict[str, float] = {}
    by_lane: dict[str, dict[str, int]] = {}
    for pool in POOLS:
        lists = [celery + pool + suffix for suffix in _PRIORITY_SUFFIXES]
        lengths = {name: int(client.llen(name)) for name in lists}
        messages[pool] = sum(lengths.values())
        bulk = lengths.get(queue_key(celery, pool, Lane.BULK), 0)
        by_lane[pool] = {Lane.INTERACTIVE.value: messages[pool] - bulk, Lane.BULK.value: bulk}
        sent = [stamp for stamp in (_sent_at(client.lindex(name, -1)) for name in lists) if stamp is not None]
        ages[pool] = max(0.0, now - min(sent)) if sent else 0.0
    return {"queue_messages": messages, "queue_oldest_age_s": ages, "queue_lane_messages": by_lane,
            "unacked_messages": int(client.hlen(celery + "unacked"))}


def _sent_at(raw: Any) -> float | None:
    """When a queued message was sent (its ``erasure_sent_at`` header), if it has one."""
    if raw is None:
        return None
    try:
        stamp = json.loads(raw).get("headers", {}).get(SENT_AT_HEADER)
        return float(stamp) if stamp is not None else None
    except (ValueError, TypeError, AttributeError):
        return None


def save(client: redis.Redis, keys: Keys, gauges: StoreGauges, interval_s: float) -> None:
    """Keep the snapshot for every worker; it expires after three intervals, so a fleet that stopped
    reading the store serves no gauges (the ``absent`` alert) rather than old ones."""
    client.set(keys.metrics_snapshot, json.dumps(asdict(gauges)), px=max(1000, int(3 * interval_s * 1000)))


def refresh(client: redis.Redis, keys: Keys, interval_s: float, owner: str) -> bool:
    """This interval's pass, if no other worker has taken it (a lease for one interval); True if it ran."""
    if not client.set(keys.metrics_lease, owner, nx=True, px=max(1, int(interval_s * 1000))):
        return False
    save(client, keys, compute(client, keys), interval_s)
    return True


def load(client: redis.Redis, keys: Keys) -> StoreGauges | None:
    """The last snapshot. During a rolling upgrade its writer may be another version: fields this one does
    not know are dropped and fields it lacks take their defaults, so the scrape still serves the rest."""
    raw = client.get(keys.metrics_snapshot)
    if raw is None:
        return None
    known = {f.name for f in fields(StoreGauges)}
    return StoreGauges(**{name: value for name, value in json.loads(raw).items() if name in known})


class StoreCollector(Collector):
    """Serves the last snapshot at each scrape (one GET); nothing when there is none or Redis is away,
    so the counters of the same scrape are still served."""

    def __init__(self, client: redis.Redis, keys: Keys, clock: Any = time.time) -> None:
        self._client = client
        self._keys = keys
        self._clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            gauges = load(self._client, self._keys)
        except (redis.exceptions.RedisError, ValueError, TypeError) as exc:
            log.warning("store gauges unavailable (%s)", type(exc).__name__)
            return
        if gauges is None:
            return
        yield from families(gauges, self._clock())


def families(gauges: StoreGauges, now: float) -> Iterator[GaugeMetricFamily]:
    """The snapshot as Prometheus gauges."""
    requests = GaugeMetricFamily("erasure_requests", "Requests in the store by state and kind", labels=["state", "kind"])
    for state, kinds in sorted(gauges.requests.items()):
        for kind, count in sorted(kinds.items()):
            requests.add_metric([state, kind], count)
    yield requests
    yield _by("erasure_requests_overdue", "Open requests past their 30-day deadline, by kind", "kind", gauges.overdue)
    yield _by("erasure_requests_due_soon", "Open requests due within 7 days (not yet overdue), by kind", "kind",
              gauges.due_soon)
    at_risk = GaugeMetricFamily("erasure_requests_at_risk", "Open requests within 7 days of their deadline or past it")
    at_risk.add_metric([], sum(gauges.overdue.values()) + sum(gauges.due_soon.values()))
    yield at_risk
    yield _by("erasure_requests_oldest_age_seconds", "Age (since received) of the oldest open request, by state",
              "state", gauges.oldest_age_s)
    malformed = GaugeMetricFamily("erasure_store_records_malformed",
                                  "Request records the last pass skipped as malformed (their ids are in the log)")
    malformed.add_metric([], gauges.malformed_records)
    yield malformed
    dead = GaugeMetricFamily("erasure_webhook_dead_letters_parked", "Webhook deliveries parked for replay (now)")
    dead.add_metric([], gauges.dead_letters)
    yield dead
    yield _by("erasure_platform_jobs_in_flight", "Platform jobs being followed: GDPR requests, recording jobs",
              "kind", gauges.jobs_in_flight)
    yield _by("erasure_queue_messages", "Messages waiting in each pool's queue", "queue", gauges.queue_messages)
    lanes = GaugeMetricFamily("erasure_queue_lane_messages", "Messages waiting in each pool's queue, by lane "
                              "(interactive is served first)", labels=["queue", "lane"])
    for pool, counts in sorted(gauges.queue_lane_messages.items()):
        for lane, count in sorted(counts.items()):
            lanes.add_metric([pool, lane], count)
    yield lanes
    yield _by("erasure_queue_oldest_age_seconds", "Age of the oldest message waiting in each pool's queue", "queue",
              gauges.queue_oldest_age_s)
    unacked = GaugeMetricFamily("erasure_queue_unacked_messages",
                                "Messages workers hold (running, prefetched, or waiting out a countdown)")
    unacked.add_metric([], gauges.unacked_messages)
    yield unacked
    age = GaugeMetricFamily("erasure_store_gauges_age_seconds", "Seconds since the store gauges were read")
    age.add_metric([], max(0.0, now - gauges.computed_at))
    yield age


def _by(name: str, documentation: str, label: str, values: dict[str, int] | dict[str, float]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family
