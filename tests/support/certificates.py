"""A request's certificate issued as the polling pool issues it (signed with the runtime's key), for tests
of what is built from it (the final event)."""

from __future__ import annotations

from typing import Any

from shared.certificate_store import issue


def signed_certificate(runtime: Any, request_id: str, ticket: str, **fields: Any) -> dict[str, Any]:
    """Store and return a signed certificate of ``request_id`` (an erasure, completed, unless ``fields`` say)."""
    certificate = {"request_id": request_id, "ticket": ticket, "kind": "erase", "outcome": "completed",
                   "subject_digest": "sha256:" + "0" * 64, "deadline_met": True, **fields}
    return issue(runtime.redis, runtime.keys, runtime.settings.require_signer(), certificate)
