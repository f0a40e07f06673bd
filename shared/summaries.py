"""A light row per request, kept beside its record: what lists need (ticket, state, kind, dates, who
submitted it, whether it is approved), so a page of the console reads one hash, not every record.

One Redis hash (``Keys.request_summaries``), request id -> a short JSON array that starts with the id too,
so a list reads the values alone (HVALS: half the reply of HGETALL). ``RequestStore`` writes a
request's row in the same transaction as the record (``stage``), so a row never disagrees with its record.
Requests stored before the hash existed have no row; ``read_all`` fills those in from their records, with
HSETNX so that a write racing it (which sets the row in its own transaction) always wins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis

from shared.keys import Keys
from shared.models import DEADLINE, ErasureRecord, RequestState

CHUNK = 500


_DEADLINE_S = DEADLINE.total_seconds()


@dataclass(frozen=True)
class Summary:
    """Dates as epoch seconds: a list of thousands compares them without making a datetime each."""

    request_id: str
    ticket: str
    state: RequestState
    kind: str
    verified_ts: float
    received_ts: float
    submitted_by: str | None
    approved: bool

    @property
    def deadline_ts(self) -> float:
        return self.verified_ts + _DEADLINE_S

    @property
    def deadline(self) -> datetime:
        return datetime.fromtimestamp(self.deadline_ts, UTC)

    @property
    def received_at(self) -> datetime:
        return datetime.fromtimestamp(self.received_ts, UTC)


def row(record: ErasureRecord) -> str:
    """The stored row of ``record``."""
    return json.dumps([record.request_id, record.ticket, record.state.value, record.kind.value, record.verified_at.timestamp(),
                       record.received_at.timestamp(), record.submitted_by, record.approval is not None],
                      separators=(",", ":"))


def stage(pipe: redis.client.Pipeline, keys: Keys, record: ErasureRecord) -> None:
    """Queue the row's write on ``pipe`` (inside the writer's MULTI)."""
    pipe.hset(keys.request_summaries, record.request_id, row(record))


_STATES = {state.value: state for state in RequestState}


def _parse(raw: Any) -> Summary | None:
    try:
        request_id, ticket, state, kind, verified, received, submitted_by, approved = json.loads(raw)
        return Summary(str(request_id), str(ticket), _STATES[state], str(kind), float(verified), float(received),
                       None if submitted_by is None else str(submitted_by), bool(approved))
    except (ValueError, TypeError, KeyError):
        return None  # a garbled row: the store gauges count malformed records; a list leaves it out


def read_all(client: redis.Redis, keys: Keys) -> tuple[list[Summary], int]:
    """Every request's row, oldest first, and the number of webhook dead letters: one round trip, plus two
    (the index, the missing records) only while requests stored before the hash still lack a row."""
    with client.pipeline(transaction=False) as pipe:
        pipe.hvals(keys.request_summaries)
        pipe.zcard(keys.requests_index)
        pipe.hlen(keys.webhook_dead_letters)
        stored, indexed, dead = pipe.execute()
    out = [s for s in map(_parse, stored) if s is not None]
    if int(indexed) > len(stored):
        made = _fill_in(client, keys, {s.request_id for s in out})
        out += [s for s in map(_parse, made.values()) if s is not None]
    out.sort(key=lambda s: s.received_ts)
    return out, int(dead)


def _fill_in(client: redis.Redis, keys: Keys, known: set[str]) -> dict[str, str]:
    """Rows for the indexed requests that have none, made from their records and stored (HSETNX)."""
    missing = [str(i) for i in client.zrange(keys.requests_index, 0, -1) if str(i) not in known]
    made: dict[str, str] = {}
    with client.pipeline(transaction=False) as pipe:
        for start in range(0, len(missing), CHUNK):
            pipe.mget([keys.request(i) for i in missing[start:start + CHUNK]])
        raws = [raw for chunk in pipe.execute() for raw in chunk]
    for request_id, raw in zip(missing, raws, strict=True):
        if raw is None:
            continue
        try:
            made[request_id] = row(ErasureRecord.model_validate_json(str(raw)))
        except ValueError:
            continue
    if made:
        with client.pipeline(transaction=False) as pipe:
            for request_id, value in made.items():
                pipe.hsetnx(keys.request_summaries, request_id, value)
            pipe.execute()
    return made
