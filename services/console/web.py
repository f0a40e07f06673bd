"""What every console page shares: the router under ``/console``, the templates, the session and scope
checks, the CSRF check of a form, the page headers (a strict CSP), pagination, and the static files.

Every page but sign-in needs a session (``sessions``); without one, every URL, GET or POST, answers 303 to
the sign-in page (``SignInRequired``, turned into that answer by ``routes.install``). A form is checked for
its session's CSRF token (``checked``) before anything is read or written.
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from services.console.sessions import COOKIE, Session, SessionStore, csrf_ok
from services.console.signin import ApiKeySignIn, SignIn
from services.intake.auth import current_runtime
from services.intake.http_models import TICKET_PATTERN
from shared.api_keys import Scope
from shared.runtime import Runtime

T = TypeVar("T")
PAGE_SIZE = 25
MAX_FORM_BYTES = 8 * 1024
SIGNIN_COOKIE = "erasure_console_signin"
STATIC = {"console.css": "text/css", "console.js": "text/javascript"}
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
}
#: The certificate page is the shared renderer's document, with its own inline style and no script.
CERTIFICATE_HEADERS = {**HEADERS, "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
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


# --- sessions, scopes and forms --------------------------------------------------------------------

def session_store(runtime: Runtime) -> SessionStore:
    return SessionStore(runtime.redis, runtime.keys, runtime.settings.console_session_ttl_s)


def signed_in(request: Request, runtime: RuntimeDep) -> Session:
    session = session_store(runtime).load(request.cookies.get(COOKIE))
    if session is None:
        raise SignInRequired
    return session


SessionDep = Annotated[Session, Depends(signed_in)]


def need(session: Session, scope: Scope) -> None:
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


def checked(session: Session, form: dict[str, str]) -> None:
    """Refuse a form without its session's CSRF token before it does anything."""
    if not csrf_ok(session, form.get("csrf")):
        raise ConsoleRefusal(403, "The form did not carry this session's security token; reload the page and try again.",
                             session)


def render(request: Request, session: Session | None, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page of ``template``; ``path`` (the page links' base) is the request's unless the context names
    another (a POST answered with the page a GET would show)."""
    principal = session.principal if session else None
    html = templates.get_template(template).render(
        principal=principal, csrf=session.csrf if session else "", scopes=Scope,
        can=(lambda scope: principal is not None and principal.allows(scope)), **{"path": request.url.path, **context})
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def paged(items: list[T], page: int) -> tuple[list[T], int]:
    """One page of ``items`` (``PAGE_SIZE`` a page) and how many pages there are."""
    return items[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], max(1, -(-len(items) // PAGE_SIZE))


def back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
FORWARDED = ("forwarded", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host")


def secure(request: Request, runtime: Runtime) -> bool:
    """Whether the console's cookies are Secure: always over https; over plain http too unless the setting
    opts out, or the request went straight to a loopback host (local development and tests: a browser
    would not send a Secure cookie back over http). A request a proxy forwarded (it says so in a
    forwarding header) is never taken for a local one, whatever Host it names."""
    if request.url.scheme == "https":
        return True
    if not runtime.settings.console_cookie_secure:
        return False
    local = request.url.hostname in LOOPBACK and not any(h in request.headers for h in FORWARDED)
    return not local


# --- static ------------------------------------------------------------------------------------------

@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in STATIC:
        return Response(status_code=404)
    body = resources.files("services.console").joinpath("static", name).read_bytes()
    return Response(body, media_type=STATIC[name], headers={"Cache-Control": "max-age=3600",
                                                            "X-Content-Type-Options": "nosniff"})


