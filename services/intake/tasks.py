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

from celery.worker.request import Request

from services.intake.submit import submit
from services.intake.validation import IntakeError
from shared.celery_app import app
from shared.metrics import INTAKE_REFUSED
from shared.pipeline import kept_while_redis_is_down
from shared.runtime import get_runtime
from shared.store import DuplicateTicket

log = logging.getLogger("erasure.intake")


#: What task events (Flower, celery-exporter) and ``celery inspect`` show of this task's arguments.
WITHHELD = "<withheld: the subject's identifiers>"


class WithheldArguments(Request):
    """The worker's view of a message of this door: its arguments are the subject's identifiers, so the
    ``task-received`` event (``ERASURE_TASK_EVENTS``) and ``inspect`` show ``WITHHELD`` instead of their repr."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._argsrepr = self._kwargsrepr = WITHHELD


class WithheldWhenSent(app.Task):  # type: ignore[name-defined,misc]
    """Sent through this app (``submit_task.delay``): the message's ``argsrepr`` header and the ``task-sent``
    event say ``WITHHELD`` too. A producer calling ``send_task`` by name should pass ``argsrepr`` itself."""

    def apply_async(self, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        options.setdefault("argsrepr", WITHHELD)
        options.setdefault("kwargsrepr", WITHHELD)
        return super().apply_async(args, kwargs, **options)


@app.task(name="erasure.intake.submit", acks_late=True, base=WithheldWhenSent, Request=WithheldArguments)
def submit_task(payload: dict[str, Any]) -> dict[str, Any]:
    try:
        # Redis down: the message goes back to its queue (the ticket makes a second try idempotent).
        with kept_while_redis_is_down("erasure.intake.submit", 1):
            record = submit(get_runtime(), payload)
    except IntakeError as exc:
        log.warning("request refused: %s", "; ".join(exc.errors))
        INTAKE_REFUSED.labels("invalid").inc()
        return {"accepted": False, "errors": exc.errors}
    except DuplicateTicket as exc:
        INTAKE_REFUSED.labels("duplicate").inc()
        return {"accepted": False, "duplicate_of": exc.request_id, "errors": [f"ticket: {exc}"]}
    return {"accepted": True, "request_id": record.request_id}
