"""Accepting a request: validate, claim the ticket, audit, enqueue discovery. Nothing is enqueued
for a refused request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.intake.validation import IntakeError, parse_request
from shared.celery_app import app
from shared.models import Approval, ErasureRecord
from shared.pipeline import chunks
from shared.runtime import Runtime
from shared.store import DuplicateTicket
from shared.task_names import DISCOVER_TASK

__all__ = ["DuplicateTicket", "IntakeError", "enqueue_discovery", "submit"]


def enqueue_discovery(runtime: Runtime, request_ids: list[str]) -> None:
    """Send accepted requests to discovery in batches, so a bulk run shares its platform queries."""
    for batch in chunks(request_ids, runtime.settings.batch_size):
        app.send_task(DISCOVER_TASK, args=[batch])


def submit(runtime: Runtime, payload: Mapping[str, Any], *, enqueue: bool = True, submitted_by: str | None = None,
           approval: Approval | None = None) -> ErasureRecord:
    """Store one request and (unless ``enqueue`` is False: bulk) enqueue it; raise ``IntakeError``
    or ``DuplicateTicket`` otherwise.

    ``submitted_by`` is the API key that sent it over HTTP (it may not approve it); ``approval`` is a
    trusted key's pre-approval (the HTTP door never passes a body's ``approved_by`` through)."""
    record = parse_request(payload, runtime.settings.default_phone_region)
    record.subject_digest = runtime.digest(record)
    record.submitted_by = submitted_by
    if approval is not None:
        record.approval = approval
    try:
        runtime.store.create(record)
    except DuplicateTicket as exc:
        exc.same_subject = runtime.store.get(exc.request_id).subject_digest == record.subject_digest
        raise
    details: dict[str, Any] = {
        "ticket": record.ticket,
        "identifiers": len(record.subject.values()),
        "approved": record.approval is not None,
        "windowed": record.window is not None,
    }
    if submitted_by is not None:
        details["submitted_by"] = submitted_by  # the API key's id
    runtime.audit.append("request.received", request_id=record.request_id, subject=runtime.digest(record),
                         details=details)
    if enqueue:
        enqueue_discovery(runtime, [record.request_id])
    return record
