"""Accepting a request: validate, claim the ticket, audit, enqueue discovery. Nothing is enqueued
for a refused request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.intake.validation import IntakeError, parse_request
from shared.celery_app import app
from shared.models import ErasureRecord
from shared.runtime import Runtime
from shared.store import DuplicateTicket

DISCOVER_TASK = "erasure.discovery.discover"

__all__ = ["DuplicateTicket", "IntakeError", "submit"]


def submit(runtime: Runtime, payload: Mapping[str, Any]) -> ErasureRecord:
    """Store and enqueue one request; raise ``IntakeError`` or ``DuplicateTicket`` otherwise."""
    record = parse_request(payload, runtime.settings.default_phone_region)
    runtime.store.create(record)
    runtime.audit.append(
        "request.received",
        request_id=record.request_id,
        subject=runtime.digest(record),
        details={
            "ticket": record.ticket,
            "identifiers": len(record.subject.values()),
            "approved": record.approval is not None,
            "windowed": record.window is not None,
        },
    )
    app.send_task(DISCOVER_TASK, args=[record.request_id])
    return record
