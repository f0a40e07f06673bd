"""Request metrics of the intake API: count, latency and status by route template (ASGI middleware).

The label is the matched route's template (``/requests/{ticket}``), never the path sent: tickets are
not personal data, but a label value per ticket would grow the metrics without bound. A path no route
matches is ``unmatched``. Outermost, so refusals of the body guard (413/415/400) and the rate limit
(429) are counted as well as the handlers' answers; an exception that escapes counts as a 500.

Each process keeps its own counters (``GET /metrics`` shows the process answering); run one uvicorn
worker per container, or aggregate with Prometheus's multiprocess mode.
"""

from __future__ import annotations

import time

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.metrics import API_REQUEST_SECONDS, API_REQUESTS

UNMATCHED = "unmatched"
# Any token is a method to the server: others are counted as "other", or a caller could mint label values.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_template(routes: list[BaseRoute], scope: Scope) -> str:
    """The template of the route ``scope`` goes to (a full match, or a partial one: a wrong method)."""
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(getattr(route, "path", UNMATCHED))
        if match is Match.PARTIAL and partial is None:
            partial = str(getattr(route, "path", UNMATCHED))
    return partial or UNMATCHED


class RequestMetrics:
    """Counts and times every HTTP call by method, route template and status."""

    def __init__(self, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = route_template(self.routes, scope)
        method = scope["method"] if scope["method"] in _METHODS else "other"
        status = 500
        started = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            API_REQUESTS.labels(method, route, str(status)).inc()
            API_REQUEST_SECONDS.labels(method, route).observe(time.perf_counter() - started)
