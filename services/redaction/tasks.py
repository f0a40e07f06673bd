"""Redaction pool: read the subjects' message transcripts and find their data in them.

New identifiers the subject typed send the request back to discovery (at most
``MAX_ROUNDS`` times), so the GDPR request and the conversation scope cover them too. An approval a person
gave against a narrower scope then no longer lets the request through (``shared.approval_gate``). The message
ids read here are kept (ids only), so verification can read the same messages back with one bulk
call per conversation.
"""

from __future__ import annotations

import json

from services.redaction.scanner import scan_transcripts
from shared.approval_gate import release_if_approved
from shared.approval_scope import approval_holds
from shared.models import RequestKind, RequestState
from shared.pipeline import erasure_task, handing_on, isolated, load, moved_on, transition
from shared.runtime import Runtime
from shared.task_names import DELETE_TASK, DISCOVER_TASK, REDACT_TASK

MAX_ROUNDS = 2


@erasure_task(REDACT_TASK)
def scan(runtime: Runtime, request_ids: list[str]) -> None:
    client = runtime.genesys("redaction")
    # What a killed delivery of this batch moved on and never handed on goes with this delivery's own.
    approved_ids = moved_on(runtime, request_ids, RequestState.DELETING)
    rediscover = moved_on(runtime, request_ids, RequestState.DISCOVERING)
    with handing_on(DISCOVER_TASK, rediscover), handing_on(DELETE_TASK, approved_ids):
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
                # An approval counts only while it covers the scope as this round leaves it (an approval given
                # before discovery or an earlier round widened the identity does not: the gate supersedes it).
                scoped = record.model_copy(update={"sensitive_conversation_ids": result.sensitive_conversation_ids})
                # Every kind passes the gate: an access request deletes nothing, but hands the subject's data to
                # whoever reads its link, so a second person approves it as they would an erasure.
                approved = (not runtime.settings.require_approval
                            or approval_holds(runtime.settings.require_hmac_key(), scoped))
                next_state = RequestState.DELETING if approved else RequestState.AWAITING_APPROVAL
                transition(runtime, record.request_id, next_state, "redaction.completed",
                           details={**details, "approved": approved},
                           transcripts_scanned=result.messages, transcript_mentions=result.mentions,
                           message_ids=result.message_ids,
                           sensitive_conversation_ids=result.sensitive_conversation_ids)
                if approved:
                    approved_ids.append(record.request_id)
                else:
                    # Approved while we were deciding: released; or approved against another scope: superseded.
                    release_if_approved(runtime, record.request_id)

