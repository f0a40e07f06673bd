"""Long intervals through the async conversation details jobs (submit, wait, cursor-paged results).

A batch's predicates are split over as few jobs as the platform's per-filter predicate limit allows
(one filter of hundreds of OR-ed predicates is refused). Each job id is kept in Redis under a
fingerprint of its query, so a task that hands its worker back while the platform works
(``RunLater``) finds the same jobs when it runs again instead of starting others.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.errors import RunLater
from shared.genesys import GenesysClient, ServerError
from shared.genesys.models import AnalyticsConversation
from shared.runtime import Runtime

JOB_POLL_S = 0.5
RESULTS_PAGE_SIZE = 1000
# Predicates per filter of one job. ASSUMED: no public source states the platform's limit for async
# details jobs; the sync query path already sends at most 100 (conversations.PREDICATES_PER_QUERY).
PREDICATES_PER_JOB = 100


def parse_availability(stamp: str | None) -> datetime | None:
    """The platform's ``dataAvailabilityDate`` as an aware datetime; None when absent or unreadable."""
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def job_query(predicates: list[dict[str, str]], start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "interval": f"{_iso(start)}/{_iso(end)}",
        "order": "asc",
        "orderBy": "conversationStart",
        "segmentFilters": [{"type": "or", "predicates": predicates}],
    }


def chunk_predicates(predicates: list[dict[str, str]], limit: int = PREDICATES_PER_JOB) -> list[list[dict[str, str]]]:
    """The fewest filters of at most ``limit`` predicates that together match what the whole list does.

    Repeated predicates (subjects sharing an identifier) are sent once; the order is kept, so the same
    batch always gives the same chunks and a retry finds its jobs again by fingerprint.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    unique: dict[str, dict[str, str]] = {}
    for predicate in predicates:
        unique.setdefault(json.dumps(predicate, sort_keys=True), predicate)
    distinct = list(unique.values())
    return [distinct[i:i + limit] for i in range(0, len(distinct), limit)]


@dataclass
class JobAnswer:
    """What the jobs found, and the earliest ``dataAvailabilityDate`` they answered (None: none said)."""

    conversations: list[AnalyticsConversation]
    available_until: datetime | None


def run_details_job(runtime: Runtime, client: GenesysClient, predicates: list[dict[str, str]],
                    start: datetime, end: datetime) -> list[AnalyticsConversation]:
    """Every conversation in [start, end) matching any predicate that the data lake holds, through one job
    per chunk (``answer_details_job`` also says how far the lake reached)."""
    return answer_details_job(runtime, client, predicates, start, end).conversations


def answer_details_job(runtime: Runtime, client: GenesysClient, predicates: list[dict[str, str]],
                       start: datetime, end: datetime) -> JobAnswer:
    """``run_details_job`` with the lake's reach: conversations after it are not in the answer."""
    jobs: list[tuple[str, str]] = []  # (redis key, job id), one per chunk
    for chunk in chunk_predicates(predicates):
        query = job_query(chunk, start, end)
        fingerprint = hashlib.sha256(json.dumps(query, sort_keys=True).encode()).hexdigest()[:32]
        key = runtime.keys.details_job(fingerprint)
        job_id = runtime.redis.get(key)
        if job_id is None:
            job_id = client.submit_details_job(query)
            runtime.redis.set(key, job_id, ex=24 * 3600)
        jobs.append((key, str(job_id)))

    # Every job is submitted before any is waited for: they run side by side on the platform.
    deadline = time.monotonic() + runtime.settings.details_job_wait_s
    for key, job_id in jobs:
        _wait_fulfilled(runtime, client, key, job_id, deadline)

    found: dict[str, AnalyticsConversation] = {}
    reaches: list[datetime] = []
    for _key, job_id in jobs:
        conversations, reach = _results(client, job_id)
        for conversation in conversations:
            found.setdefault(conversation.conversation_id, conversation)
        if reach is not None:
            reaches.append(reach)
    for key, job_id in jobs:
        client.delete_details_job(job_id)
        runtime.redis.delete(key)
    return JobAnswer(list(found.values()), min(reaches) if reaches else None)


def _wait_fulfilled(runtime: Runtime, client: GenesysClient, key: str, job_id: str, deadline: float) -> None:
    status = client.get_details_job(job_id)
    while not status.is_final:
        if time.monotonic() >= deadline:
            raise RunLater(max(JOB_POLL_S, runtime.settings.details_job_wait_s), f"analytics details job {job_id} still running")
        time.sleep(JOB_POLL_S)  # short waits only; longer ones give the worker back above
        status = client.get_details_job(job_id)
    if status.state != "FULFILLED":
        runtime.redis.delete(key)  # the next attempt submits a fresh job for this chunk; the others are kept
        raise ServerError(f"analytics details job ended {status.state}", status=500)


def _results(client: GenesysClient, job_id: str) -> tuple[list[AnalyticsConversation], datetime | None]:
    """Every page of a job's results, and the earliest ``dataAvailabilityDate`` its pages gave."""
    out: list[AnalyticsConversation] = []
    reaches: list[datetime] = []
    cursor: str | None = None
    while True:
        page = client.get_details_job_results(job_id, cursor=cursor, page_size=RESULTS_PAGE_SIZE)
        out.extend(page.conversations)
        reach = parse_availability(page.data_availability_date)
        if reach is not None:
            reaches.append(reach)
        cursor = page.cursor
        if not cursor:
            return out, min(reaches) if reaches else None
