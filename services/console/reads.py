"""What the console's pages read, in as few Redis round trips as the store allows.

Lists never read a request at a time: every request's light row (``shared.summaries``, one hash kept by
the store with each write) and the dead-letter count in one round trip; the records a page shows in full,
and who submitted them, in one more pipeline. Never one call per row.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import redis

from shared.deadlines import standing_ts
from shared.keys import Keys
from shared.models import ErasureRecord, RequestKind, RequestState
from shared.summaries import Summary, read_all

Row = Summary

#: The chart's bars: open requests by days left, from overdue to a whole month.
BUCKETS = (("overdue", None, 0), ("0-7", 0, 7), ("7-14", 7, 14), ("14-21", 14, 21), ("21-30", 21, 31))


def all_rows(client: redis.Redis, keys: Keys) -> tuple[list[Row], int]:
    """Every request's light row (oldest first) and the number of dead letters: one round trip."""
    return read_all(client, keys)


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
    now_ts = now.timestamp()
    for row in rows:
        counts.setdefault(row.state.value, Counter())[row.kind] += 1
        if row.state.is_final:
            continue
        open_ += 1
        awaiting += row.state is RequestState.AWAITING_APPROVAL and not row.approved
        place = standing_ts(row.deadline_ts, now_ts)
        overdue += place == "overdue"
        due_soon += place == "at_risk"
        if row.state not in oldest or row.received_ts < oldest[row.state].received_ts:
            oldest[row.state] = row
        left = (row.deadline_ts - now_ts) / 86400
        for label, low, high in BUCKETS:
            if (low is None and left < high) or (low is not None and low <= left < high):
                buckets[label] += 1
                break
    by_state: dict[str, dict[str, int]] = {
        state.value: dict(counts[state.value]) for state in RequestState if state.value in counts}
    return Overview(
        by_state=by_state, kinds=[kind.value for kind in RequestKind], open=open_, overdue=overdue,
        due_soon=due_soon, total=len(rows), awaiting=awaiting, dead_letters=dead_letters,
        oldest=[(state.value, row.ticket, (now_ts - row.received_ts) / 86400)
                for state, row in sorted(oldest.items(), key=lambda item: list(RequestState).index(item[0]))],
        buckets=[(label, buckets[label]) for label, _, _ in BUCKETS])


def awaiting_approval(rows: list[Row]) -> list[Row]:
    """Requests waiting at the gate for a person, soonest deadline first."""
    return sorted((row for row in rows if row.state is RequestState.AWAITING_APPROVAL and not row.approved),
                  key=lambda row: row.deadline_ts)


def page_of(client: redis.Redis, keys: Keys, rows: list[Row],
            ) -> tuple[list[ErasureRecord], dict[str, tuple[str, str | None]]]:
    """The records of one page, and for each submitting key its name and the person behind it: one pipeline."""
    submitters = sorted({row.submitted_by for row in rows if row.submitted_by})
    if not rows:
        return [], {}
    with client.pipeline(transaction=False) as pipe:
        pipe.mget([keys.request(row.request_id) for row in rows])
        for key_id in submitters:
            pipe.hmget(keys.api_key(key_id), ["name", "kind", "owner"])
        raws, *found = pipe.execute()
    records = [ErasureRecord.model_validate_json(str(raw)) for raw in raws if raw is not None]
    people: dict[str, tuple[str, str | None]] = {}
    for key_id, (name, kind, owner) in zip(submitters, found, strict=True):
        if name is not None:
            people[key_id] = (str(name), str(name) if kind == "person" else (str(owner) if owner else None))
    return records, people
