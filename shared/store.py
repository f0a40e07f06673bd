"""Request state in Redis: one JSON document per request, a ticket index, an ordered list.

The ticket is the idempotency key: ``create`` claims it with SET NX, so the same ticket sent
twice, even by two intake processes at once, makes one request. Each write keeps the request's light row
for lists (``shared.summaries``) in the same transaction. Every write of a stored request
reads it and writes it in one optimistic transaction, and every change of its state is checked there
against the table of allowed moves (``shared.models.ALLOWED``). The same transaction keeps the
progress index (``shared.progress``) that the watchdog reads: every write is progress.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Unpack

import redis

from shared.errors import ErasureError
from shared.keys import Keys
from shared.models import ErasureRecord, RecordChanges, RequestState, may_move, utcnow
from shared.progress import ProgressIndex
from shared.summaries import stage as stage_summary


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


class IllegalTransition(ErasureError, ValueError):
    """A state change that ``shared.models.ALLOWED`` does not have; nothing was written.

    A bug in the caller, not a race (a concurrent delivery shows as ``update_if`` returning None).
    The message names the request id and the two states only: no personal data.
    """

    def __init__(self, request_id: str, old: RequestState, new: RequestState) -> None:
        super().__init__(f"request {request_id}: {old.value} -> {new.value} is not an allowed state change")
        self.request_id = request_id
        self.old = old
        self.new = new


class RequestStore:
    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self._r = client
        self._keys = keys
        self.progress = ProgressIndex(client, keys)

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
                    stage_summary(pipe, self._keys, record)
                    pipe.set(self._keys.audit_indexed_since, record.received_at.isoformat(), nx=True)
                    self.progress.stage(pipe, record)
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
        """Write a whole record (a scrubbed copy of a final request, a test's fixture).

        A state other than the stored one is a move like any other: checked against the table in the
        same transaction as the write. A record not stored yet is written in the state it carries.
        """
        def whole(raw: str | None) -> ErasureRecord:
            stored = None if raw is None else RequestState(json.loads(raw)["state"])
            if stored is not None and stored is not record.state:
                self._check_move(record.request_id, stored, record.state)
            return record

        self._rewrite(record.request_id, whole)

    def update(self, request_id: str, **changes: Unpack[RecordChanges]) -> ErasureRecord:
        """Change fields of a stored request (never its state: see ``set_state``); ``UnknownRequest`` if none.

        The read and the write are one optimistic transaction (WATCH), so a concurrent writer's fields
        (an approval recorded by ``erasure approve``) are not overwritten with what was read before it.
        Values the caller derived from an earlier read (``poll_attempts + 1``, a merged ``withheld`` list)
        are only right while it holds the request's lock: ``pipeline.request_locks`` (key
        ``Keys.request_lock``), taken by every ``erasure_task`` for the length of the task. Writers
        without that lock (the approve and release-held commands, the GDPR sweep) guard their writes
        with the request's state instead (``update_if``, ``transition(expect=...)``).
        """
        return self._known(request_id, self._change(request_id, None, None, changes))

    def set_state(self, request_id: str, state: RequestState, **changes: Unpack[RecordChanges]) -> ErasureRecord:
        """Move a request to ``state`` with ``changes``; ``IllegalTransition`` (nothing written) if the
        table (``shared.models.ALLOWED``) has no move from its current state, checked in the write's
        transaction. For a move a concurrent delivery may have made first, use ``update_if``."""
        return self._known(request_id, self._change(request_id, None, state, changes))

    def update_if(self, request_id: str, expected: RequestState | tuple[RequestState, ...], *,
                  state: RequestState | None = None, when: Callable[[ErasureRecord], bool] | None = None,
                  **changes: Unpack[RecordChanges]) -> ErasureRecord | None:
        """Apply ``changes`` (and move to ``state``) only while the request is in ``expected`` (optimistic transaction)
        and, with ``when``, only while ``when`` holds for the stored record (e.g. it still carries the approval
        the caller read).

        Returns the updated record, or None when another delivery of the same task got there
        first: the caller must then not repeat what follows (audit, next task). A move from an
        expected state that the table does not allow raises ``IllegalTransition``: that is a bug, not a race.
        """
        allowed = expected if isinstance(expected, tuple) else (expected,)
        return self._change(request_id, allowed, state, changes, when)

    def claim_state(self, request_id: str, expected: RequestState, new: RequestState) -> bool:
        """Move from ``expected`` to ``new`` only if no one else did first."""
        return self.update_if(request_id, expected, state=new) is not None

    def _change(self, request_id: str, expected: tuple[RequestState, ...] | None, state: RequestState | None,
                changes: RecordChanges, when: Callable[[ErasureRecord], bool] | None = None) -> ErasureRecord | None:
        """The one way fields and states are changed: None if the request is missing or not in ``expected``."""
        for name in changes:
            if name not in RecordChanges.__optional_keys__:
                raise TypeError(f"{name!r} is not a field a write may change (see shared.models.RecordChanges)")

        def changed(raw: str | None) -> ErasureRecord | None:
            if raw is None:
                return None
            record = ErasureRecord.model_validate_json(raw)
            if expected is not None and record.state not in expected:
                return None
            if when is not None and not when(record):
                return None
            if state is not None:
                self._check_move(request_id, record.state, state)
                record.state = state
            for name, value in changes.items():
                setattr(record, name, value)
            return record

        return self._rewrite(request_id, changed)

    def _rewrite(self, request_id: str, rewrite: Callable[[str | None], ErasureRecord | None]) -> ErasureRecord | None:
        """Read the stored record, write what ``rewrite`` makes of it (None: nothing), as one transaction.

        A concurrent write between the read and the write (maybe of an unrelated field) makes it read
        again and decide afresh: a state check never passes on a state that is no longer there.
        """
        key = self._keys.request(request_id)
        with self._r.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)  # type: ignore[no-untyped-call]
                    raw = pipe.get(key)
                    record = rewrite(None if raw is None else str(raw))
                    if record is None:
                        return None
                    record.updated_at = utcnow()
                    pipe.multi()
                    pipe.set(key, record.model_dump_json())
                    stage_summary(pipe, self._keys, record)
                    self.progress.stage(pipe, record, record.updated_at.timestamp())
                    pipe.execute()
                    return record
                except redis.WatchError:
                    continue

    @staticmethod
    def _check_move(request_id: str, old: RequestState, new: RequestState) -> None:
        if not may_move(old, new):
            raise IllegalTransition(request_id, old, new)

    @staticmethod
    def _known(request_id: str, record: ErasureRecord | None) -> ErasureRecord:
        if record is None:
            raise UnknownRequest(request_id)
        return record

    def ids(self) -> list[str]:
        return [str(i) for i in self._r.zrange(self._keys.requests_index, 0, -1)]

    def iter_records(self, chunk: int = 500) -> Iterator[ErasureRecord]:
        """Every stored record, oldest first: one MGET per ``chunk`` of them, not a round trip each (status,
        resume and the approval release walk the whole store). A request removed meanwhile is skipped."""
        ids = self.ids()
        for start in range(0, len(ids), chunk):
            raws = self._r.mget([self._keys.request(i) for i in ids[start:start + chunk]])
            for raw in raws:
                if raw is not None:
                    yield ErasureRecord.model_validate_json(str(raw))

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
