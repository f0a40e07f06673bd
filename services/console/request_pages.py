"""One request: its timeline from the audit log, platform ids, withheld records, verification and
certificate (HTML view, JSON download, signature status); identifiers masked, one revealed by an audited
POST needing identifiers:reveal; a final request shows its subject digest only."""

from __future__ import annotations

import json

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from services.console.masking import shown_identifiers
from services.console.sessions import Session
from services.console.web import (
    CERTIFICATE_HEADERS,
    HEADERS,
    ConsoleRefusal,
    FormDep,
    RuntimeDep,
    SessionDep,
    TicketPath,
    checked,
    need,
    render,
    router,
)
from services.intake.approve import own_request
from shared.api_keys import Scope
from shared.approval_scope import current_scope
from shared.certificate_html import render_certificate_html, signature_status
from shared.certificate_signing import configured_public_key
from shared.certificate_store import deliveries
from shared.deadlines import describe
from shared.models import ErasureRecord, utcnow
from shared.runtime import Runtime


def _request_view(request: Request, runtime: Runtime, session: Session, ticket: str,
                  revealed: tuple[str, int] | None = None, value: str | None = None) -> HTMLResponse:
    record = runtime.store.find_by_ticket(ticket)
    if record is None:
        raise ConsoleRefusal(404, "No request with this ticket.", session)
    timeline = runtime.audit.entries_of(record.request_id, record.received_at)
    if timeline is None:  # received before the audit log was indexed by request: the whole log, once
        timeline = runtime.audit.entries_for(record.request_id)
    raw_cert = runtime.redis.get(runtime.keys.certificate(record.request_id))
    certificate = json.loads(raw_cert) if raw_cert is not None else None
    signature = signature_status(certificate, configured_public_key(runtime.settings)) if certificate else None
    me = session.principal
    key = runtime.settings.require_hmac_key()
    scope = None if record.state.is_final else current_scope(key, record)
    return render(request, session, "request.html", record=record, timeline=timeline, certificate=certificate,
                 signature=signature, ids=shown_identifiers(record, revealed, value), scope=scope,
                 due=describe(record, utcnow()), own=own_request(runtime, record, me.key_id, me.person))


@router.get("/requests/{ticket}")
def request_page(ticket: TicketPath, request: Request, runtime: RuntimeDep, session: SessionDep) -> HTMLResponse:
    need(session, Scope.READ)
    return _request_view(request, runtime, session, ticket)


@router.post("/requests/{ticket}/reveal")
def reveal(ticket: TicketPath, request: Request, runtime: RuntimeDep, session: SessionDep, form: FormDep) -> HTMLResponse:
    """One identifier in clear, on this answer only; needs identifiers:reveal and is audited (by kind, never
    the value). It needs requests:read too: the answer is the whole request page."""
    checked(session, form)
    need(session, Scope.REVEAL)
    need(session, Scope.READ)  # the answer is the whole request page, which needs requests:read
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
    return _request_view(request, runtime, session, ticket, (kind, n), values[n])


@router.get("/requests/{ticket}/certificate")
def certificate_page(ticket: TicketPath, runtime: RuntimeDep, session: SessionDep) -> HTMLResponse:
    need(session, Scope.READ)
    raw, record = _certificate(runtime, session, ticket)
    page = render_certificate_html(json.loads(raw), public_key=configured_public_key(runtime.settings),
                                   delivered=deliveries(runtime.redis, runtime.keys, record.request_id))
    return HTMLResponse(page, headers=CERTIFICATE_HEADERS)


@router.get("/requests/{ticket}/certificate.json")
def certificate_json(ticket: TicketPath, runtime: RuntimeDep, session: SessionDep) -> Response:
    """The certificate exactly as stored and signed: what a third party verifies."""
    need(session, Scope.READ)
    raw, _ = _certificate(runtime, session, ticket)
    return Response(raw, media_type="application/json",
                    headers={**HEADERS, "Content-Disposition": f'attachment; filename="{ticket}.json"'})


def _certificate(runtime: Runtime, session: Session, ticket: str) -> tuple[str, ErasureRecord]:
    record = runtime.store.find_by_ticket(ticket)
    raw = None if record is None else runtime.redis.get(runtime.keys.certificate(record.request_id))
    if record is None or raw is None:
        raise ConsoleRefusal(404, "No certificate for this ticket (yet: it is issued when the request is final).",
                             session)
    return str(raw), record


