"""The intake's HTTP door (FastAPI): submit, follow, approve and prove erasures, with an API key.

Run with ``uvicorn services.intake.api:app``. Every endpoint but ``/health`` needs a bearer API key
(``erasure keys create``) with the endpoint's scope; the key that submitted a request cannot approve it.
Bodies are JSON only, at most ERASURE_API_MAX_BODY_BYTES (``guard``), validated by ``http_models``.
Answers never carry the subject's identifiers; errors name the field, never the value. A Redis outage
is a 503 with Retry-After (the ticket makes the retry safe), never a traceback.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import kombu.exceptions
import redis
from fastapi import Body, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.console.routes import install as install_console
from services.intake.approve import ApprovalError, approve
from services.intake.auth import authenticated, current_runtime
from services.intake.guard import BodyGuard, known_query_only
from services.intake.http_metrics import RequestMetrics
from services.intake.http_models import (
    TICKET_PATTERN,
    Accepted,
    ErrorBody,
    ExportView,
    RequestPage,
    RequestSummary,
    RequestView,
    SubmitRequest,
    describe_error,
    review_view,
)
from services.intake.submit import enqueue_discovery, submit
from services.intake.validation import IntakeError
from shared.api_keys import ApiKeyStore, Principal, Scope
from shared.approval_scope import current_scope
from shared.certificate_html import render_certificate_html
from shared.certificate_signing import configured_public_key
from shared.certificate_store import deliveries
from shared.config import ConfigError, Settings, get_settings
from shared.export_links import read_links
from shared.models import Approval, ErasureRecord, RequestState, utcnow
from shared.observability import setup_observability
from shared.ratelimit import LimiterUnavailable
from shared.redis_sentinel import check_credentials
from shared.runtime import Runtime, get_runtime
from shared.settings_guard import EXIT_CONFIG, check_can_start, refuse_to_start
from shared.store import DuplicateTicket
from shared.webhooks import target_label

log = logging.getLogger("erasure.intake.api")
RETRY_AFTER_S = 5
PAGE_MAX = 200
_SCAN_MAX = 5000  # records one list call looks at before it answers with a cursor
SCOPE_DIGEST = re.compile(r"hmac-sha256:[0-9a-f]{64}")


def _setup_logging() -> None:
    """The workers' scrubbed JSON logs and Sentry ``before_send``, for this process too; uvicorn's own
    loggers go through the same scrubbing handler."""
    setup_observability(get_settings(), logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True


@asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    """Check the configuration before the first request: a bad one stops the process with one line."""
    _setup_logging()
    try:
        check_can_start("api")
        # A wrong Redis password ends the API here too, not a 503 on every call; a Redis only down passes.
        check_credentials(get_settings())
    except ConfigError as exc:
        # Not SystemExit: Starlette would hand uvicorn the traceback as "startup failed" (exit 3). Nothing
        # is served or held yet, so there is nothing to wind down.
        print(f"intake API refuses to start: {exc}", file=sys.stderr, flush=True)
        os._exit(EXIT_CONFIG)
    # Beside start-up, not in it: a Redis that is down would hold start-up (and /health) for its retries.
    threading.Thread(target=lambda: warn_of_case_duplicates(get_runtime()), name="person-key-check", daemon=True).start()
    yield


def warn_of_case_duplicates(runtime: Runtime) -> None:
    """One warning naming, by key id (a person key's name is the person's), the live person keys whose names
    differ only in case: made before that was refused, one human may hold a group of them. Four eyes
    already counts each group as one person; the warning asks for all but one to be revoked."""
    try:
        groups = ApiKeyStore(runtime.redis, runtime.keys).case_duplicates()
    except redis.RedisError as exc:
        log.info("intake API: person keys not checked for names differing only in case (Redis: %s)",
                 type(exc).__name__)
        return
    if groups:
        log.warning("intake API: live person keys whose names differ only in case (one human may hold each "
                    "group; four eyes counts each as one person): %s; keep one of each and revoke the others "
                    "(erasure keys list marks them person*)", "; ".join(", ".join(group) for group in groups))


def _settings_at_import() -> Settings:
    """The settings the app is built with; unreadable ones stop ``uvicorn`` with one line, not a traceback."""
    try:
        return get_settings()
    except ConfigError as exc:
        refuse_to_start("intake API", exc)


# What each error answer means, so /openapi.json states exactly what each operation answers (the fuzz
# in tests/integration/test_intake_fuzz.py holds the API to it).
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "required": True, "schema": {"type": "integer"}}}
_WHY: dict[int, dict[str, Any]] = {
    400: {"description": "the body is not JSON, not an object, or nested too deep"},
    401: {"description": "no valid API key", "headers": {"WWW-Authenticate": {
        "description": "Bearer", "required": True, "schema": {"type": "string"}}}},
    403: {"description": "the key lacks the scope (or approves a request it submitted)"},
    404: {"description": "no request with this ticket (or no certificate yet)"},
    409: {"description": "the ticket is taken by another subject, or the request is already decided"},
    413: {"description": "the body is larger than ERASURE_API_MAX_BODY_BYTES"},
    415: {"description": "the body is not application/json"},
    422: {"description": "a field, path or query parameter refused (named, never repeated)"},
    429: {"description": "the key's rate limit is spent", "headers": _RETRY_AFTER},
    503: {"description": "the request store (Redis) is unreachable", "headers": _RETRY_AFTER},
}
_KEYED = (401, 403, 422, 429, 503)  # every operation behind a key: key, scope, query, rate, Redis
_BODY = (400, 413, 415)  # and with a body: the guard


def _declared(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody, **_WHY[code]} for code in sorted(codes)}


# No /docs or /redoc: those pages load JavaScript from a CDN, on the origin the console's session cookie
# belongs to. /openapi.json is served below, to a valid key only (``openapi_schema``).
app = FastAPI(title="genesys-erasure intake", version="1",
              description="GDPR Art. 17 erasure requests: submit, follow, approve (four eyes) and prove.",
              lifespan=_lifespan, dependencies=[Depends(known_query_only)],
              docs_url=None, redoc_url=None, openapi_url=None)
app.add_middleware(BodyGuard, max_bytes=_settings_at_import().api_max_body_bytes, form_prefixes=("/console/",))
app.add_middleware(RequestMetrics, routes=app.router.routes)  # outermost: counts the guard's refusals too

install_console(app)  # the web console under /console (services.console): people, sessions, forms

TicketPath = Annotated[str, Path(pattern=TICKET_PATTERN, description="the request's ticket")]
RuntimeDep = Annotated[Runtime, Depends(current_runtime)]


# --- errors: JSON, by field, never a value, never a traceback --------------------------------------

def _errors(status: int, errors: list[str], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"errors": errors}, status_code=status, headers=headers)


@app.exception_handler(RequestValidationError)
async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
    problems = list(exc.errors())
    if any(p.get("type") == "json_invalid" for p in problems):
        return _errors(400, ["body: not valid JSON"])
    if any(p.get("type") in ("model_attributes_type", "dict_type") and tuple(p.get("loc", ())) == ("body",)
           for p in problems):
        return _errors(400, ["body: must be a JSON object"])
    return _errors(422, list(dict.fromkeys(describe_error(p) for p in problems)))


@app.exception_handler(StarletteHTTPException)
async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    return _errors(exc.status_code, [str(exc.detail)], dict(exc.headers or {}))


@app.exception_handler(redis.exceptions.RedisError)
@app.exception_handler(kombu.exceptions.OperationalError)
@app.exception_handler(LimiterUnavailable)
async def _store_down(_: Request, exc: Exception) -> JSONResponse:
    log.error("intake API: Redis unreachable (%s)", type(exc).__name__)
    return _errors(503, ["service: the request store is unreachable; retry later (the ticket makes a retry safe)"],
                   {"Retry-After": str(RETRY_AFTER_S)})


@app.exception_handler(Exception)
async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.error("intake API: unexpected %s", type(exc).__name__)
    return _errors(500, ["service: internal error"])


# --- endpoints -------------------------------------------------------------------------------------

@app.get("/health", tags=["operations"])
def health() -> dict[str, str]:
    """The process is up (no key needed; says nothing about Redis: see /ready)."""
    return {"status": "ok"}


@app.get("/openapi.json", include_in_schema=False)
def openapi_schema(_: Annotated[Principal, Depends(authenticated(None))]) -> JSONResponse:
    """The OpenAPI document, to any valid key (any scope): it maps every route and what each accepts, so it
    is not handed to whoever asks, like every other endpoint but /health."""
    return JSONResponse(app.openapi())


@app.get("/ready", tags=["operations"], responses=_declared(401, 422, 429, 503))
def ready(runtime: RuntimeDep, _: Annotated[Principal, Depends(authenticated(None))]) -> dict[str, str]:
    """Redis answers (any valid key); 503 otherwise."""
    runtime.redis.ping()
    return {"status": "ready"}


@app.get("/metrics", tags=["operations"], response_class=Response,
         responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}, **_declared(*_KEYED)})
def metrics(_: Annotated[Principal, Depends(authenticated(Scope.METRICS))]) -> Response:
    """This process's metrics (Prometheus text): calls by route template and status, latency, refusals.
    The metrics:read scope (or admin): they carry no identifier, but show how the intake is used."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


@app.post("/requests", status_code=202, tags=["requests"], response_model=Accepted,
          responses={200: {"model": Accepted, "description": "the same ticket and subject again: the original"},
                     **_declared(*_KEYED, *_BODY, 409)})
def create_request(body: SubmitRequest, runtime: RuntimeDep,
                   principal: Annotated[Principal, Depends(authenticated(Scope.SUBMIT))]) -> Any:
    """Submit one erasure request (202). The same ticket with the same subject again answers the
    original request (200); a ticket already used for another subject is 409."""
    payload = body.model_dump(exclude_unset=True)
    approval = None
    if payload.pop("approved_by", None) is not None:
        if not _trusted_to_preapprove(runtime, principal):
            return _errors(422, ["approved_by: refused: approval comes from a second API key (POST /requests/{ticket}/"
                                 "approve), or from a key named in ERASURE_PREAPPROVE_KEYS"])
        approval = Approval(by=principal.name, key_id=principal.key_id, via="preapproved")
    try:
        record = submit(runtime, payload, submitted_by=principal.key_id, approval=approval)
    except IntakeError as exc:
        return _errors(422, exc.errors)
    except DuplicateTicket as exc:
        if not exc.same_subject:
            return _errors(409, ["ticket: already submitted for another subject or another kind of request"])
        original = runtime.store.get(exc.request_id)
        if original.state is RequestState.RECEIVED:
            # An earlier try may have stored it and lost Redis before enqueuing: send it on (discovery
            # takes a request once, by its state).
            enqueue_discovery(runtime, [original.request_id], original.lane)
        return JSONResponse(_accepted(original), status_code=200)
    return JSONResponse(_accepted(record), status_code=202)


@app.get("/requests/{ticket}", tags=["requests"], response_model=RequestView, responses=_declared(*_KEYED, 404))
def get_request(ticket: TicketPath, runtime: RuntimeDep,
                _: Annotated[Principal, Depends(authenticated(Scope.READ))]) -> RequestView:
    """Where one request stands: state, deadline, approval; no personal data. For a completed access
    request, its export's download links too, while they work (to a key with requests:read only)."""
    record = _find(runtime, ticket)
    view = _view(record, runtime.settings.require_hmac_key())
    if record.export is not None:
        links = read_links(runtime.redis, runtime.keys, record.request_id)
        view.export = ExportView(gdpr_request_id=record.export.gdpr_request_id, completed_at=record.export.completed_at,
                                 files=record.export.files, expires_at=record.export.link_expires_at,
                                 expired=links is None, results_urls=links or [])
    return view


@app.get("/requests", tags=["requests"], response_model=RequestPage, responses=_declared(*_KEYED))
def list_requests(
    runtime: RuntimeDep, _: Annotated[Principal, Depends(authenticated(Scope.READ))],
    state: Annotated[RequestState | None, Query()] = None,
    overdue: Annotated[bool | None, Query(description="only overdue (true) or only on time (false)")] = None,
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,9}$")] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50,
) -> RequestPage:
    """Requests oldest first, a page at a time, by ticket, state and deadline (no personal data)."""
    now = utcnow()
    position = int(cursor or 0)
    items: list[RequestSummary] = []
    scanned = 0
    index = runtime.keys.requests_index
    while len(items) < limit and scanned < _SCAN_MAX:
        ids = [str(i) for i in runtime.redis.zrange(index, position, position + limit - 1)]
        if not ids:
            return RequestPage(items=items, next_cursor=None)
        # One round trip for the page's records, not one per record.
        raws = runtime.redis.mget([runtime.keys.request(request_id) for request_id in ids])
        for raw in raws:
            position += 1
            scanned += 1
            if raw is None:
                continue
            record = ErasureRecord.model_validate_json(str(raw))
            late = _overdue(record, now)
            if (state is None or record.state is state) and (overdue is None or late is overdue):
                items.append(RequestSummary(request_id=record.request_id, ticket=record.ticket,
                                            state=record.state.value, deadline=record.deadline, overdue=late))
                if len(items) == limit:
                    break
    more = runtime.redis.zcard(index) > position
    return RequestPage(items=items, next_cursor=str(position) if more else None)


@app.get("/requests/{ticket}/certificate", tags=["requests"],
         responses={200: {"content": {"application/json": {}, "text/html": {}},
                          "description": "the certificate as JSON, or as a page with Accept: text/html"},
                    **_declared(*_KEYED, 404)})
def get_certificate(ticket: TicketPath, request: Request, runtime: RuntimeDep,
                    _: Annotated[Principal, Depends(authenticated(Scope.READ))]) -> Response:
    """The erasure certificate (issued at the final state; 404 before): JSON as ``erasure certificate``
    prints it, or the same as an HTML page (every value escaped) with ``Accept: text/html``."""
    record = _find(runtime, ticket)
    raw = runtime.redis.get(runtime.keys.certificate(record.request_id))
    if raw is None:
        return _errors(404, ["certificate: not issued yet (it is, once the request is final)"])
    if _wants_html(request.headers.get("accept", "")):
        page = render_certificate_html(json.loads(str(raw)), public_key=configured_public_key(runtime.settings),
                                       delivered=deliveries(runtime.redis, runtime.keys, record.request_id))
        return HTMLResponse(page)
    return Response(str(raw), media_type="application/json")


@app.post("/requests/{ticket}/approve", tags=["requests"], response_model=RequestView,
          responses=_declared(*_KEYED, *_BODY, 404, 409))
def approve_request(ticket: TicketPath, runtime: RuntimeDep,
                    principal: Annotated[Principal, Depends(authenticated(Scope.APPROVE))],
                    body: Annotated[dict[str, Any] | None, Body(
                        description='optional: {"scope": "<the scope.digest GET /requests/{ticket} showed>"}; the '
                                    "approver is the calling key, never a body field")] = None,
                    ) -> Any:
    """Approve the erasure as the calling key (never the key that submitted it: 403). Deletion waits for this.

    The approval covers the request's scope as it is now; if discovery or redaction widens it later, the
    request waits for a new approval. With ``scope`` (the digest you were shown), a scope that changed
    since is 409 and nothing is approved."""
    scope = (body or {}).get("scope")
    if body and (set(body) != {"scope"} or not isinstance(scope, str) or not SCOPE_DIGEST.fullmatch(scope)):
        return _errors(422, ["request: an approval takes only scope, the digest GET /requests/{ticket} shows "
                             "(the approver is the calling API key)"])
    try:
        record = approve(runtime, ticket, principal.name, key_id=principal.key_id, via="api", scope=scope,
                         person=principal.person)
    except ApprovalError as exc:
        return _errors(exc.status, [str(exc)])
    return _view(record, runtime.settings.require_hmac_key())


# --- helpers ---------------------------------------------------------------------------------------

def _trusted_to_preapprove(runtime: Runtime, principal: Principal) -> bool:
    # By key id only: a revoked key's name is free again, and a new key under it must not inherit the
    # right to pre-approve.
    return principal.key_id in set(runtime.settings.preapprove_keys)


def _find(runtime: Runtime, ticket: str) -> ErasureRecord:
    record = runtime.store.find_by_ticket(ticket)
    if record is None:
        raise StarletteHTTPException(404, "ticket: no request with this ticket")
    return record


def _overdue(record: ErasureRecord, now: Any) -> bool:
    return not record.state.is_final and now > record.deadline


def _accepted(record: ErasureRecord) -> dict[str, str]:
    return {"request_id": record.request_id, "ticket": record.ticket, "kind": record.kind.value,
            "state": record.state.value}


def _view(record: ErasureRecord, key: bytes) -> RequestView:
    approval = record.approval
    scope = None if record.scrubbed else current_scope(key, record)
    return RequestView(request_id=record.request_id, ticket=record.ticket, kind=record.kind.value,
                       state=record.state.value,
                       received_at=record.received_at, deadline=record.deadline, overdue=_overdue(record, utcnow()),
                       reason=record.reason, approved=approval is not None,
                       approved_by=approval.by if approval else None,
                       approved_by_key=approval.key_id if approval else None,
                       approved_at=approval.at if approval else None,
                       callback=target_label(record.callback_url) if record.callback_url else None,
                       scope=scope, approved_scope=approval.scope if approval else None,
                       superseded_approvals=len(record.superseded_approvals), review=review_view(record.review))


def _wants_html(accept: str) -> bool:
    """HTML only when asked for before JSON (a browser's Accept), JSON otherwise."""
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if "text/html" not in kinds:
        return False
    return "application/json" not in kinds or kinds.index("text/html") < kinds.index("application/json")
