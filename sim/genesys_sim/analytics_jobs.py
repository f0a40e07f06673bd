"""State of asynchronous conversation detail jobs (`/api/v2/analytics/conversations/details/jobs`).

A job's result set is fixed when it is submitted (the platform answers from a data-lake snapshot): the
matching conversation ids are recorded then, and a conversation that a GDPR request changes afterwards is
copied into the job just before the change (copy on write), so results never show later edits while
submitting a job stays cheap however many conversations it matches.

States follow `AsyncQueryStatus`: QUEUED for the first half of `analytics_job_s`, PENDING for the second,
then FULFILLED (or FAILED when a fault was injected); CANCELLED once deleted before completion; EXPIRED a
day after submission (UNCONFIRMED: the real expiry period). Kept free of Starlette, like `recording_jobs`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .limits import ASYNC_JOB_RESULT_TTL_S

RESULT_TTL_S = ASYNC_JOB_RESULT_TTL_S


@dataclass
class Snapshot:
    """Conversation ids a job matched, and copies of those that changed after it was submitted."""

    ids: list[str]
    members: set[str] = field(default_factory=set)
    frozen: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.members = set(self.ids)


@dataclass
class AnalyticsJob:
    id: str
    query: dict[str, Any]
    submitted_mono: float
    submitted_iso: str
    duration_s: float
    snapshot: Snapshot
    will_fail: bool = False
    cancelled: bool = False
    availability_iso: str = ""

    def state(self, now: float) -> str:
        if self.cancelled:
            return "CANCELLED"
        elapsed = now - self.submitted_mono
        if elapsed >= RESULT_TTL_S:
            return "EXPIRED"
        if elapsed < self.duration_s / 2:
            return "QUEUED"
        if elapsed < self.duration_s:
            return "PENDING"
        return "FAILED" if self.will_fail else "FULFILLED"

    def running(self, now: float) -> bool:
        return self.state(now) in ("QUEUED", "PENDING")


def oversized_filter(query: Any, limit: int) -> str | None:
    """Why a job's query has a filter or clause with more than ``limit`` predicates, or None (0 = no limit).

    The platform's value is unknown (see `SimConfig.analytics_job_predicates_max`); the client must split.
    """
    if limit <= 0 or not isinstance(query, dict):
        return None
    for field_name in ("segmentFilters", "conversationFilters"):
        filters = query.get(field_name)
        if not isinstance(filters, list):
            continue
        for flt in filters:
            if not isinstance(flt, dict):
                continue
            groups = [flt] + [c for c in flt.get("clauses") or [] if isinstance(c, dict)]
            for group in groups:
                count = len(group.get("predicates") or [])
                if count > limit:
                    return f"A filter in {field_name} has {count} predicates; at most {limit} are allowed."
    return None


class AnalyticsJobs:
    """Job bookkeeping for one organisation; every method is called with the store lock held."""

    def __init__(self) -> None:
        self.jobs: dict[str, AnalyticsJob] = {}
        self.failures_pending = 0
        self.submitted = 0
        self.rejected = 0

    def running(self, now: float) -> list[AnalyticsJob]:
        return [j for j in self.jobs.values() if j.running(now)]

    def snapshots(self) -> list[Snapshot]:
        return [j.snapshot for j in self.jobs.values()]

    def before_change(self, conv_id: str, conv: dict[str, Any]) -> None:
        """Called just before a conversation is modified: jobs that matched it keep the old version."""
        for job in self.jobs.values():
            snap = job.snapshot
            if conv_id in snap.members and conv_id not in snap.frozen:
                snap.frozen[conv_id] = copy.deepcopy(conv)

    def forget(self, job_id: str) -> None:
        self.jobs.pop(job_id, None)
