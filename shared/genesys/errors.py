"""Errors from the Genesys Cloud API, each saying what the caller should do.

    GenesysError                 (a ``shared.errors.ErasureError``)
    ├── AuthenticationError      401: credentials wrong or token revoked; renew the token
    ├── PermissionDenied         403: the OAuth client lacks a permission (named when the platform says)
    ├── NotFound                 404: gone; for a delete this is success
    ├── Conflict                 409: something blocks the change (e.g. a legal hold)
    ├── BadRequest               400: our request is wrong; do not retry
    │   └── InvalidPathId        an id no platform id looks like ('', '.', '..', a '/'): refused before
    │                            any call, so it cannot name another resource; do not retry
    ├── RateLimited              429: wait ``retry_after_s`` (all workers pause through the limiter);
    │                            also a ``RunLater``: the pipeline sends the work again after that
    ├── JobSlotsFull             400 or 429 "too many jobs" on a job submission: only this work waits
    │                            for a slot (a ``RunLater``); nobody else pauses
    ├── ServerError              5xx: retry with backoff
    └── TransportError           no answer at all (timeout, connection refused)

Messages carry the status, the platform's error code and correlation id, never the request or
response body: those may echo personal data.
"""

from __future__ import annotations

from shared.errors import ErasureError, RunLater


class GenesysError(ErasureError):
    status: int = 0

    def __init__(self, message: str, *, status: int = 0, code: str | None = None,
                 correlation_id: str | None = None) -> None:
        super().__init__(message)
        self.status = status or self.status
        self.code = code
        self.correlation_id = correlation_id


class AuthenticationError(GenesysError):
    status = 401


class PermissionDenied(GenesysError):
    status = 403


class NotFound(GenesysError):
    status = 404


class Conflict(GenesysError):
    status = 409


class BadRequest(GenesysError):
    status = 400


class InvalidPathId(BadRequest, ValueError):
    """An id that is not a platform id's shape, refused before it goes into a URL path: an empty one would
    name the collection (``/api/v2/users/``), ``..`` the resource above. A ``BadRequest`` (never retried: the
    request it belongs to fails, alone); a ``ValueError`` for callers that check their input that way. The
    message never repeats the id."""


class RateLimited(RunLater, GenesysError):
    status = 429

    def __init__(self, message: str, *, retry_after_s: float, code: str | None = None,
                 correlation_id: str | None = None) -> None:
        # RunLater's __init__ hands ``message`` on to GenesysError's (the next class of this one's MRO).
        super().__init__(retry_after_s, "the platform answered 429", message=message)
        self.code = code
        self.correlation_id = correlation_id
        self.retry_after_s = retry_after_s


#: The shortest wait for a job slot (the platform's 400 form of "too many jobs" says nothing of when).
MIN_SLOT_WAIT_S = 2.0


class JobSlotsFull(RunLater, GenesysError):
    """The platform refused a job because its concurrent jobs are all taken: a slot wait for this work only.

    Not a ``RateLimited``: the request budget is fine, so no other worker has reason to pause.
    """

    def __init__(self, message: str, *, status: int, retry_after_s: float, code: str | None = None,
                 correlation_id: str | None = None) -> None:
        # A 400 refusal carries no Retry-After: a floor keeps the wait from becoming a tight loop.
        super().__init__(max(retry_after_s, MIN_SLOT_WAIT_S), "the platform's job slots are full", message=message)
        self.status = status
        self.code = code
        self.correlation_id = correlation_id
        self.retry_after_s = retry_after_s


class ServerError(GenesysError):
    pass


class TransportError(GenesysError):
    pass


_BY_STATUS: dict[int, type[GenesysError]] = {
    400: BadRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
}


def error_for_status(status: int) -> type[GenesysError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return GenesysError
