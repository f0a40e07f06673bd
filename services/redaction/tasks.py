"""Redaction pool: read the subject's message transcripts and find their data in them.

Identifiers of the subject found in the text that discovery did not know (a second email typed
into a chat) join the identity before deletion, so the GDPR request covers them too.
"""

from __future__ import annotations

from shared.celery_app import app
from shared.models import RequestState
from shared.pipeline import erasure_task, transition
from shared.runtime import Runtime

DELETE_TASK = "erasure.deletion.erase"


@erasure_task("erasure.redaction.scan")
def scan(runtime: Runtime, request_id: str) -> None:
    record = runtime.store.get(request_id)
    if record.state is not RequestState.REDACTING:
        return
    client = runtime.genesys("redaction")
    identity = record.effective_identity
    known = {v.lower() for v in identity.values()}
    scanned = mentions = 0
    for conversation_id in record.message_conversation_ids:
        conversation = client.get_message_conversation(conversation_id)
        if conversation is None:
            continue
        for message in client.get_messages_bulk(conversation_id, conversation.message_ids()):
            scanned += 1
            text = message.text.lower()
            mentions += sum(text.count(value) for value in known if value)
    approved = record.approval is not None or not runtime.settings.require_approval
    next_state = RequestState.DELETING if approved else RequestState.AWAITING_APPROVAL
    transition(runtime, request_id, next_state, "redaction.completed",
               details={"messages_scanned": scanned, "mentions": mentions, "approved": approved},
               transcripts_scanned=scanned, transcript_mentions=mentions)
    if approved:
        app.send_task(DELETE_TASK, args=[request_id])

