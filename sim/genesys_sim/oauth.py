"""`POST /oauth/token`: the client-credentials grant of the login host.

The SDK posts here after rewriting `//api.` to `//login.` in its host. On the platform that is a host of its
own; started with a login port (`server.start_in_thread(login_port=...)`, `--login-port`) the simulator
serves this route there alone and its API port answers it 404. Without one, a plain `http://127.0.0.1:PORT`
host (which nothing rewrites) serves both, for the SDK's plain-host case.
"""

from __future__ import annotations

import base64
import binascii
from functools import partial
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .organisation import OrgStore


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "description": description, "error_description": description}, status_code=status)


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


async def token(store: OrgStore, request: Request) -> JSONResponse:
    """The client-credentials grant: a bearer token for the configured client id and secret."""
    # Parsed by hand: Starlette's form parser needs python-multipart, which the project does not ship.
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    grant = str(form.get("grant_type") or "")
    creds = _basic_credentials(request)
    if creds is None and form.get("client_id"):
        creds = (str(form.get("client_id")), str(form.get("client_secret") or ""))
    if creds is None:
        return _oauth_error(401, "invalid_client", "client authentication required")
    if creds != (store.config.client_id, store.config.client_secret):
        return _oauth_error(401, "invalid_client", "client not found")
    if grant != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", f"grant type {grant or '(none)'} is not supported")
    return JSONResponse(
        {
            "access_token": store.issue_token(),
            "token_type": "bearer",
            "expires_in": store.config.token_ttl_s,
        }
    )


def routes(store: OrgStore) -> list[Route]:
    return [Route("/oauth/token", partial(token, store), methods=["POST"])]
