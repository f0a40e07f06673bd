"""State of recording bulk jobs: their lifecycle and what a fulfilled job does to recordings.

Kept apart from the routes (and free of Starlette) so the store can own the jobs and advance them lazily,
like GDPR requests, under its one lock.
"""

from __future__ import annotations

import copy
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .config import SIM_CLIENT_USER_ID
from .limits import RECORDING_JOBS_MAX_ACTIVE
from .seed import iso

MAX_ACTIVE_JOBS = RECORDING_JOBS_MAX_ACTIVE
ACTIONS = ("ARCHIVE", "DELETE", "EXPORT")


@dataclass
class RecordingJob:
    """One bulk job and the recordings its query selected."""

    id: str
    query: dict[str, Any]
    created_mono: float
    created_iso: str
    conversation_ids: list[str]
    recording_ids: list[str]
    started_mono: float | None = None
    cancelled: bool = False
    applied: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    # (conversation id, recording id) a DELETE job could not delete: deletion protection (see protection.py).
    failed: list[tuple[str, str]] = field(default_factory=list)
    # Recordings the query selected but the job leaves alone (sensitive data not asked for): never acted on.
    skipped: list[str] = field(default_factory=list)

    def state(self, now: float, step_s: float) -> str:
        if self.cancelled:
            return "CANCELLED"
        if self.started_mono is None:
            return "PENDING" if now - self.created_mono < step_s else "READY"
        return "PROCESSING" if now - self.started_mono < step_s else "FULFILLED"

    def view(self, now: float, step_s: float) -> dict[str, Any]:
        state = self.state(now, step_s)
        done = state == "FULFILLED"
        return {
            "id": self.id,
            "user": {"id": SIM_CLIENT_USER_ID, "selfUri": f"/api/v2/users/{SIM_CLIENT_USER_ID}"},
            "state": state,
            "recordingJobsQuery": copy.deepcopy(self.query),
            "dateCreated": self.created_iso,
            "totalConversations": len(self.conversation_ids),
            "totalRecordings": len(self.recording_ids),
            "totalSkippedRecordings": len(self.skipped),
            "totalFailedRecordings": len(self.failed),
            "totalProcessedRecordings": len(self.recording_ids) - len(self.failed) - len(self.skipped) if done else 0,
            "percentProgress": 100 if done else 0,
            "selfUri": f"/api/v2/recording/jobs/{self.id}",
        }


class RecordingJobs:
    """Job bookkeeping for one organisation; every method is called with the store lock held.

    `open` holds the jobs that may still change state on their own (pending, ready or processing), so
    counting active jobs and applying finished ones never walks the whole history.
    """

    def __init__(self) -> None:
        self.jobs: dict[str, RecordingJob] = {}
        self.order: list[str] = []
        self.open: list[str] = []
        # Conversations whose recordings are under deletion protection (legal hold; see protection.py).
        self.protected: set[str] = set()

    def add(self, job: RecordingJob) -> None:
        self.jobs[job.id] = job
        self.order.append(job.id)
        self.open.append(job.id)

    def active(self, now: float, step_s: float) -> int:
        return sum(1 for j in self.open if self.jobs[j].state(now, step_s) in ("PENDING", "PROCESSING"))

    def advance(self, recordings: dict[str, list[dict[str, Any]]], now: float, step_s: float) -> None:
        """Apply each job that reached FULFILLED, once."""
        if not self.open:
            return
        still_open = []
        for jid in self.open:
            job = self.jobs[jid]
            state = job.state(now, step_s)
            if state == "FULFILLED" and not job.applied:
                job.applied = True
                ids = set(job.recording_ids) - set(job.skipped)
                if job.query["action"] == "DELETE" and self.protected:
                    # Protected recordings survive a DELETE job and are listed as its failed recordings.
                    job.failed = [
                        (cid, r["id"])
                        for cid in job.conversation_ids
                        if cid in self.protected
                        for r in recordings.get(cid, [])
                        if r["id"] in ids
                    ]
                    ids -= {rid for _, rid in job.failed}
                apply_action(recordings, job.query["action"], ids, job.query, job.conversation_ids)
            elif state not in ("FULFILLED", "CANCELLED"):
                still_open.append(jid)
        self.open = still_open


def past_jobs(count: int, now: float, age_s: float = 30 * 86400.0) -> list[RecordingJob]:
    """``count`` DELETE jobs of ours that ended ``age_s`` ago (an organisation that has erased before): they
    come first in the platform's default ``userId`` order, so a client that reads it as newest first
    stops at them."""
    created = iso(datetime.now(UTC) - timedelta(seconds=age_s))
    query = {"action": "DELETE", "actionDate": created, "conversationQuery": {"interval": "2000-01-01T00:00:00.000Z/"
             "2000-01-02T00:00:00.000Z"}, "includeRecordingsWithSensitiveData": True}
    return [RecordingJob(id=str(uuid.UUID(int=n + 1, version=4)), query=copy.deepcopy(query),
                         created_mono=now - age_s, created_iso=created, conversation_ids=[], recording_ids=[],
                         started_mono=now - age_s, applied=True) for n in range(count)]


def is_sensitive(recording_id: str, share: float) -> bool:
    """Whether a recording holds PCI/PII data: a stable draw per recording, so every run agrees."""
    return share > 0 and zlib.crc32(recording_id.encode()) % 10_000 < share * 10_000


def skipped_recordings(recording_ids: list[str], query: dict[str, Any], share: float, always: bool) -> list[str]:
    """The sensitive recordings a job leaves alone: all of them unless its query includes them."""
    if query.get("includeRecordingsWithSensitiveData") is True and not always:
        return []
    return [rid for rid in recording_ids if is_sensitive(rid, share)]


def apply_action(
    recordings: dict[str, list[dict[str, Any]]],
    action: str,
    ids: set[str],
    query: dict[str, Any],
    conversation_ids: list[str] | None = None,
) -> None:
    """Apply a job's action to the recordings `ids` (looked for in `conversation_ids` when given)."""
    stamp = iso(datetime.now(UTC))
    for cid in list(recordings) if conversation_ids is None else [c for c in dict.fromkeys(conversation_ids) if c in recordings]:
        kept = []
        for rec in recordings[cid]:
            if rec["id"] not in ids:
                kept.append(rec)
                continue
            if action == "DELETE":
                continue  # gone: no longer listed, 404 when read
            if action == "ARCHIVE":
                rec["fileState"] = "ARCHIVED"
                rec["archiveDate"] = stamp
                rec["archiveMedium"] = "CLOUDARCHIVE"
            else:
                rec["exportedDate"] = stamp
            kept.append(rec)
        recordings[cid] = kept
