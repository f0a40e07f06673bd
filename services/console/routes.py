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

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

# The page modules register their routes on ``web.router`` when imported.
from services.console import queue_pages, register_pages, request_pages, session_pages
from services.console.web import ConsoleRefusal, SignInRequired, render, router

PAGES = (session_pages, queue_pages, request_pages, register_pages)


def install(app: FastAPI) -> None:
    """Serve the console from ``app`` under ``/console``."""
    app.include_router(router)
    app.add_exception_handler(SignInRequired, _to_sign_in)
    app.add_exception_handler(ConsoleRefusal, _refused)


async def _to_sign_in(_: Request, __: Exception) -> Response:
    return RedirectResponse("/console/sign-in", status_code=303, headers={"Cache-Control": "no-store"})


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleRefusal)
    return render(request, exc.session, "refused.html", status=exc.status, message=exc.message)


