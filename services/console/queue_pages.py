"""The overview and the approval queue, and the decision on a request: approve (bound to the scope digest
the page showed) or reject with a reason, through the API's code path (``services.intake.approve``), four
eyes included."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from services.console.chart import days_left_svg
from services.console.masking import shown_identifiers
from services.console.reads import all_rows, awaiting_approval, overview, page_of
from services.console.web import (
    MESSAGES,
    ConsoleRefusal,
    FormDep,
    PageQuery,
    RuntimeDep,
    SessionDep,
    TicketPath,
    back,
    checked,
    need,
    paged,
    render,
    router,
)
from services.intake.approve import ApprovalError, approve, reject
from shared.api_keys import Scope, same_person
from shared.approval_scope import current_scope
from shared.deadlines import describe
from shared.models import utcnow


@router.get("")
def root() -> Response:
    return back("/console/")


@router.get("/")
def overview_page(request: Request, runtime: RuntimeDep, session: SessionDep) -> HTMLResponse:
    need(session, Scope.READ)
    rows, dead = all_rows(runtime.redis, runtime.keys)
    view = overview(rows, dead, utcnow())
    return render(request, session, "overview.html", view=view, chart=Markup(days_left_svg(view.buckets)))  # noqa: S704



@router.get("/approvals")
def approvals_page(request: Request, runtime: RuntimeDep, session: SessionDep, page: PageQuery = 1,
                   msg: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    need(session, Scope.READ)
    rows, _ = all_rows(runtime.redis, runtime.keys)
    waiting = awaiting_approval(rows)
    shown, pages = paged(waiting, page)
    records, submitters = page_of(runtime.redis, runtime.keys, shown)
    key = runtime.settings.require_hmac_key()
    me = session.principal
    now = utcnow()
    items = []
    for record in records:
        submitter = submitters.get(record.submitted_by or "")
        own = record.submitted_by == me.key_id or (submitter is not None and same_person(submitter[1], me.person))
        items.append({"record": record, "scope": current_scope(key, record), "ids": shown_identifiers(record),
                      "submitter": submitter[0] if submitter else (record.submitted_by or "an operator door"),
                      "own": own, "due": describe(record, now)})
    return render(request, session, "approvals.html", items=items, page=page, pages=pages, total=len(waiting),
                 message=MESSAGES.get(msg or ""))


@router.post("/requests/{ticket}/decide")
def decide(ticket: TicketPath, runtime: RuntimeDep, session: SessionDep, form: FormDep) -> Response:
    """Approve (bound to the scope digest the page showed) or reject (with a reason) through the API's code
    path; four eyes there too."""
    checked(session, form)
    need(session, Scope.APPROVE)
    me = session.principal
    try:
        if form.get("decision") == "approve":
            scope = form.get("scope", "").strip()
            if not scope:  # without it the approval would bind to whatever the scope is now, not what was shown
                raise ConsoleRefusal(422, "The approval did not carry the scope the page showed; reload the page "
                                          "and approve again.", session)
            approve(runtime, ticket, me.name, key_id=me.key_id, via="console", scope=scope, person=me.person)
            return back("/console/approvals?msg=approved")
        if form.get("decision") == "reject":
            reject(runtime, ticket, me.name, form.get("reason", ""), key_id=me.key_id, person=me.person)
            return back("/console/approvals?msg=rejected")
    except ApprovalError as exc:
        raise ConsoleRefusal(exc.status, str(exc), session) from None
    raise ConsoleRefusal(422, "Choose approve or reject.", session)


