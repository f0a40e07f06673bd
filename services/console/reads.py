"""What the console's pages read, in as few Redis round trips as the store allows.

Lists never read a request at a time: the request index once (ZRANGE), then every record in one pipeline
of MGETs (with the dead-letter count), and only the light fields of each record are decoded; the records
a page shows in full are the ones already read. Anything per row (who submitted each request on a page)
is one more pipeline, not one call per row.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis

from shared.deadlines import standing
from shared.keys import Keys
from shared.models import DEADLINE, RequestKind, RequestState

CHUNK = 500
#: The chart's bars: open requests by days left, from overdue to a whole month.
BUCKETS = (("overdue", None, 0), ("0-7", 0, 7), ("7-14", 7, 14), ("14-21", 14, 21), ("21-30", 21, 31))


@dataclass(frozen=True)
class Row:
    """A request as lists see it: no identifier decoded; ``raw`` is the stored JSON for the few shown in full."""

    request_id: str
    ticket: str
    state: RequestState
    kind: str
    verified_at: datetime
    received_at: datetime
    submitted_by: str | None
    approved: bool
    raw: str

    @property
    def deadline(self) -> datetime:
        return self.verified_at + DEADLINE


def _when(stamp: str) -> datetime:
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _row(request_id: str, raw: Any) -> Row | None:
    try:
        doc = json.loads(raw)
        return Row(request_id, str(doc["ticket"]), RequestState(doc["state"]), str(doc.get("kind") or "erase"),
                   _when(doc["verified_at"]), _when(doc["received_at"]), doc.get("submitted_by"),
                   doc.get("approval") is not None, str(raw))
    except (ValueError, TypeError, KeyError, AttributeError):
        return None  # a malformed record is the store gauges' to count; a list leaves it out


def all_rows(client: redis.Redis, keys: Keys) -> tuple[list[Row], int]:
    """Every request (oldest first) and the number of dead letters: two round trips whatever the count."""
    ids = [str(i) for i in client.zrange(keys.requests_index, 0, -1)]
    with client.pipeline(transaction=False) as pipe:
        for start in range(0, len(ids), CHUNK):
            pipe.mget([keys.request(i) for i in ids[start:start + CHUNK]])
        pipe.hlen(keys.webhook_dead_letters)
        *chunks, dead = pipe.execute()
    raws = [raw for chunk in chunks for raw in chunk]
    rows = [row for request_id, raw in zip(ids, raws, strict=True) if raw is not None
            for row in [_row(request_id, raw)] if row is not None]
    return rows, int(dead)


@dataclass
class Overview:
    by_state: dict[str, dict[str, int]]  # state -> kind -> count (states with none left out)
    kinds: list[str]
    open: int
    overdue: int
    due_soon: int
    oldest: list[tuple[str, str, float]]  # (state, ticket, days waiting) per open state
    buckets: list[tuple[str, int]]
    dead_letters: int
    total: int
    awaiting: int = 0
    notes: list[str] = field(default_factory=list)


def overview(rows: list[Row], dead_letters: int, now: datetime) -> Overview:
    counts: dict[str, Counter[str]] = {}
    oldest: dict[RequestState, Row] = {}
    buckets = Counter[str]()
    overdue = due_soon = open_ = awaiting = 0
    for row in rows:
        counts.setdefault(row.state.value, Counter())[row.kind] += 1
        if row.state.is_final:
            continue
        open_ += 1
        awaiting += row.state is RequestState.AWAITING_APPROVAL and not row.approved
        place = standing(row.deadline, now)
        overdue += place == "overdue"
        due_soon += place == "at_risk"
        if row.state not in oldest or row.received_at < oldest[row.state].received_at:
            oldest[row.state] = row
        left = (row.deadline - now).total_seconds() / 86400
        for label, low, high in BUCKETS:
            if (low is None and left < high) or (low is not None and low <= left < high):
                buckets[label] += 1
                break
    by_state: dict[str, dict[str, int]] = {
        state.value: dict(counts[state.value]) for state in RequestState if state.value in counts}
    return Overview(
        by_state=by_state, kinds=[kind.value for kind in RequestKind], open=open_, overdue=overdue,
        due_soon=due_soon, total=len(rows), awaiting=awaiting, dead_letters=dead_letters,
        oldest=[(state.value, row.ticket, (now - row.received_at).total_seconds() / 86400)
                for state, row in sorted(oldest.items(), key=lambda item: list(RequestState).index(item[0]))],
        buckets=[(label, buckets[label]) for label, _, _ in BUCKETS])


def awaiting_approval(rows: list[Row]) -> list[Row]:
    """Requests waiting at the gate for a person, soonest deadline first."""
    return sorted((row for row in rows if row.state is RequestState.AWAITING_APPROVAL and not row.approved),
                  key=lambda row: row.deadline)


def people_behind(client: redis.Redis, keys: Keys, key_ids: set[str]) -> dict[str, tuple[str, str | None]]:
    """Key id -> (its name, the person behind it) for the submitters on a page: one pipeline."""
    ordered = sorted(key_ids)
    if not ordered:
        return {}
    with client.pipeline(transaction=False) as pipe:
        for key_id in ordered:
            pipe.hmget(keys.api_key(key_id), ["name", "kind", "owner"])
        found = pipe.execute()
    out: dict[str, tuple[str, str | None]] = {}
    for key_id, (name, kind, owner) in zip(ordered, found, strict=True):
        if name is not None:
            out[key_id] = (str(name), str(name) if kind == "person" else (str(owner) if owner else None))
    return out
