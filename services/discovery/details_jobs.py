"""Long intervals through the async conversation details jobs (submit, wait, cursor-paged results).

The job id is kept in Redis under a fingerprint of the query, so a task that hands its worker
back while the platform works (``RunLater``) finds the same job when it runs again instead of
starting another one.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime
from typing import Any

from shared.errors import RunLater
from shared.genesys import GenesysClient, ServerError
from shared.genesys.models import AnalyticsConversation
from shared.runtime import Runtime

JOB_POLL_S = 0.5
RESULTS_PAGE_SIZE = 1000


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def job_query(predicates: list[dict[str, str]], start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "interval": f"{_iso(start)}/{_iso(end)}",
        "order": "asc",
        "orderBy": "conversationStart",
        "segmentFilters": [{"type": "or", "predicates": predicates}],
    }


def run_details_job(runtime: Runtime, client: GenesysClient, predicates: list[dict[str, str]],
                    start: datetime, end: datetime) -> list[AnalyticsConversation]:
    query = job_query(predicates, start, end)
    fingerprint = hashlib.sha256(json.dumps(query, sort_keys=True).encode()).hexdigest()[:32]
    key = runtime.keys.details_job(fingerprint)
    job_id = runtime.redis.get(key)
    if job_id is None:
        job_id = client.submit_details_job(query)
        runtime.redis.set(key, job_id, ex=24 * 3600)
    job_id = str(job_id)

    deadline = time.monotonic() + runtime.settings.details_job_wait_s
    status = client.get_details_job(job_id)
    while not status.is_final:
        if time.monotonic() >= deadline:
            raise RunLater(max(JOB_POLL_S, runtime.settings.details_job_wait_s), f"analytics details job {job_id} still running")
        time.sleep(JOB_POLL_S)  # short waits only; longer ones give the worker back above
        status = client.get_details_job(job_id)
    if status.state != "FULFILLED":
        runtime.redis.delete(key)  # the next attempt submits a fresh job
        raise ServerError(f"analytics details job ended {status.state}", status=500)

    found: dict[str, AnalyticsConversation] = {}
    cursor: str | None = None
    while True:
        page = client.get_details_job_results(job_id, cursor=cursor, page_size=RESULTS_PAGE_SIZE)
        for conversation in page.conversations:
            found.setdefault(conversation.conversation_id, conversation)
        cursor = page.cursor
        if not cursor:
            break
    client.delete_details_job(job_id)
    runtime.redis.delete(key)
    return list(found.values())
