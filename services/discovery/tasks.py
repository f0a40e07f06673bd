"""Discovery pool: resolve each subject's whole identity, then find the conversations that hold it.

A batch of requests shares its analytics queries. Read-only against the platform, so a
redelivered batch simply does the work again. A subject with a conversation still in progress
is looked at again later rather than erased half-way.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from services.discovery.conversations import (
    SYNC_WINDOW_DAYS,
    assign,
    default_interval,
    predicates_for,
    query_conversations,
)
from services.discovery.data_lag import LakeReach, find_with_job
from services.discovery.identity import ResolvedIdentity, resolve_identities
from shared.genesys import GenesysClient
from shared.genesys.models import AnalyticsConversation
from shared.identifiers import phone_digits
from shared.lanes import send_ids
from shared.models import ErasureRecord, RequestState, Subject, utcnow
from shared.pipeline import erasure_task, handing_on, isolated, load, moved_on, transition
from shared.runtime import Runtime
from shared.task_names import DISCOVER_TASK, REDACT_TASK


@erasure_task(DISCOVER_TASK)
def discover(runtime: Runtime, request_ids: list[str]) -> None:
    records = load(runtime, request_ids, RequestState.RECEIVED, RequestState.DISCOVERING)
    client = runtime.genesys("discovery")
    settings = runtime.settings
    resolved: dict[str, tuple[ErasureRecord, ResolvedIdentity]] = {}
    unresolved: dict[str, ErasureRecord] = {}
    for record in records:
        with isolated(runtime, record, "discovery"):
            if record.state is RequestState.RECEIVED:
                transition(runtime, record.request_id, RequestState.DISCOVERING, "discovery.started")
            if record.identity is not None:  # resolved before this task was rescheduled
                identity = ResolvedIdentity(subject=record.identity, added_by_source=Counter(record.identity_sources))
                resolved[record.request_id] = (record, identity)
            else:
                unresolved[record.request_id] = record

    def keep(request_id: str, identity: ResolvedIdentity) -> None:
        # Stored as each subject finishes: a retry of this batch starts from it, not from scratch.
        runtime.store.update(request_id, identity=identity.subject, identity_sources=dict(identity.added_by_source))
        resolved[request_id] = (unresolved[request_id], identity)

    resolve_identities(client, {rid: r.subject for rid, r in unresolved.items()},
                       max_rounds=settings.identity_max_rounds, max_identifiers=settings.identity_max_identifiers,
                       guard=lambda rid: isolated(runtime, unresolved[rid], "discovery"), on_resolved=keep)

    now = utcnow()
    groups: dict[tuple[datetime, datetime], dict[str, Subject]] = defaultdict(dict)
    for request_id, (record, identity) in resolved.items():
        interval = ((record.window.start, record.window.end) if record.window
                    else default_interval(now, settings.discovery_lookback_days, now))
        groups[interval][request_id] = identity.subject
    found: dict[str, list[AnalyticsConversation]] = {}
    after_lake: set[str] = set()  # found only by the real-time query over the data lake's lag
    reach = LakeReach(client)  # the lake's availability, read once per batch at most
    for (start, end), subjects in groups.items():
        predicates = [p for subject in subjects.values() for p in predicates_for(subject)]
        if end - start > timedelta(days=settings.sync_query_max_days):
            with_job = find_with_job(runtime, client, predicates, start, end, reach)
            conversations = with_job.conversations
            after_lake |= with_job.only_in_gap
        else:
            conversations = query_conversations(client, predicates, start, end,
                                                max_days=settings.sync_query_max_days)
        found.update(assign(conversations, subjects))

    ready = moved_on(runtime, request_ids, RequestState.REDACTING)  # a killed delivery moved, never handed on
    with handing_on(REDACT_TASK, ready):
        for request_id, (record, identity) in resolved.items():
            with isolated(runtime, record, "discovery"):
                conversations = found.get(request_id, [])
                excluded = reassigned_numbers(client, record, identity.subject, now,
                                              max_days=settings.sync_query_max_days)
                if _still_active(runtime, record, conversations):
                    continue
                transition(
                    runtime, request_id, RequestState.REDACTING, "discovery.completed",
                    details={
                        "identifiers": len(identity.subject.values()),
                        "added_by_source": dict(identity.added_by_source),
                        "rounds": identity.rounds,
                        "truncated": identity.truncated,
                        "conversations": len(conversations),
                        "found_after_data_lag": sum(1 for c in conversations if c.conversation_id in after_lake),
                        "excluded_identifiers": len(excluded.values()),
                    },
                    identity=identity.subject,
                    identity_sources=dict(identity.added_by_source),
                    excluded=excluded if not excluded.is_empty() else None,
                    conversation_ids=[c.conversation_id for c in conversations],
                    message_conversation_ids=[c.conversation_id for c in conversations if "message" in c.media_types()],
                    active_conversation_ids=[],
                )
                ready.append(request_id)


def _still_active(runtime: Runtime, record: ErasureRecord, conversations: list[AnalyticsConversation]) -> bool:
    """A conversation without an end is still going on: look again later, erase nothing yet."""
    active = [c.conversation_id for c in conversations if not c.conversation_end]
    if not active:
        return False
    if record.discovery_attempts >= runtime.settings.active_max_revisits:
        waited_h = record.discovery_attempts * runtime.settings.active_revisit_s / 3600
        transition(runtime, record.request_id, RequestState.FAILED, "discovery.active_too_long",
                   details={"active_conversations": len(active), "revisits": record.discovery_attempts},
                   reason=f"{len(active)} conversation(s) of the subject were still in progress after {waited_h:.0f} h "
                          "of revisits; nothing was erased: end or disconnect them in Genesys Cloud, then "
                          "resubmit under a new ticket")
        return True
    now = utcnow()
    if record.last_revisit_at is not None and (now - record.last_revisit_at).total_seconds() < \
            runtime.settings.active_revisit_s / 2:
        return True  # another delivery (a resume, a rerun) looked just now and scheduled the next look
    # The next look is sent before it is recorded: a worker killed in between leaves a redelivery that
    # sends it again (one look too many, skipped by the guard above), never a request nobody looks at.
    send_ids(DISCOVER_TASK, [record.request_id], lane=record.lane, countdown=runtime.settings.active_revisit_s)
    runtime.store.update(record.request_id, active_conversation_ids=active,
                         discovery_attempts=record.discovery_attempts + 1, last_revisit_at=now)
    runtime.audit.append("discovery.waiting_for_active_conversations", request_id=record.request_id,
                         subject=runtime.digest(record),
                         details={"active_conversations": len(active), "revisit_in_s": runtime.settings.active_revisit_s})
    return True


def reassigned_numbers(client: GenesysClient, record: ErasureRecord, identity: Subject, now: datetime, *,
                       max_days: int = SYNC_WINDOW_DAYS) -> Subject:
    """Phone numbers someone else uses after the request's window: keep them out of the GDPR request.

    The GDPR API erases a value everywhere, with no date bound; sending a recycled number would
    erase its next owner's conversations too. The window's end may be years ago: the query is asked in
    windows of ``max_days``, which the synchronous query accepts.
    """
    if record.window is None or not identity.phones or record.window.end >= now:
        return Subject()
    later = query_conversations(client, predicates_for(Subject(phones=identity.phones)), record.window.end, now,
                                max_days=max_days)
    reused: list[str] = []
    for phone in identity.phones:
        digits = phone_digits(phone)
        for conversation in later:
            values = [phone_digits(v) for v in conversation.identifying_values()]
            if digits in values:
                reused.append(phone)
                break
    return Subject(phones=reused)
