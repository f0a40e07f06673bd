"""How a person proves who they are to the console: the seam an OIDC sign-in plugs into later.

Today a person pastes their own API key (one made with ``erasure keys create NAME --person``); a service's
key (an upstream system's) is refused, so a leaked integration key does not open the console. An OIDC
provider would implement ``SignIn`` with a redirect and a callback and yield the same ``Principal``;
sessions, CSRF and scopes stay as they are.
"""

from __future__ import annotations

from typing import Protocol

from shared.api_keys import ApiKeyStore, Principal
from shared.metrics import API_AUTH_FAILURES
from shared.runtime import Runtime


class SignIn(Protocol):
    def principal(self, runtime: Runtime, form: dict[str, str]) -> tuple[Principal | None, str]:
        """The person the form proves, or None and why (a metric label, never a secret)."""
        ...


class ApiKeySignIn:
    """A person's own API key, typed into the sign-in form (field ``key``)."""

    def principal(self, runtime: Runtime, form: dict[str, str]) -> tuple[Principal | None, str]:
        verdict = ApiKeyStore(runtime.redis, runtime.keys).verify(form.get("key", "").strip() or None)
        if verdict.principal is None:
            API_AUTH_FAILURES.labels(f"console_{verdict.reason}").inc()
            return None, verdict.reason
        if not verdict.principal.is_person:
            API_AUTH_FAILURES.labels("console_not_a_person").inc()
            return None, "not_a_person"
        return verdict.principal, "ok"
