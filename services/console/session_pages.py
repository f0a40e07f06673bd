"""Sign-in and sign-out: the sign-in form carries a token double-submitted in a cookie (there is no session
yet); a sign-in starts a new session and ends any earlier one of the browser; sign-out ends it in Redis."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response

from services.console.sessions import COOKIE, tokens_match
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


@router.get("/sign-in")
def sign_in_form(request: Request, runtime: RuntimeDep,
                 msg: Annotated[str | None, Query(max_length=20)] = None, failed: Annotated[bool, Query()] = False,
                 ) -> HTMLResponse:
    """The sign-in form; its token is set as a cookie too (no session yet: a double-submitted token)."""
    token = secrets.token_urlsafe(32)
    page = render(request, None, "sign_in.html", signin_token=token, failed=failed, message=MESSAGES.get(msg or ""))
    page.set_cookie(SIGNIN_COOKIE, token, max_age=600, path="/console", httponly=True, samesite="strict",
                    secure=secure(request, runtime))
    return page


@router.post("/sign-in")
def sign_in(request: Request, runtime: RuntimeDep, form: FormDep) -> Response:
    expected = request.cookies.get(SIGNIN_COOKIE)
    if not tokens_match(expected or "", form.get("csrf")):
        raise ConsoleRefusal(403, "The sign-in form did not carry its security token; reload it and try again.")
    attempt = sign_in_method.attempt(runtime, form)
    principal = attempt.principal
    if principal is None:
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


@router.post("/sign-out")
def sign_out(request: Request, runtime: RuntimeDep, session: SessionDep, form: FormDep) -> Response:
    checked(session, form)
    session_store(runtime).end(request.cookies.get(COOKIE))
    runtime.audit.append("console.signed_out", details={"key_id": session.principal.key_id})
    response = back("/console/sign-in?msg=signed-out")
    response.delete_cookie(COOKIE, path="/console")
    return response


