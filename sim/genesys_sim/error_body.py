"""The platform's error answers.

Every Platform API error carries the same body (SDK model `ErrorBody`): message, code, status, contextId
(the correlation id), details and errors. OAuth errors use the OAuth 2 shape instead.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

ERROR_CODES = {
    400: "bad.request",
    401: "authentication.required",
    403: "missing.any.permissions",
    404: "not.found",
    409: "conflict",
    429: "too.many.requests.retry.after",
    500: "internal.server.error",
    502: "bad.gateway",
    503: "service.unavailable",
    504: "gateway.timeout",
}
DEFAULT_MESSAGES = {
    400: "The request could not be understood by the server due to malformed syntax.",
    401: "No authentication bearer token specified in authorization header.",
    404: "The requested resource was not found.",
    500: "The server encountered an unexpected condition which prevented it from fulfilling the request.",
    502: "The server received an invalid response from an upstream server.",
    503: "Service Unavailable - The server is currently unavailable (because it is overloaded or down for maintenance).",
    504: "The server did not receive a timely response from an upstream server.",
}


def error_body(status: int, message: str | None, context_id: str, code: str | None = None) -> dict[str, Any]:
    """The normalised `ErrorBody` dict."""
    return {
        "message": message or DEFAULT_MESSAGES.get(status, "Error"),
        "code": code or ERROR_CODES.get(status, "error"),
        "status": status,
        "contextId": context_id,
        "details": [],
        "errors": [],
    }


def correlation_id(request: Request) -> str:
    """The correlation id the gateway middleware assigned to this request."""
    return str(request.scope.get("state", {}).get("correlation_id", ""))


def genesys_error(request: Request, status: int, message: str | None = None, code: str | None = None) -> JSONResponse:
    """An error answer in the platform's shape."""
    return JSONResponse(error_body(status, message, correlation_id(request), code), status_code=status)


def jobs_full(request: Request, form: str, message: str, retry_after_s: int) -> JSONResponse:
    """A "too many jobs" refusal in the configured form (`SimConfig.job_slots_refusal`).

    "400": a bad request whose code names the cap. Otherwise the 429 every throttled call gets (the
    normalised body and Retry-After); the gateway's rate-limit headers still show budget left.
    """
    if form == "400":
        return genesys_error(request, 400, message, "too.many.jobs")
    resp = genesys_error(request, 429, message, ERROR_CODES[429])
    resp.headers["Retry-After"] = str(max(1, retry_after_s))
    return resp
