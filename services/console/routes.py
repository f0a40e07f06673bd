"""The console's pages, under ``/console`` of the intake app (``install``).

Every page but sign-in needs a session (``sessions``); without one, every URL, GET or POST, answers 303 to
the sign-in page. Every form carries the session's CSRF token and a POST without it is refused (403)
before anything is read or written; the sign-in form, which has no session yet, carries a token that must
match a cookie set with the form. What a person sees and does follows their key's scopes:

- overview (requests:read): requests by state and kind, the deadline view, the oldest waiting request per
  state, dead letters, and a chart of open requests by days left;
- approvals (requests:read to see, requests:approve to decide): the gate's queue with each request's scope,
  approve (bound to the scope digest the page showed) or reject with a reason, through the API's code path
  (``services.intake.approve``), four eyes included;
- request (requests:read): timeline from the audit log, platform ids, withheld records, verification, the
  certificate; identifiers masked, revealed one at a time by a POST needing identifiers:reveal (audited);
  a final request shows its subject digest only;
- legal holds (requests:read to see, holds:write to change) and dead letters (requests:read, webhooks:replay
  to replay): the CLI's code paths (``services.registers``).
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from importlib import resources
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from services.console.chart import days_left_svg
from services.console.masking import mask
from services.console.reads import all_rows, awaiting_approval, overview, page_of
from services.console.sessions import COOKIE, Session, SessionStore, csrf_ok, tokens_match
from services.console.signin import ApiKeySignIn, SignIn
from services.intake.approve import ApprovalError, approve, own_request, reject
from services.intake.auth import current_runtime
from services.intake.http_models import TICKET_PATTERN
from services.registers import NotFound, Refused, add_hold, dead_letters, list_holds, remove_hold, replay_webhooks
from shared.api_keys import Scope
from shared.approval_scope import current_scope
from shared.certificate_html import render_certificate_html, signature_status
from shared.certificate_signing import configured_public_key
from shared.certificate_store import deliveries
from shared.config import ConfigError
from shared.deadlines import describe
from shared.models import ErasureRecord, utcnow
from shared.runtime import Runtime

T = TypeVar("T")
PAGE_SIZE = 25
MAX_FORM_BYTES = 8 * 1024
SIGNIN_COOKIE = "erasure_console_signin"
_STATIC = {"console.css": "text/css", "console.js": "text/javascript"}
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
}
#: The certificate page is the shared renderer's document, with its own inline style and no script.
_CERTIFICATE_HEADERS = {**_HEADERS, "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                                               "frame-ancestors 'none'; base-uri 'none'"}
#: What a redirect after a form may say (by code: nothing from the form travels in a URL).
MESSAGES = {"approved": "Approved: the request goes on to deletion.", "rejected": "Rejected.",
            "hold-added": "Hold added.", "hold-removed": "Hold removed.", "signed-out": "Signed out."}

router = APIRouter(prefix="/console", include_in_schema=False)
templates = Environment(loader=PackageLoader("services.console", "templates"), autoescape=select_autoescape(),
                        trim_blocks=True, lstrip_blocks=True)
sign_in_method: SignIn = ApiKeySignIn()
RuntimeDep = Annotated[Runtime, Depends(current_runtime)]
PageQuery = Annotated[int, Query(ge=1, le=100000)]
TicketPath = Annotated[str, Path(pattern=TICKET_PATTERN)]


class SignInRequired(Exception):
    """No live session: every console URL then answers with the way to the sign-in page."""


class ConsoleRefusal(Exception):
    """A page or form refused (scope, CSRF, a decision the gate refuses): an HTML page saying why."""

    def __init__(self, status: int, message: str, session: Session | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.session = session


def install(app: FastAPI) -> None:
    """Serve the console from ``app`` under ``/console``."""
    app.include_router(router)
    app.add_exception_handler(SignInRequired, _to_sign_in)
    app.add_exception_handler(ConsoleRefusal, _refused)


async def _to_sign_in(_: Request, __: Exception) -> Response:
    return RedirectResponse("/console/sign-in", status_code=303, headers={"Cache-Control": "no-store"})


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleRefusal)
    return _page(request, exc.session, "refused.html", status=exc.status, message=exc.message)


# --- sessions, scopes and forms --------------------------------------------------------------------

def _sessions(runtime: Runtime) -> SessionStore:
    return SessionStore(runtime.redis, runtime.keys, runtime.settings.console_session_ttl_s)


def signed_in(request: Request, runtime: RuntimeDep) -> Session:
    session = _sessions(runtime).load(request.cookies.get(COOKIE))
    if session is None:
        raise SignInRequired
    return session


SessionDep = Annotated[Session, Depends(signed_in)]


def _need(session: Session, scope: Scope) -> None:
    if not session.principal.allows(scope):
        raise ConsoleRefusal(403, f"Your key does not have the scope {scope.value}.", session)


async def form_fields(request: Request) -> dict[str, str]:
    """An url-encoded form (the only kind the console posts), first value of each field."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise ConsoleRefusal(413, "The form is too large.")
    try:
        parsed = parse_qs(body.decode(), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise ConsoleRefusal(400, "The form could not be read.") from None
    return {name: values[0] for name, values in parsed.items()}


FormDep = Annotated[dict[str, str], Depends(form_fields)]


def _checked(session: Session, form: dict[str, str]) -> None:
    """Refuse a form without its session's CSRF token before it does anything."""
    if not csrf_ok(session, form.get("csrf")):
        raise ConsoleRefusal(403, "The form did not carry this session's security token; reload the page and try again.",
                             session)


def _page(request: Request, session: Session | None, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    principal = session.principal if session else None
    html = templates.get_template(template).render(
        principal=principal, csrf=session.csrf if session else "", scopes=Scope,
        can=(lambda scope: principal is not None and principal.allows(scope)), path=request.url.path, **context)
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _paged(items: list[T], page: int) -> tuple[list[T], int]:
    """One page of ``items`` (``PAGE_SIZE`` a page) and how many pages there are."""
    return items[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], max(1, -(-len(items) // PAGE_SIZE))


def _back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def _secure(request: Request, runtime: Runtime) -> bool:
    return request.url.scheme == "https" or runtime.settings.console_cookie_secure


# --- static ------------------------------------------------------------------------------------------

@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in _STATIC:
        return Response(status_code=404)
    body = resources.files("services.console").joinpath("static", name).read_bytes()
    return Response(body, media_type=_STATIC[name], headers={"Cache-Control": "max-age=3600",
                                                            "X-Content-Type-Options": "nosniff"})


# --- sign-in and sign-out ------------------------------------------------------------------------------

@router.get("/sign-in")
def sign_in_form(request: Request, runtime: RuntimeDep,
                 msg: Annotated[str | None, Query(max_length=20)] = None, failed: Annotated[bool, Query()] = False,
                 ) -> HTMLResponse:
    """The sign-in form; its token is set as a cookie too (no session yet: a double-submitted token)."""
    token = secrets.token_urlsafe(32)
    page = _page(request, None, "sign_in.html", signin_token=token, failed=failed, message=MESSAGES.get(msg or ""))
    page.set_cookie(SIGNIN_COOKIE, token, max_age=600, path="/console", httponly=True, samesite="strict",
                    secure=_secure(request, runtime))
    return page


@router.post("/sign-in")
def sign_in(request: Request, runtime: RuntimeDep, form: FormDep) -> Response:
    expected = request.cookies.get(SIGNIN_COOKIE)
    if not tokens_match(expected or "", form.get("csrf")):
        raise ConsoleRefusal(403, "The sign-in form did not carry its security token; reload it and try again.")
    principal, reason = sign_in_method.principal(runtime, form)
    if principal is None:
        if reason in ("wrong_secret", "revoked", "not_a_person") and len(form.get("key", "")) < 200:
            runtime.audit.append("console.sign_in_refused", details={"reason": reason})
        return _back("/console/sign-in?failed=true")
    sessions = _sessions(runtime)
    sessions.end(request.cookies.get(COOKIE))  # a sign-in never continues an earlier session (no fixation)
    session_id, _ = sessions.start(principal)
    runtime.audit.append("console.signed_in", details={"key_id": principal.key_id, "name": principal.name})
    response = _back("/console/")
    response.set_cookie(COOKIE, session_id, max_age=runtime.settings.console_session_ttl_s, path="/console",
                        httponly=True, samesite="strict", secure=_secure(request, runtime))
    response.delete_cookie(SIGNIN_COOKIE, path="/console")
    return response


@router.post("/sign-out")
def sign_out(request: Request, runtime: RuntimeDep, session: SessionDep, form: FormDep) -> Response:
    _checked(session, form)
    _sessions(runtime).end(request.cookies.get(COOKIE))
    runtime.audit.append("console.signed_out", details={"key_id": session.principal.key_id})
    response = _back("/console/sign-in?msg=signed-out")
    response.delete_cookie(COOKIE, path="/console")
    return response


# --- overview ------------------------------------------------------------------------------------------

@router.get("")
def root() -> Response:
    return _back("/console/")


@router.get("/")
def overview_page(request: Request, runtime: RuntimeDep, session: SessionDep) -> HTMLResponse:
    _need(session, Scope.READ)
    rows, dead = all_rows(runtime.redis, runtime.keys)
    view = overview(rows, dead, utcnow())
    return _page(request, session, "overview.html", view=view, chart=Markup(days_left_svg(view.buckets)))  # noqa: S704


# --- the approval queue ---------------------------------------------------------------------------------

def identifiers(record: ErasureRecord, revealed: tuple[str, int] | None = None, value: str | None = None,
                ) -> list[tuple[str, int, str, bool]]:
    """(kind, position, shown, in clear) per identifier of the erasable identity: masked, but for the one
    revealed. A final request has none to show (its record keeps digests only)."""
    if record.state.is_final or record.scrubbed:
        return []
    identity = record.erasable_identity
    out = []
    for kind in ("emails", "phones", "names"):
        for n, item in enumerate(getattr(identity, kind)):
            clear = revealed == (kind, n) and value == item
            out.append((kind, n, item if clear else mask(kind, item), clear))
    return out


@router.get("/approvals")
def approvals_page(request: Request, runtime: RuntimeDep, session: SessionDep, page: PageQuery = 1,
                   msg: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    _need(session, Scope.READ)
    rows, _ = all_rows(runtime.redis, runtime.keys)
    waiting = awaiting_approval(rows)
    shown, pages = _paged(waiting, page)
    records, submitters = page_of(runtime.redis, runtime.keys, shown)
    key = runtime.settings.require_hmac_key()
    me = session.principal
    now = utcnow()
    items = []
    for record in records:
        submitter = submitters.get(record.submitted_by or "")
        own = record.submitted_by == me.key_id or (me.person is not None and submitter is not None
                                                   and submitter[1] == me.person)
        items.append({"record": record, "scope": current_scope(key, record), "ids": identifiers(record),
                      "submitter": submitter[0] if submitter else (record.submitted_by or "an operator door"),
                      "own": own, "due": describe(record, now)})
    return _page(request, session, "approvals.html", items=items, page=page, pages=pages, total=len(waiting),
                 message=MESSAGES.get(msg or ""))


@router.post("/requests/{ticket}/decide")
def decide(ticket: TicketPath, runtime: RuntimeDep, session: SessionDep, form: FormDep) -> Response:
    """Approve (bound to the scope digest the page showed) or reject (with a reason) through the API's code
    path; four eyes there too."""
    _checked(session, form)
    _need(session, Scope.APPROVE)
    me = session.principal
    try:
        if form.get("decision") == "approve":
            approve(runtime, ticket, me.name, key_id=me.key_id, via="console", scope=form.get("scope") or None,
                    person=me.person)
            return _back("/console/approvals?msg=approved")
        if form.get("decision") == "reject":
            reject(runtime, ticket, me.name, form.get("reason", ""), key_id=me.key_id, person=me.person)
            return _back("/console/approvals?msg=rejected")
    except ApprovalError as exc:
        raise ConsoleRefusal(exc.status, str(exc), session) from None
    raise ConsoleRefusal(422, "Choose approve or reject.", session)


# --- one request ----------------------------------------------------------------------------------------

def _request_page(request: Request, runtime: Runtime, session: Session, ticket: str,
                  revealed: tuple[str, int] | None = None, value: str | None = None) -> HTMLResponse:
    record = runtime.store.find_by_ticket(ticket)
    if record is None:
        raise ConsoleRefusal(404, "No request with this ticket.", session)
    with runtime.redis.pipeline(transaction=False) as pipe:
        pipe.lrange(runtime.keys.audit_log, 0, -1)
        pipe.get(runtime.keys.certificate(record.request_id))
        raw_entries, raw_cert = pipe.execute()
    timeline = [entry for entry in (json.loads(raw) for raw in raw_entries) if entry.get("request_id") == record.request_id]
    certificate = json.loads(raw_cert) if raw_cert is not None else None
    signature = signature_status(certificate, configured_public_key(runtime.settings)) if certificate else None
    me = session.principal
    key = runtime.settings.require_hmac_key()
    scope = None if record.state.is_final else current_scope(key, record)
    return _page(request, session, "request.html", record=record, timeline=timeline, certificate=certificate,
                 signature=signature, ids=identifiers(record, revealed, value), scope=scope,
                 due=describe(record, utcnow()), own=own_request(runtime, record, me.key_id, me.person))


@router.get("/requests/{ticket}")
def request_page(ticket: TicketPath, request: Request, runtime: RuntimeDep, session: SessionDep) -> HTMLResponse:
    _need(session, Scope.READ)
    return _request_page(request, runtime, session, ticket)


@router.post("/requests/{ticket}/reveal")
def reveal(ticket: TicketPath, request: Request, runtime: RuntimeDep, session: SessionDep, form: FormDep) -> HTMLResponse:
    """One identifier in clear, on this answer only; needs identifiers:reveal and is audited (by kind, never
    the value)."""
    _checked(session, form)
    _need(session, Scope.REVEAL)
    record = runtime.store.find_by_ticket(ticket)
    kind, position = form.get("kind", ""), form.get("position", "")
    if record is None or record.state.is_final or kind not in ("emails", "phones", "names") or not position.isdigit():
        raise ConsoleRefusal(404, "Nothing to reveal: the request is final (digests only) or has no such identifier.",
                             session)
    values = getattr(record.erasable_identity, kind)
    n = int(position)
    if n >= len(values):
        raise ConsoleRefusal(404, "No such identifier.", session)
    runtime.audit.append("console.identifier_revealed", request_id=record.request_id, subject=runtime.digest(record),
                         details={"key_id": session.principal.key_id, "by": session.principal.name, "kind": kind})
    return _request_page(request, runtime, session, ticket, (kind, n), values[n])


@router.get("/requests/{ticket}/certificate")
def certificate_page(ticket: TicketPath, runtime: RuntimeDep, session: SessionDep) -> HTMLResponse:
    _need(session, Scope.READ)
    raw, record = _certificate(runtime, session, ticket)
    page = render_certificate_html(json.loads(raw), public_key=configured_public_key(runtime.settings),
                                   delivered=deliveries(runtime.redis, runtime.keys, record.request_id))
    return HTMLResponse(page, headers=_CERTIFICATE_HEADERS)


@router.get("/requests/{ticket}/certificate.json")
def certificate_json(ticket: TicketPath, runtime: RuntimeDep, session: SessionDep) -> Response:
    """The certificate exactly as stored and signed: what a third party verifies."""
    _need(session, Scope.READ)
    raw, _ = _certificate(runtime, session, ticket)
    return Response(raw, media_type="application/json",
                    headers={**_HEADERS, "Content-Disposition": f'attachment; filename="{ticket}.json"'})


def _certificate(runtime: Runtime, session: Session, ticket: str) -> tuple[str, ErasureRecord]:
    record = runtime.store.find_by_ticket(ticket)
    raw = None if record is None else runtime.redis.get(runtime.keys.certificate(record.request_id))
    if record is None or raw is None:
        raise ConsoleRefusal(404, "No certificate for this ticket (yet: it is issued when the request is final).",
                             session)
    return str(raw), record


# --- legal holds ----------------------------------------------------------------------------------------

@router.get("/holds")
def holds_page(request: Request, runtime: RuntimeDep, session: SessionDep, page: PageQuery = 1,
               msg: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    _need(session, Scope.READ)
    shown, pages = _paged(list_holds(runtime), page)
    return _page(request, session, "holds.html", holds=shown, now=utcnow(), page=page, pages=pages,
                 message=MESSAGES.get(msg or ""))


@router.post("/holds")
def hold_add(runtime: RuntimeDep, session: SessionDep, form: FormDep) -> Response:
    """Add a hold through the CLI's code path (``services.registers.add_hold``), audited there."""
    _checked(session, form)
    _need(session, Scope.HOLDS)
    kind, value, reason = form.get("kind"), form.get("value", "").strip(), form.get("reason", "").strip()
    if kind not in ("conversation", "email", "phone") or not value or not reason:
        raise ConsoleRefusal(422, "Give what to hold (a conversation id, an email or a phone) and a reason.", session)
    expires = None
    if form.get("expires"):
        try:
            expires = datetime.fromisoformat(form["expires"]).replace(tzinfo=UTC)
        except ValueError:
            raise ConsoleRefusal(422, "expires: a date (YYYY-MM-DD).", session) from None
    try:
        add_hold(runtime, reason, conversation=value if kind == "conversation" else None,
                 email=value if kind == "email" else None, phone=value if kind == "phone" else None,
                 basis=form.get("basis", "").strip() or None, expires_at=expires)
    except Refused as exc:
        raise ConsoleRefusal(422, str(exc), session) from None
    return _back("/console/holds?msg=hold-added")


@router.post("/holds/{hold_id}/remove")
def hold_remove(hold_id: Annotated[str, Path(pattern=r"^[0-9a-f]{1,32}$")], runtime: RuntimeDep, session: SessionDep,
                form: FormDep) -> Response:
    _checked(session, form)
    _need(session, Scope.HOLDS)
    reason = form.get("reason", "").strip()
    if not reason:
        raise ConsoleRefusal(422, "Say why the hold is lifted.", session)
    try:
        remove_hold(runtime, hold_id, reason[:300])
    except NotFound:
        raise ConsoleRefusal(404, "No such hold.", session) from None
    return _back("/console/holds?msg=hold-removed")


# --- dead letters ----------------------------------------------------------------------------------------

@router.get("/dead-letters")
def dead_letters_page(request: Request, runtime: RuntimeDep, session: SessionDep, page: PageQuery = 1) -> HTMLResponse:
    _need(session, Scope.READ)
    shown, pages = _paged(sorted(dead_letters(runtime), key=lambda d: str(d.get("webhook_id"))), page)
    return _page(request, session, "dead_letters.html", letters=shown, replay=None, page=page, pages=pages)


@router.post("/dead-letters/replay")
def dead_letters_replay(request: Request, runtime: RuntimeDep, session: SessionDep, form: FormDep) -> HTMLResponse:
    """Replay every dead letter through the CLI's code path; the page shows what happened."""
    _checked(session, form)
    _need(session, Scope.REPLAY)
    try:
        outcome = replay_webhooks(runtime)
    except ConfigError as exc:
        raise ConsoleRefusal(409, f"Nothing can be replayed with this configuration: {exc}", session) from None
    runtime.audit.append("console.dead_letters_replayed", details={"key_id": session.principal.key_id,
                                                                  "delivered": outcome.delivered})
    shown, pages = _paged(sorted(dead_letters(runtime), key=lambda d: str(d.get("webhook_id"))), 1)
    return _page(request, session, "dead_letters.html", letters=shown, replay=outcome, page=1, pages=pages)
