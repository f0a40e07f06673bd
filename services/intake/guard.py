"""What a request body must be before anything parses it: JSON (415 otherwise), at most
ERASURE_API_MAX_BODY_BYTES (413, counted as it arrives, so a chunked body without a length is cut off
too), and nested at most ``MAX_DEPTH`` deep (400: a deeply nested document would otherwise reach the
parser's recursion limit and end as a 500).

Only the media type ``application/json`` is accepted: a web page can send ``text/plain`` or a form to
the intake without a CORS preflight, and neither may be taken for a request. The one exception is the web
console (``form_prefixes``): its pages post url-encoded forms, each checked against its session's CSRF token,
and its cookie is SameSite=Strict; it still gets the size limit. Query parameters a route does not declare
are refused too (``known_query_only``).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import HTTPException, Request
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_DEPTH = 32
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_LENIENT = frozenset({"/health"})  # routes that ignore unknown query parameters


def nesting_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text (brackets inside strings do not count)."""
    depth = deepest = 0
    for byte in _STRINGS.sub(b'""', body):
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


class BodyGuard:
    """ASGI middleware: refuse a body that is not JSON, too large or too deep, before the app reads it."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_depth: int = MAX_DEPTH,
                 form_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.form_prefixes = form_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if length is not None and not length.isdigit():
            await _refuse(400, "body: the Content-Length header is not a number", scope, receive, send)
            return
        if length is not None and int(length) > self.max_bytes:
            await _refuse(413, f"body: larger than {self.max_bytes} bytes", scope, receive, send)
            return
        has_body = chunked or (length is not None and int(length) > 0)
        content_type = headers.get("content-type")
        if str(scope.get("path", "")).startswith(self.form_prefixes) and _is_form(content_type):
            await self._limited(scope, receive, send)
            return
        if (has_body or content_type is not None) and not _is_json(content_type):
            await _refuse(415, "body: send application/json (UTF-8)", scope, receive, send)
            return
        if not has_body:
            await self.app(scope, receive, send)
            return
        body = await self._read(scope, receive, send)
        if body is None:
            return
        if nesting_depth(body) > self.max_depth:
            await _refuse(400, f"body: nested deeper than {self.max_depth} levels", scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A console form: read whole, at most ``max_bytes`` (no JSON nesting to check)."""
        body = await self._read(scope, receive, send)
        if body is not None:
            await self.app(scope, _replay(body, receive), send)

    async def _read(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The whole body, at most ``max_bytes``; None when the client left or the body was refused (413)."""
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await _refuse(413, f"body: larger than {self.max_bytes} bytes", scope, receive, send)
                return None
            if not message.get("more_body", False):
                return bytes(body)


def _is_form(content_type: str | None) -> bool:
    return content_type is not None and content_type.partition(";")[0].strip().lower() == \
        "application/x-www-form-urlencoded"


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return False
    media, _, params = content_type.partition(";")
    if media.strip().lower() != "application/json":
        return False
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then whatever the server says next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(status: int, error: str, scope: Scope, receive: Receive, send: Send) -> None:
    await JSONResponse({"errors": [error]}, status_code=status)(scope, receive, send)


def known_query_only(request: Request) -> None:
    """An app-wide dependency: a query parameter the route does not declare is 422, as an unknown body
    field is (a typo such as ``?sate=failed`` must not silently widen a list to every request). The name
    is not repeated: like a body's keys, it may be a value. ``/health`` (a probe's, perhaps with a
    cache-buster) is exempt."""
    route = request.scope.get("route")
    if getattr(route, "path", None) in _LENIENT:
        return
    dependant = getattr(route, "dependant", None)
    unknown = set(request.query_params) - (_query_names(dependant) if dependant is not None else set())
    if unknown:
        raise HTTPException(422, "query: an unknown parameter (its name is not repeated); see /openapi.json")


def _query_names(dependant: Any) -> set[str]:
    names = {str(field.alias) for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names
