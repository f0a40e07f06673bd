"""The data lake's lag: what an async details job cannot have seen, asked with the synchronous query.

An async job answers from a data lake that reaches only up to ``dataAvailabilityDate`` (SDK model doc;
``GET .../details/jobs/availability``); conversations newer than that, often the very ones behind an
erasure request, are not in its results. The synchronous query is real-time, so the gap from that date to
the interval's end is asked with it (in windows it accepts). The gap starts ``overlap`` before the date:
a conversation that started before the date and ended after it is in neither the lake nor a query over
the gap alone (the sync query matches conversations that *started* in its interval).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.discovery.conversations import query_conversations
from services.discovery.details_jobs import answer_details_job, parse_availability
from shared.genesys import GenesysClient
from shared.genesys.models import AnalyticsConversation
from shared.runtime import Runtime

log = logging.getLogger("erasure.discovery.lag")


def gap_interval(available_until: datetime | None, start: datetime, end: datetime,
                 overlap: timedelta) -> tuple[datetime, datetime] | None:
    """The part of [start, end) a job reading the lake up to ``available_until`` may have missed, or None.

    Unknown availability means nothing in the job's answer is vouched for: the whole interval is the gap."""
    if available_until is None:
        return start, end
    gap_start = max(start, available_until - overlap)
    return (gap_start, end) if gap_start < end else None


def merge(from_job: list[AnalyticsConversation],
          from_gap: list[AnalyticsConversation]) -> list[AnalyticsConversation]:
    """Both answers, each conversation once; the real-time read wins (it may show the end the job lacks)."""
    found = {c.conversation_id: c for c in from_job}
    found.update({c.conversation_id: c for c in from_gap})
    return list(found.values())


class LakeReach:
    """How far the data lake reaches, read from the availability endpoint at most once (one batch)."""

    def __init__(self, client: GenesysClient) -> None:
        self._client = client
        self._read = False
        self._value: datetime | None = None

    def __call__(self) -> datetime | None:
        if not self._read:
            self._value = parse_availability(self._client.get_details_job_availability())
            self._read = True
        return self._value


@dataclass
class Found:
    conversations: list[AnalyticsConversation]
    only_in_gap: set[str]  # ids the job did not return and the real-time query over the gap did


def find_with_job(runtime: Runtime, client: GenesysClient, predicates: list[dict[str, str]], start: datetime,
                  end: datetime, reach: Callable[[], datetime | None]) -> Found:
    """Every conversation in [start, end) matching a predicate: the jobs for what the lake holds, the sync
    query for the gap after it. The jobs' own ``dataAvailabilityDate`` is what they saw; the endpoint
    (``reach``) is read only when no page of theirs said."""
    settings = runtime.settings
    answer = answer_details_job(runtime, client, predicates, start, end)
    available_until = answer.available_until or reach()
    gap = gap_interval(available_until, start, end, timedelta(seconds=settings.data_lag_overlap_s))
    if gap is None:
        return Found(answer.conversations, set())
    recent = query_conversations(client, predicates, gap[0], gap[1], max_days=settings.sync_query_max_days)
    known = {c.conversation_id for c in answer.conversations}
    only = {c.conversation_id for c in recent} - known
    log.info("details job saw the data lake up to %s; the gap after it (%.1f h) added %d conversation(s) "
             "to the job's %d", available_until.isoformat() if available_until else "an unknown date",
             (gap[1] - gap[0]).total_seconds() / 3600, len(only), len(known))
    return Found(merge(answer.conversations, recent), only)
