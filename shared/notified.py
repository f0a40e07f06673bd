"""A downstream target took a request's final event: said in the audit log and beside the certificate.

Shared by the polling pool (first delivery) and the operator's replay of dead letters (the CLI, the
console), so the replay does not reach into a pool to record what it did."""

from __future__ import annotations

from shared.certificate_store import record_delivery
from shared.runtime import Runtime
from shared.webhooks import target_label


def mark_notified(runtime: Runtime, request_id: str, target: str) -> None:
    """Record a delivery in the audit log and beside the certificate (never in it: it is signed)."""
    record_delivery(runtime.redis, runtime.keys, request_id, target_label(target))
    runtime.audit.append("webhook.delivered", request_id=request_id, details={"target": target_label(target)})
