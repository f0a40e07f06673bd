"""Sign-in and sign-out: the sign-in form carries a token double-submitted in a cookie (there is no session
yet); a client with too many failed sign-ins is refused for a while (``throttle``); a sign-in starts a new
session and ends any earlier one of the browser; sign-out ends it in Redis."""

from __future__ import annotations

import logging
import secrets
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response

from services.console.sessions import COOKIE, tokens_match
from services.console.throttle import SignInThrottle, Throttled, client_address
from services.console.web import (
    MESSAGES,
    SIGNIN_COOKIE,
    ConsoleRefusal,
    FormDep,
    RuntimeDep,
    SessionDep,
    back,
    checked,
    render,
    router,
    secure,
    session_store,
    sign_in_method,
)
from shared.metrics import API_AUTH_FAILURES
from shared.runtime import Runtime

log = logging.getLogger("erasure.console")


@router.get("/sign-in")
def sign_in_form(request: Request, runtime: RuntimeDep,
                 msg: Annotated[str | None, Query(max_length=20)] = None, failed: Annotated[bool, Query()] = False,
                 ) -> HTMLResponse:
    """The sign-in form; its token is set as a cookie too (no session yet: a double-submitted token)."""
    return _form(request, runtime, failed=failed, message=MESSAGES.get(msg or ""))


def _form(request: Request, runtime: Runtime, status: int = 200, **context: Any) -> HTMLResponse:
    """The sign-in page with a new form token, in the page and in its cookie."""
    token = secrets.token_urlsafe(32)
    page = render(request, None, "sign_in.html", status=status, signin_token=token, **context)
    page.set_cookie(SIGNIN_COOKIE, token, max_age=600, path="/console", httponly=True, samesite="strict",
                    secure=secure(request, runtime))
    return page


@router.post("/sign-in")
def sign_in(request: Request, runtime: RuntimeDep, form: FormDep) -> Response:
    expected = request.cookies.get(SIGNIN_COOKIE)
    if not tokens_match(expected or "", form.get("csrf")):
        raise ConsoleRefusal(403, "The sign-in form did not carry its security token; reload it and try again.")
    # Too many failures from this client: refused before any key is looked at (services.console.throttle).
    # A Redis error here is the app's 503 with Retry-After, as everywhere (nothing is decided without it).
    throttle = SignInThrottle(runtime.redis, runtime.keys, runtime.settings)
    client = throttle.client(client_address(request))
    throttled = throttle.check(client)
    if throttled is not None:
        return _throttled(request, runtime, throttle, client, throttled)
    attempt = sign_in_method.attempt(runtime, form)
    principal = attempt.principal
    if principal is None:
        throttle.failed(client)
        # Refusals naming an existing key are audited by its id, once a minute per key and reason (as the
        # API's): a flood of wrong secrets cannot grow the audit log without bound. Never the key itself.
        key_id = attempt.key_id
        if (attempt.reason in ("wrong_secret", "revoked", "not_a_person") and key_id
                and runtime.redis.set(runtime.keys.api_key_refusal(key_id, f"console_{attempt.reason}"), 1,
                                      nx=True, ex=60)):
            runtime.audit.append("console.sign_in_refused", details={"reason": attempt.reason, "key_id": key_id})
        return back("/console/sign-in?failed=true")
    sessions = session_store(runtime)
    sessions.end(request.cookies.get(COOKIE))  # a sign-in never continues an earlier session (no fixation)
    session_id, _ = sessions.start(principal)
    runtime.audit.append("console.signed_in", details={"key_id": principal.key_id, "name": principal.name})
    response = back("/console/")
    response.set_cookie(COOKIE, session_id, max_age=runtime.settings.console_session_ttl_s, path="/console",
                        httponly=True, samesite="strict", secure=secure(request, runtime))
    response.delete_cookie(SIGNIN_COOKIE, path="/console")
    return response


def _throttled(request: Request, runtime: Runtime, throttle: SignInThrottle, client: str,
               throttled: Throttled) -> HTMLResponse:
    """429 and the sign-in page saying how long to wait (Retry-After too). Counted and logged every time,
    audited once a minute per client (as refusals by key are): never the address, its digest, or a key."""
    API_AUTH_FAILURES.labels("console_throttled").inc()
    log.warning("console sign-in throttled a client: failures=%d retry_after_s=%d", throttled.failures,
                throttled.retry_after_s)
    if throttle.first_this_minute(client):
        runtime.audit.append("console.sign_in_throttled", details={
            "reason": "too_many_failures", "failures": throttled.failures, "window_s": throttle.window_s})
    page = _form(request, runtime, status=429, throttled_s=throttled.retry_after_s)
    page.headers["Retry-After"] = str(throttled.retry_after_s)
    return page


@router.post("/sign-out")
def sign_out(request: Request, runtime: RuntimeDep, session: SessionDep, form: FormDep) -> Response:
    checked(session, form)
    session_store(runtime).end(request.cookies.get(COOKIE))
    runtime.audit.append("console.signed_out", details={"key_id": session.principal.key_id})
    response = back("/console/sign-in?msg=signed-out")
    response.delete_cookie(COOKIE, path="/console")
    return response


