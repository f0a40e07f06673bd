"""Accepting a request: validate, claim the ticket, audit, enqueue discovery. Nothing is enqueued
for a refused request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.intake.validation import IntakeError, parse_request
from shared.callbacks import CallbackPolicy
from shared.config import ConfigError
from shared.lanes import send_ids
from shared.models import Approval, ErasureRecord, Lane, RequestKind
from shared.pipeline import chunks
from shared.runtime import Runtime
from shared.store import DuplicateTicket
from shared.task_names import DISCOVER_TASK
from shared.webhooks import target_label

__all__ = ["DuplicateTicket", "IntakeError", "enqueue_discovery", "submit"]


def enqueue_discovery(runtime: Runtime, request_ids: list[str], lane: Lane = Lane.INTERACTIVE) -> None:
    """Send accepted requests to discovery in batches, so a bulk run shares its platform queries.
    Every request of ``request_ids`` travels in ``lane``."""
    for batch in chunks(request_ids, runtime.settings.batch_size):
        send_ids(DISCOVER_TASK, batch, lane=lane)


def refuse_held_anonymise(runtime: Runtime, record: ErasureRecord) -> None:
    """An ``anonymise`` for a subject under a legal hold is refused at intake (issue 17): a hold means the
    records must stay as they are, and rewriting them is no more allowed than deleting them. The register is
    read by the identifiers given (one Redis read); a hold on an identifier only discovery finds still
    stops the request at deletion (HELD), as for an erasure. The error names holds by id, never a value."""
    held = runtime.holds().for_subject(record.subject)
    if held:
        raise IntakeError([f"kind: 'anonymise' refused: the subject is under legal hold "
                           f"{', '.join(h.id for h in held)}; records under a hold may not be rewritten "
                           "(submit it once the hold is removed)"])


def submit(runtime: Runtime, payload: Mapping[str, Any], *, enqueue: bool = True, submitted_by: str | None = None,
           approval: Approval | None = None, lane: Lane | None = None) -> ErasureRecord:
    """Store one request and (unless ``enqueue`` is False: bulk) enqueue it; raise ``IntakeError``
    or ``DuplicateTicket`` otherwise.

    ``submitted_by`` is the API key that sent it over HTTP (it may not approve it); ``approval`` is a
    trusted key's pre-approval (the HTTP door never passes a body's ``approved_by`` through); ``lane`` is
    the queue lane the request travels in (``bulk`` for files and purges), overriding the payload's own
    ``lane`` field (default ``interactive``)."""
    record = parse_request(payload, runtime.settings.default_phone_region, CallbackPolicy.from_settings(runtime.settings))
    if record.callback_url is not None:
        try:  # an unsigned event cannot be sent: refuse now rather than fail silently at the end
            runtime.settings.require_webhook_secret()
        except ConfigError:
            raise IntakeError(["callback_url: refused: this deployment has no webhook signing secret "
                               "(ERASURE_WEBHOOK_SECRET)"]) from None
    if record.kind is RequestKind.ANONYMISE:
        refuse_held_anonymise(runtime, record)
    record.subject_digest = runtime.digest(record)
    record.submitted_by = submitted_by
    if lane is not None:
        record.lane = lane
    if approval is not None:
        record.approval = approval
    try:
        runtime.store.create(record)
    except DuplicateTicket as exc:
        # The same request again only if it asks the same thing of the same subject: a retry. An erasure
        # under the ticket of an earlier access request is another request, refused, never answered with
        # the first one (the caller would believe an erasure accepted that will never run).
        earlier = runtime.store.get(exc.request_id)
        exc.same_subject = (earlier.subject_digest == record.subject_digest and earlier.kind is record.kind
                            and earlier.erase_by_name == record.erase_by_name)
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
        enqueue_discovery(runtime, [record.request_id], record.lane)
    return record
