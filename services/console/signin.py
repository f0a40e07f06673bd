"""How a person proves who they are to the console: the seam an OIDC sign-in plugs into later.

Today a person pastes their own API key (one made with ``erasure keys create NAME --person``); a service's
key (an upstream system's) is refused, so a leaked integration key does not open the console. An OIDC
provider would implement ``SignIn`` with a redirect and a callback and yield the same ``Principal``;
sessions, CSRF and scopes stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.api_keys import ApiKeyStore, Principal
from shared.metrics import API_AUTH_FAILURES
from shared.runtime import Runtime


@dataclass(frozen=True)
class Attempt:
    """A sign-in's outcome: the person, or why not (a metric label, never a secret) and which key it named."""

    principal: Principal | None
    reason: str
    key_id: str | None = None


class SignIn(Protocol):
    def attempt(self, runtime: Runtime, form: dict[str, str]) -> Attempt:
        """Who the form proves to be, or why not."""
        ...


class ApiKeySignIn:
    """A person's own API key, typed into the sign-in form (field ``key``)."""

    def attempt(self, runtime: Runtime, form: dict[str, str]) -> Attempt:
        verdict = ApiKeyStore(runtime.redis, runtime.keys).verify(form.get("key", "").strip() or None)
        if verdict.principal is None:
            API_AUTH_FAILURES.labels(f"console_{verdict.reason}").inc()
            return Attempt(None, verdict.reason, verdict.key_id)
        if not verdict.principal.is_person:
            API_AUTH_FAILURES.labels("console_not_a_person").inc()
            return Attempt(None, "not_a_person", verdict.key_id)
        return Attempt(verdict.principal, "ok", verdict.key_id)
