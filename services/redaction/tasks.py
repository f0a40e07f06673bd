"""Redaction pool: read the subjects' message transcripts and find their data in them.

The message ids read here are kept (ids only), so verification can read the same messages back
with one bulk call per conversation.
"""

from __future__ import annotations

from shared.celery_app import app
from shared.models import RequestState
from shared.pipeline import erasure_task, isolated, load, transition
from shared.runtime import Runtime

DELETE_TASK = "erasure.deletion.erase"


@erasure_task("erasure.redaction.scan")
def scan(runtime: Runtime, request_ids: list[str]) -> None:
    client = runtime.genesys("redaction")
    approved_ids: list[str] = []
    for record in load(runtime, request_ids, RequestState.REDACTING):
        with isolated(runtime, record, "redaction"):
            known = {v.lower() for v in record.effective_identity.values() if v}
            scanned = mentions = 0
            message_ids: dict[str, list[str]] = {}
            for conversation_id in record.message_conversation_ids:
                conversation = client.get_message_conversation(conversation_id)
                if conversation is None:
                    continue
                message_ids[conversation_id] = conversation.message_ids()
                for message in client.get_messages_bulk(conversation_id, message_ids[conversation_id]):
                    scanned += 1
                    text = message.text.lower()
                    mentions += sum(text.count(value) for value in known)
            approved = record.approval is not None or not runtime.settings.require_approval
            next_state = RequestState.DELETING if approved else RequestState.AWAITING_APPROVAL
            transition(runtime, record.request_id, next_state, "redaction.completed",
                       details={"messages_scanned": scanned, "mentions": mentions, "approved": approved},
                       transcripts_scanned=scanned, transcript_mentions=mentions, message_ids=message_ids)
            if approved:
                approved_ids.append(record.request_id)
    if approved_ids:
        app.send_task(DELETE_TASK, args=[approved_ids])
