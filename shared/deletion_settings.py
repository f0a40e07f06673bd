"""Settings of the deletion pool's recording jobs, retention purges and holds (``ERASURE_*`` variables).

Kept beside the pool that uses them; every process reads the same environment as ``shared.config``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class DeletionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ERASURE_", extra="ignore")

    # The platform allows 2 recording jobs PENDING/PROCESSING per organisation; we hold one lease
    # per job from before its creation until polling sees it final (renewed while polling).
    recording_job_slots: int = 2
    # "per_request": each request deletes its conversations' recordings with its own jobs (the default).
    # "deferred": a bulk run leaves recordings to `erasure purge`, which packs up to 100 conversations
    # per job; with 2 jobs per organisation, one job per subject cannot keep up with thousands of them.
    # The request's record and certificate say the recordings were deferred.
    recordings: Literal["per_request", "deferred"] = "per_request"
    recording_lease_ttl_s: float = 300.0
    # No free slot: give the worker back and try again after this long.
    recording_slot_retry_s: float = 2.0
    # How long a deletion task waits in place for a job to become READY before handing the worker back.
    recording_ready_wait_s: float = 5.0
    recording_poll_s: float = 0.5
    # Conversations per recording DELETE job (the conversationQuery's id list).
    recording_job_batch: int = 100
    # A job not final after this long ends its request PARTIAL (it is never resubmitted blindly).
    recording_job_timeout_s: float = 24 * 3600.0

    # Retention purges run under this standing policy (its reference and a short description) instead
    # of a per-request approval; without it, `erasure purge` only does dry runs.
    retention_policy: str = ""
    # How far back a purge looks for old conversations (the async details job's interval).
    purge_lookback_days: int = 5 * 365
    purge_job_wait_s: float = 120.0


@lru_cache(maxsize=1)
def deletion_settings() -> DeletionSettings:
    return DeletionSettings()
