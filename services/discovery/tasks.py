"""Discovery pool: resolve the whole identity, then find the conversations that hold it.

Read-only against the platform, so a redelivered task simply does the work again.
"""

from __future__ import annotations

from services.discovery.conversations import default_interval, find_conversations
from services.discovery.identity import resolve_identity
from shared.celery_app import app
from shared.models import RequestState, utcnow
from shared.pipeline import erasure_task, transition
from shared.runtime import Runtime

REDACT_TASK = "erasure.redaction.scan"


@erasure_task("erasure.discovery.discover")
def discover(runtime: Runtime, request_id: str) -> None:
    record = runtime.store.get(request_id)
    if record.state not in (RequestState.RECEIVED, RequestState.DISCOVERING):
        return  # already past discovery: a duplicate delivery
    if record.state is RequestState.RECEIVED:
        transition(runtime, request_id, RequestState.DISCOVERING, "discovery.started")

    client = runtime.genesys("discovery")
    settings = runtime.settings
    resolved = resolve_identity(client, record.subject, max_rounds=settings.identity_max_rounds,
                                max_identifiers=settings.identity_max_identifiers)
    if record.window:
        start, end = record.window.start, record.window.end
    else:
        start, end = default_interval(record.verified_at, settings.discovery_lookback_days, utcnow())
    conversations = find_conversations(client, resolved.subject, start, end)
    message_ids = [c.conversation_id for c in conversations if "message" in c.media_types()]

    transition(
        runtime, request_id, RequestState.REDACTING, "discovery.completed",
        details={
            "identifiers": len(resolved.subject.values()),
            "added_by_source": dict(resolved.added_by_source),
            "rounds": resolved.rounds,
            "truncated": resolved.truncated,
            "conversations": len(conversations),
        },
        identity=resolved.subject,
        identity_sources=dict(resolved.added_by_source),
        conversation_ids=[c.conversation_id for c in conversations],
        message_conversation_ids=message_ids,
    )
    app.send_task(REDACT_TASK, args=[request_id])
