"""Legal holds (list, add, lift, with reasons and expiries) and webhook dead letters (list, replay), through
the CLI's code paths (``services.registers``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.console.web import (
    MESSAGES,
    ConsoleRefusal,
    FormDep,
    PageQuery,
    RuntimeDep,
    SessionDep,
    back,
    checked,
    need,
    paged,
    render,
    router,
)
from services.registers import (
    NotFound,
    Refused,
    add_hold,
    dead_letters,
    list_holds,
    parse_expiry,
    remove_hold,
    replay_webhooks,
)
from shared.api_keys import Scope
from shared.config import ConfigError
from shared.models import utcnow


@router.get("/holds")
def holds_page(request: Request, runtime: RuntimeDep, session: SessionDep, page: PageQuery = 1,
               msg: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    need(session, Scope.READ)
    shown, pages = paged(list_holds(runtime), page)
    return render(request, session, "holds.html", holds=shown, now=utcnow(), page=page, pages=pages,
                 message=MESSAGES.get(msg or ""))


@router.post("/holds")
def hold_add(runtime: RuntimeDep, session: SessionDep, form: FormDep) -> Response:
    """Add a hold through the CLI's code path (``services.registers.add_hold``), audited there."""
    checked(session, form)
    need(session, Scope.HOLDS)
    kind, value, reason = form.get("kind"), form.get("value", "").strip(), form.get("reason", "").strip()
    if kind not in ("conversation", "email", "phone") or not value or not reason:
        raise ConsoleRefusal(422, "Give what to hold (a conversation id, an email or a phone) and a reason.", session)
    try:
        expires = parse_expiry(form["expires"]) if form.get("expires", "").strip() else None
        add_hold(runtime, reason, conversation=value if kind == "conversation" else None,
                 email=value if kind == "email" else None, phone=value if kind == "phone" else None,
                 basis=form.get("basis", "").strip() or None, expires_at=expires,
                 by=session.principal.name, key_id=session.principal.key_id)
    except Refused as exc:
        raise ConsoleRefusal(422, str(exc), session) from None
    return back("/console/holds?msg=hold-added")


@router.post("/holds/{hold_id}/remove")
def hold_remove(hold_id: Annotated[str, Path(pattern=r"^[0-9a-f]{1,32}$")], runtime: RuntimeDep, session: SessionDep,
                form: FormDep) -> Response:
    checked(session, form)
    need(session, Scope.HOLDS)
    reason = form.get("reason", "").strip()
    if not reason:
        raise ConsoleRefusal(422, "Say why the hold is lifted.", session)
    try:
        remove_hold(runtime, hold_id, reason, by=session.principal.name, key_id=session.principal.key_id)
    except NotFound:
        raise ConsoleRefusal(404, "No such hold.", session) from None
    return back("/console/holds?msg=hold-removed")



@router.get("/dead-letters")
def dead_letters_page(request: Request, runtime: RuntimeDep, session: SessionDep, page: PageQuery = 1) -> HTMLResponse:
    need(session, Scope.READ)
    shown, pages = paged(sorted(dead_letters(runtime), key=lambda d: str(d.get("webhook_id"))), page)
    return render(request, session, "dead_letters.html", letters=shown, replay=None, page=page, pages=pages)


@router.post("/dead-letters/replay")
def dead_letters_replay(request: Request, runtime: RuntimeDep, session: SessionDep, form: FormDep) -> HTMLResponse:
    """Replay every dead letter through the CLI's code path; the page shows what happened."""
    checked(session, form)
    need(session, Scope.REPLAY)
    need(session, Scope.READ)  # the page lists every dead letter: what the list page needs too
    try:
        outcome = replay_webhooks(runtime)
    except ConfigError as exc:
        raise ConsoleRefusal(409, f"Nothing can be replayed with this configuration: {exc}", session) from None
    runtime.audit.append("console.dead_letters_replayed", details={"key_id": session.principal.key_id,
                                                                  "delivered": outcome.delivered})
    shown, pages = paged(sorted(dead_letters(runtime), key=lambda d: str(d.get("webhook_id"))), 1)
    return render(request, session, "dead_letters.html", letters=shown, replay=outcome, page=1, pages=pages,
                  path="/console/dead-letters")  # the page links go to the list (this path takes POST only)

