"""Redaction pool: read the subjects' message transcripts and find their data in them.

New identifiers the subject typed send the request back to discovery (at most
``MAX_ROUNDS`` times), so the GDPR request and the conversation scope cover them too. An approval a person
gave against a narrower scope then no longer lets the request through (``shared.approval_gate``). The message
ids read here are kept (ids only), so verification can read the same messages back with one bulk
call per conversation. With review before delete (``wants_review``) a request goes from here to REVIEWING:
the deletion pool submits the platform's export of the subject, and the polling pool takes it to the gate.
"""

from __future__ import annotations

import json

from services.redaction.scanner import scan_transcripts
from shared.approval_gate import to_gate
from shared.models import ErasureRecord, RecordChanges, RequestKind, RequestState
from shared.pipeline import erasure_task, handing_on, isolated, load, moved_on, transition
from shared.runtime import Runtime
from shared.task_names import DELETE_TASK, DISCOVER_TASK, REDACT_TASK, REVIEW_EXPORT_TASK

MAX_ROUNDS = 2


@erasure_task(REDACT_TASK)
def scan(runtime: Runtime, request_ids: list[str]) -> None:
    client = runtime.genesys("redaction")
    # What a killed delivery of this batch moved on and never handed on goes with this delivery's own.
    approved_ids = moved_on(runtime, request_ids, RequestState.DELETING)
    rediscover = moved_on(runtime, request_ids, RequestState.DISCOVERING)
    reviewing = moved_on(runtime, request_ids, RequestState.REVIEWING)
    with handing_on(DISCOVER_TASK, rediscover), handing_on(DELETE_TASK, approved_ids), \
            handing_on(REVIEW_EXPORT_TASK, reviewing):
        for record in load(runtime, request_ids, RequestState.REDACTING):
            with isolated(runtime, record, "redaction"):
                identity = record.effective_identity
                result = scan_transcripts(client, identity, record.message_conversation_ids)
                if record.kind is not RequestKind.ACCESS:  # an access request keeps nothing of the subject's data
                    # Until the request is final (shared.retention deletes it then), and never past the TTL.
                    runtime.redis.set(runtime.keys.transcript(record.request_id), json.dumps(result.redacted),
                                      ex=runtime.settings.transcript_ttl_s)
                details = {"messages_scanned": result.messages, "mentions": result.mentions,
                           "new_identifiers": len(result.new_identifiers.values()),
                           "sensitive_conversations": len(result.sensitive_conversation_ids)}
                if not result.new_identifiers.is_empty() and record.redaction_rounds < MAX_ROUNDS:
                    # Back to discovery with the wider identity: its conversations and records too.
                    transition(runtime, record.request_id, RequestState.DISCOVERING, "redaction.identifiers_found",
                               details=details, subject=record.subject.merge(result.new_identifiers),
                               identity=None, redaction_rounds=record.redaction_rounds + 1)
                    rediscover.append(record.request_id)
                    continue
                changes: RecordChanges = {
                    "transcripts_scanned": result.messages, "transcript_mentions": result.mentions,
                    "message_ids": result.message_ids, "sensitive_conversation_ids": result.sensitive_conversation_ids}
                if wants_review(runtime, record):
                    # Review before delete: the platform's own export of the subject first, then the gate.
                    transition(runtime, record.request_id, RequestState.REVIEWING, "redaction.completed",
                               details={**details, "review_export": True}, **changes)
                    reviewing.append(record.request_id)
                    continue
                # An approval counts only while it covers the scope as this round leaves it (an approval given
                # before discovery or an earlier round widened the identity does not: the gate supersedes it).
                if to_gate(runtime, record, "redaction.completed", details, **changes):
                    approved_ids.append(record.request_id)


def wants_review(runtime: Runtime, record: ErasureRecord) -> bool:
    """Review before delete, for this request or for every one (``ERASURE_REVIEW_EXPORT``); never for an
    access request (its export is the request itself) nor a purge's release of held conversations."""
    if record.kind is RequestKind.ACCESS or record.recording_round > 0:
        return False
    return record.review_export or runtime.settings.review_export
