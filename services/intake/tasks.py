"""The intake as a Celery task, for upstream systems that already speak Celery.

Send ``erasure.intake.submit`` with one JSON object (the fields of ``ErasureRequestIn``); a refused
request is logged by field name and ticket, never by value.

This is an operator-side door: anyone who can write to the broker can use it (there is no API key),
and its message carries the subject's identifiers in clear through the broker (Redis) until a worker
takes it. It returns nothing the sender can read (no result backend: ``task_ignore_result``); follow the
request by its ticket (``GET /requests/{ticket}``, ``erasure status TICKET``). Upstream systems on a
network should use the HTTP intake instead.
"""

from __future__ import annotations

import logging
from typing import Any

from services.intake.submit import submit
from services.intake.validation import IntakeError
from shared.celery_app import app
from shared.pipeline import kept_while_redis_is_down
from shared.runtime import get_runtime
from shared.store import DuplicateTicket

log = logging.getLogger("erasure.intake")


@app.task(name="erasure.intake.submit", acks_late=True)
def submit_task(payload: dict[str, Any]) -> dict[str, Any]:
    try:
        # Redis down: the message goes back to its queue (the ticket makes a second try idempotent).
        with kept_while_redis_is_down("erasure.intake.submit", 1):
            record = submit(get_runtime(), payload)
    except IntakeError as exc:
        log.warning("request refused: %s", "; ".join(exc.errors))
        return {"accepted": False, "errors": exc.errors}
    except DuplicateTicket as exc:
        return {"accepted": False, "duplicate_of": exc.request_id, "errors": [f"ticket: {exc}"]}
    return {"accepted": True, "request_id": record.request_id}
