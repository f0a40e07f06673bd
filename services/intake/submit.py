"""Accepting a request: validate, claim the ticket, audit, enqueue discovery. Nothing is enqueued
for a refused request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.intake.validation import IntakeError, parse_request
from shared.callbacks import CallbackPolicy
from shared.celery_app import app
from shared.config import ConfigError
from shared.models import Approval, ErasureRecord
from shared.pipeline import chunks
from shared.runtime import Runtime
from shared.store import DuplicateTicket
from shared.task_names import DISCOVER_TASK
from shared.webhooks import target_label

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
    record = parse_request(payload, runtime.settings.default_phone_region, CallbackPolicy.from_settings(runtime.settings))
    if record.callback_url is not None:
        try:  # an unsigned event cannot be sent: refuse now rather than fail silently at the end
            runtime.settings.require_webhook_secret()
        except ConfigError:
            raise IntakeError(["callback_url: refused: this deployment has no webhook signing secret "
                               "(ERASURE_WEBHOOK_SECRET)"]) from None
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
    if record.callback_url is not None:
        details["callback"] = target_label(record.callback_url)  # scheme and host: a query may hold a token
    runtime.audit.append("request.received", request_id=record.request_id, subject=runtime.digest(record),
                         details=details)
    if enqueue:
        enqueue_discovery(runtime, [record.request_id])
    return record
