"""Assemble the simulated organisation into one Starlette app."""

from __future__ import annotations

from typing import Literal

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from . import admin, analytics, external_contacts, gdpr, message_conversations, oauth, protection, recording_routes, users
from .config import SimConfig
from .error_body import genesys_error
from .gateway import Gateway
from .gdpr_export import routes as gdpr_export_routes
from .organisation import OrgStore


async def _not_found(request: Request, exc: Exception) -> Response:
    """Unknown paths answer like the platform (ErrorBody), not with Starlette's text page."""
    if request.url.path.startswith("/_sim"):
        return JSONResponse({"error": "not found"}, status_code=404)
    return genesys_error(request, 404, f"No resource found for {request.method} {request.url.path}.")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return genesys_error(request, 405, "HTTP method not allowed.", "method.not.allowed")


# What one app serves: "both" (one host, the simulator's historical shape and the SDK's plain-host case),
# "api" (the API host: no token endpoint, as api.<region> has none) or "login" (only the token endpoint).
Serves = Literal["both", "api", "login"]


def create_app(config: SimConfig, store: OrgStore | None = None, serves: Serves = "both") -> Starlette:
    """A Starlette app serving one seeded organisation; its store is at `app.state.store`.

    Two apps given the same `store` are one organisation on two hosts: a token the login app issues is
    valid on the API app."""
    store = store or OrgStore(config)
    root = Route("/", lambda request: JSONResponse({"simulator": "genesys-erasure", "docs": "/_sim/stats"}))
    login: list[BaseRoute] = [*oauth.routes(store)] if serves != "api" else []
    api: list[BaseRoute] = [
        *gdpr.routes(store),
        *analytics.routes(store),
        *external_contacts.routes(store),
        *message_conversations.routes(store),
        *recording_routes.routes(store),
        *protection.routes(store),
        *users.routes(store),
        *gdpr_export_routes(store),
    ] if serves != "login" else []
    routes: list[BaseRoute] = [root, *login, *api, *admin.routes(store)]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(Gateway, store=store, routes=routes)],
        exception_handlers={404: _not_found, 405: _not_allowed},
    )
    app.state.store = store
    return app
