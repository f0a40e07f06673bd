"""The intake's HTTP door: ``POST /requests`` takes the same JSON as the CLI and the Celery task.

Answers: 202 with the request id; 422 with ``errors`` naming each bad field; 409 for a ticket
already submitted (with the existing request id). Run with
``uvicorn services.intake.api:app``; ``GET /requests/{ticket}`` reports state without personal data.
"""

from __future__ import annotations

from json import JSONDecodeError

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.intake.approve import ApprovalError, approve
from services.intake.submit import submit
from services.intake.validation import IntakeError
from shared.runtime import get_runtime
from shared.store import DuplicateTicket


async def create_request(request: Request) -> JSONResponse:
    try:
        payload = await request.json()
    except (JSONDecodeError, UnicodeDecodeError):
        return JSONResponse({"errors": ["body: not valid JSON"]}, status_code=400)
    if not isinstance(payload, dict):
        return JSONResponse({"errors": ["body: must be a JSON object"]}, status_code=400)
    try:
        record = submit(get_runtime(), payload)
    except IntakeError as exc:
        return JSONResponse({"errors": exc.errors}, status_code=422)
    except DuplicateTicket as exc:
        return JSONResponse({"errors": [f"ticket: {exc}"], "request_id": exc.request_id}, status_code=409)
    return JSONResponse({"request_id": record.request_id, "ticket": record.ticket,
                         "state": record.state.value}, status_code=202)


async def get_request(request: Request) -> JSONResponse:
    record = get_runtime().store.find_by_ticket(request.path_params["ticket"])
    if record is None:
        return JSONResponse({"errors": ["ticket: unknown"]}, status_code=404)
    return JSONResponse({"request_id": record.request_id, "ticket": record.ticket, "state": record.state.value,
                         "deadline": record.deadline.isoformat(), "reason": record.reason})


async def approve_request(request: Request) -> JSONResponse:
    try:
        payload = await request.json()
    except (JSONDecodeError, UnicodeDecodeError):
        return JSONResponse({"errors": ["body: not valid JSON"]}, status_code=400)
    by = payload.get("by") if isinstance(payload, dict) else None
    try:
        record = approve(get_runtime(), request.path_params["ticket"], str(by or ""))
    except ApprovalError as exc:
        status = 404 if "no request" in str(exc) else 409 if "already" in str(exc) else 422
        return JSONResponse({"errors": [str(exc)]}, status_code=status)
    return JSONResponse({"request_id": record.request_id, "ticket": record.ticket, "state": record.state.value})


app = Starlette(routes=[
    Route("/requests", create_request, methods=["POST"]),
    Route("/requests/{ticket}", get_request, methods=["GET"]),
    Route("/requests/{ticket}/approve", approve_request, methods=["POST"]),
])
