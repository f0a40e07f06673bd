"""Who is calling the HTTP intake: ``authenticated(scope)``, the one dependency every endpoint but
``/health`` takes. It yields a ``Principal`` from a bearer API key (``shared.api_keys``); an OIDC/JWT
verifier can later yield the same ``Principal`` here and nothing else changes.

A missing, malformed, unknown, wrong or revoked key is 401 with ``WWW-Authenticate: Bearer``; a key
without the scope is 403. Every refusal is counted (``erasure_api_auth_failures_total`` by reason) and
logged; those that name an existing key (a wrong secret, a revoked key, a missing scope) are audited
by key id, at most once a minute per key and reason. The key itself is never logged or audited; anonymous
noise is only counted and logged, so a flood of bad requests cannot grow the audit log without bound.

Each key has a rate limit (ERASURE_API_RATE_PER_MINUTE, burst ERASURE_API_RATE_BURST): a GCRA bucket per
key id in Redis (``shared.ratelimit``, the limiter the workers use for the platform), shared by every API
process. A call past it is 429 with Retry-After (the exact wait, rounded up), counted and logged by key
id; a refused call still costs nothing more than a key check.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.api_keys import ApiKeyStore, Principal, Scope
from shared.metrics import API_AUTH_FAILURES, API_RATE_LIMITED
from shared.ratelimit import BucketConfig, RateLimiter
from shared.runtime import Runtime, get_runtime

log = logging.getLogger("erasure.intake.auth")

bearer = HTTPBearer(auto_error=False, scheme_name="ApiKey",
                    description="an API key from `erasure keys create NAME --scope ...` (ek_...)")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="erasure-intake"'}


def current_runtime() -> Runtime:
    """The process's runtime (a dependency, so tests can give their own)."""
    return get_runtime()


def authenticated(scope: Scope | None) -> Callable[..., Principal]:
    """A dependency yielding the caller's ``Principal``; with ``scope``, only one allowed it."""

    def principal(request: Request, runtime: Runtime = Depends(current_runtime),  # noqa: B008
                  credentials: HTTPAuthorizationCredentials | None = Security(bearer)) -> Principal:  # noqa: B008
        token = credentials.credentials if credentials is not None else None
        verdict = ApiKeyStore(runtime.redis, runtime.keys).verify(token)
        route = _route(request)
        if verdict.principal is None:
            _refused(runtime, verdict.reason, verdict.key_id, route, audited=verdict.reason in ("wrong_secret", "revoked"))
            raise HTTPException(401, "authorization: a valid API key is required (Authorization: Bearer ek_...)",
                                headers=_CHALLENGE)
        _within_rate(runtime, verdict.principal, route)
        if scope is not None and not verdict.principal.allows(scope):
            _refused(runtime, "scope", verdict.key_id, route, audited=True, scope=scope.value)
            raise HTTPException(403, f"authorization: this key lacks the scope {scope.value}")
        return verdict.principal

    return principal


def _within_rate(runtime: Runtime, principal: Principal, route: str) -> None:
    """Take one call from the key's bucket, or refuse with 429 and how long to wait."""
    settings = runtime.settings
    config = BucketConfig(rate_per_s=settings.api_rate_per_minute / 60, burst=settings.api_rate_burst)
    bucket = f"{runtime.keys.prefix}:api:{principal.key_id}"
    decision = RateLimiter(runtime.redis, bucket, config).try_acquire("api")
    if decision.granted:
        return
    API_RATE_LIMITED.labels(route).inc()
    log.warning("intake API rate-limited a key: key_id=%s route=%s", principal.key_id, route)
    retry_after = max(1, math.ceil(decision.wait_s))
    raise HTTPException(429, f"rate: more than {settings.api_rate_per_minute:g} calls a minute (burst "
                        f"{settings.api_rate_burst}) from this key; retry after {retry_after} s",
                        headers={"Retry-After": str(retry_after)})


def _route(request: Request) -> str:
    """The route template (``/requests/{ticket}``), so a log line carries no path values."""
    route = request.scope.get("route")
    return str(getattr(route, "path", "")) or "unmatched"


def _refused(runtime: Runtime, reason: str, key_id: str | None, route: str, *, audited: bool,
             scope: str | None = None) -> None:
    API_AUTH_FAILURES.labels(reason).inc()
    log.warning("intake API refused a call: reason=%s key_id=%s route=%s", reason, key_id or "-", route)
    # Key ids are not secret (certificates name the approving one): a flood of wrong secrets for one id
    # is audited once a minute, counted and logged every time.
    if audited and key_id and runtime.redis.set(runtime.keys.api_key_refusal(key_id, reason), 1, nx=True, ex=60):
        details = {"reason": reason, "key_id": key_id, "route": route}
        if scope:
            details["scope"] = scope
        runtime.audit.append("api.auth_refused", details=details)
