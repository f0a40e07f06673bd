"""The body of a request's final event, built from its stored certificate (never from anything else in Redis).

The first send (``services.polling.tasks.deliver``) and a replay of a parked event build it the same way:
``event_body`` of the certificate, and for an access request its download links while they work. A
replay first checks the stored certificate's Ed25519 signature with the deployment's public key
(``verified_event``): a dead letter is something anyone with Redis access could write, so what a replay
signs for the receivers is only what this deployment signed as the request's certificate.
"""

from __future__ import annotations

import json
from typing import Any

import redis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.certificate_signing import verify
from shared.export_links import read_links
from shared.keys import Keys
from shared.models import RequestKind

#: What a final event tells downstream of the certificate: ids, outcome and digests, never personal data.
EVENT_FIELDS = ("ticket", "request_id", "kind", "subject_digest", "outcome", "completed_at", "deadline_met",
                "audit_chain_head")


class EventRefused(Exception):
    """No event can be built that this deployment vouches for; the message says why (no URL, no data)."""


def event_body(certificate: dict[str, Any]) -> dict[str, Any]:
    """The event's fields of the certificate."""
    return {"event": "erasure.final", **{k: certificate.get(k) for k in EVENT_FIELDS}}


def export_event(client: redis.Redis, keys: Keys, request_id: str, certificate: dict[str, Any]) -> dict[str, Any]:
    """An access request's download links and their expiry, for the signed event only (read from their
    expiring key: none once expired). Never parked: a dead letter outlives the links."""
    export = certificate.get("export")
    if certificate.get("kind") != RequestKind.ACCESS.value or not isinstance(export, dict) or not export:
        return {}
    links = read_links(client, keys, request_id)
    return {"export": {"gdpr_request_id": export.get("gdpr_request_id"), "results_urls": links or [],
                       "expires_at": export.get("link_expires_at"), "expired": links is None}}


def final_event(client: redis.Redis, keys: Keys, request_id: str, certificate: dict[str, Any]) -> dict[str, Any]:
    """The whole event for ``certificate``: its fields and, for an access request, its links."""
    return {**event_body(certificate), **export_event(client, keys, request_id, certificate)}


def verified_event(client: redis.Redis, keys: Keys, request_id: str,
                   public_key: Ed25519PublicKey | None) -> dict[str, Any]:
    """The event rebuilt from the request's stored certificate once its signature verifies with
    ``public_key`` and it is this request's; raises ``EventRefused`` otherwise (no certificate, no key to
    check it with, a signature that does not verify, another request's certificate)."""
    if public_key is None:
        raise EventRefused("no signing key configured (ERASURE_SIGNING_KEY or _FILE): the certificate cannot be checked")
    raw = client.get(keys.certificate(request_id))
    if raw is None:
        raise EventRefused("the request has no certificate: there is no final event to send")
    verdict = verify(str(raw), public_key)
    if not verdict.valid:
        raise EventRefused(f"its certificate does not verify ({verdict.reason.split(':', 1)[0]})")
    certificate: dict[str, Any] = json.loads(str(raw))
    if certificate.get("request_id") != request_id:
        raise EventRefused("the certificate stored for the request is another request's")
    return final_event(client, keys, request_id, certificate)
