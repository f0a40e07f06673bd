"""Request state in Redis: one JSON document per request, a ticket index, an ordered list.

The ticket is the idempotency key: ``create`` claims it with SET NX, so the same ticket sent
twice, even by two intake processes at once, makes one request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import redis

from shared.errors import ErasureError
from shared.keys import Keys
from shared.models import ErasureRecord, RequestState, utcnow


class DuplicateTicket(ErasureError):
    """The ticket is taken. ``same_subject`` (set by the intake) tells a resubmission of the same
    request, which changes nothing, from a ticket reused for someone else, which is an error."""

    def __init__(self, ticket: str, request_id: str) -> None:
        super().__init__(f"ticket {ticket!r} was already submitted as request {request_id}")
        self.ticket = ticket
        self.request_id = request_id
        self.same_subject = False


class UnknownRequest(ErasureError, KeyError):
    pass


class RequestStore:
    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self._r = client
        self._keys = keys

    def create(self, record: ErasureRecord) -> ErasureRecord:
        """Store a new request; raise ``DuplicateTicket`` if its ticket is already known.

        Ticket, record and index entry are written in one transaction: a crash can never leave a
        claimed ticket without its request (refused forever) or a request without its ticket.
        """
        ticket_key = self._keys.ticket(record.ticket)
        with self._r.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(ticket_key)  # type: ignore[no-untyped-call]
                    existing = pipe.get(ticket_key)
                    if existing is not None:
                        raise DuplicateTicket(record.ticket, str(existing))
                    pipe.multi()
                    pipe.set(ticket_key, record.request_id)
                    pipe.set(self._keys.request(record.request_id), record.model_dump_json())
                    pipe.zadd(self._keys.requests_index, {record.request_id: record.received_at.timestamp()})
                    pipe.execute()
                    return record
                except redis.WatchError:
                    continue  # another submission of this ticket: the next look sees it

    def get(self, request_id: str) -> ErasureRecord:
        raw = self._r.get(self._keys.request(request_id))
        if raw is None:
            raise UnknownRequest(request_id)
        return ErasureRecord.model_validate_json(str(raw))

    def find_by_ticket(self, ticket: str) -> ErasureRecord | None:
        request_id = self._r.get(self._keys.ticket(ticket))
        return None if request_id is None else self.get(str(request_id))

    def save(self, record: ErasureRecord) -> None:
        record.updated_at = utcnow()
        self._r.set(self._keys.request(record.request_id), record.model_dump_json())

    def update(self, request_id: str, **changes: Any) -> ErasureRecord:
        record = self.get(request_id)
        for name, value in changes.items():
            setattr(record, name, value)
        self.save(record)
        return record

    def set_state(self, request_id: str, state: RequestState, **changes: Any) -> ErasureRecord:
        return self.update(request_id, state=state, **changes)

    def update_if(self, request_id: str, expected: RequestState | tuple[RequestState, ...],
                  **changes: Any) -> ErasureRecord | None:
        """Apply ``changes`` only while the request is in ``expected`` (optimistic transaction).

        Returns the updated record, or None when another delivery of the same task got there
        first: the caller must then not repeat what follows (audit, next task).
        """
        allowed = expected if isinstance(expected, tuple) else (expected,)
        key = self._keys.request(request_id)
        with self._r.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)  # type: ignore[no-untyped-call]
                    raw = pipe.get(key)
                    if raw is None:
                        return None
                    record = ErasureRecord.model_validate_json(str(raw))
                    if record.state not in allowed:
                        return None
                    for name, value in changes.items():
                        setattr(record, name, value)
                    record.updated_at = utcnow()
                    pipe.multi()
                    pipe.set(key, record.model_dump_json())
                    pipe.execute()
                    return record
                except redis.WatchError:
                    # Someone wrote the record meanwhile (maybe an unrelated field): read it again;
                    # only the state check decides whether this change still applies.
                    continue

    def claim_state(self, request_id: str, expected: RequestState, new: RequestState) -> bool:
        """Move from ``expected`` to ``new`` only if no one else did first."""
        return self.update_if(request_id, expected, state=new) is not None

    def ids(self) -> list[str]:
        return [str(i) for i in self._r.zrange(self._keys.requests_index, 0, -1)]

    def iter_records(self) -> Iterator[ErasureRecord]:
        for request_id in self.ids():
            try:
                yield self.get(request_id)
            except UnknownRequest:
                continue

    def states(self, request_ids: list[str]) -> dict[str, RequestState]:
        """States of many requests in one round trip (progress display)."""
        if not request_ids:
            return {}
        out: dict[str, RequestState] = {}
        for start in range(0, len(request_ids), 1000):
            chunk = request_ids[start:start + 1000]
            raws = self._r.mget([self._keys.request(i) for i in chunk])
            for request_id, raw in zip(chunk, raws, strict=True):
                if raw is not None:  # only the state is needed: skip validating the whole record
                    out[request_id] = RequestState(json.loads(str(raw))["state"])
        return out
