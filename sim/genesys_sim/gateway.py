"""The platform's front door: correlation ids, bearer auth, rate limiting, fault injection and counters.

A pure ASGI middleware so it sees every answer (including errors raised by handlers) and can add the
`inin-ratelimit-*` and `ININ-Correlation-Id` headers to all `/api/v2` responses. It also records each
request under its route *template* so `/_sim/stats` reads like an API inventory, not a list of ids.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .error_body import error_body
from .organisation import OrgStore
from .rate_window import Verdict

API_PREFIX = "/api/v2"


def route_template(routes: Sequence[BaseRoute], scope: Scope) -> str:
    """The path template of the route serving this request, or the literal path when none does."""
    for route in routes:
        match, _ = route.matches(scope)
        if match != Match.NONE:
            return str(getattr(route, "path", scope["path"]))
    return str(scope["path"])


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            text = value.decode("latin-1").strip()
            if text.lower().startswith("bearer "):
                return text[7:].strip() or None
    return None


async def _send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


class Gateway:
    """Wraps the Starlette app; `routes` are the app's routes, used to name requests by template."""

    def __init__(self, app: ASGIApp, store: OrgStore, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.store = store
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/_sim"):
            await self.app(scope, receive, send)
            return
        cid = str(uuid.uuid4())
        scope.setdefault("state", {})["correlation_id"] = cid
        method: str = scope["method"]
        template = route_template(self.routes, scope)
        if not path.startswith(API_PREFIX):
            # /oauth/token and unknown paths: counted, never metered.
            await self._forward(scope, receive, send, method, template, {"ININ-Correlation-Id": cid})
            return

        token = _bearer(scope)
        if token is None or not self.store.token_valid(token):
            verdict = Verdict(
                allowed=True, count=0, limit=self.store.limiter.limit, reset_s=max(1, int(self.store.limiter.window_s))
            )
            headers = {**verdict.headers(), "ININ-Correlation-Id": cid}
            if token is None:
                body = error_body(401, None, cid, "authentication.required")
            else:
                body = error_body(401, "Invalid login credentials.", cid, "bad.credentials")
            self.store.record_request(method, template, 401)
            await _send_json(send, 401, body, headers)
            return

        verdict = self.store.limiter.hit(token)
        headers = {**verdict.headers(), "ININ-Correlation-Id": cid}
        if not verdict.allowed:
            self.store.record_request(method, template, 429)
            self.store.record_rate_limited()
            message = f"Rate limit exceeded the maximum. Retry the request in [{verdict.reset_s}] seconds"
            await _send_json(send, 429, error_body(429, message, cid), {**headers, "Retry-After": str(verdict.reset_s)})
            return

        fault = self.store.take_fault(method, template, path)
        if fault is not None:
            if fault.delay_s > 0:
                await asyncio.sleep(fault.delay_s)
            if fault.drop:
                self.store.record_request(method, template, 0)
                await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
                await send({"type": "http.response.body", "body": b"{", "more_body": True})
                # Returning mid-body makes uvicorn log one line and close the connection: the client sees
                # a dropped connection, as with a load balancer reset.
                return
            if fault.status is not None:
                extra = dict(headers)
                if fault.retry_after is not None:
                    extra["Retry-After"] = str(fault.retry_after)
                fault_message: str | None = None
                if fault.status == 429:
                    ra = fault.retry_after if fault.retry_after is not None else verdict.reset_s
                    extra["Retry-After"] = str(ra)
                    fault_message = f"Rate limit exceeded the maximum. Retry the request in [{ra}] seconds"
                self.store.record_request(method, template, fault.status)
                await _send_json(send, fault.status, error_body(fault.status, fault_message, cid), extra)
                return
        await self._forward(scope, receive, send, method, template, headers)

    async def _forward(
        self, scope: Scope, receive: Receive, send: Send, method: str, template: str, headers: dict[str, str]
    ) -> None:
        """Run the app, adding `headers` to its answer and counting the status it chose."""
        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        status_seen: list[int] = []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_seen.append(int(message["status"]))
                message = {**message, "headers": [*message.get("headers", []), *raw]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if status_seen:
                raise  # too late for a clean answer: the server drops the connection
            # A simulator bug must still look like a platform 500, not a bare text page.
            cid = str(scope.get("state", {}).get("correlation_id", ""))
            status_seen.append(500)
            await _send_json(send, 500, error_body(500, None, cid), headers)
        finally:
            self.store.record_request(method, template, status_seen[0] if status_seen else 500)
