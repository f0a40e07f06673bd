"""Settings of one simulated Genesys Cloud organisation.

One dataclass so tests, the demo and the benchmark can each start an organisation shaped for their need
(tiny rate limit to provoke 429s, fast GDPR steps to keep tests short, many subjects for load). Every field
added after the first release defaults to "off", so an organisation built with the old fields is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from .limits import (
    ASYNC_JOB_PREDICATES_MAX,
    DETAILS_IDS_MAX,
    GDPR_EXPORT_TTL_S,
    GDPR_UPDATE_REACHES_CONTACTS,
    JOB_SLOTS_REFUSAL,
    RATE_LIMIT_PER_MINUTE,
    TOKEN_TTL_S,
)

# The user the simulated OAuth client acts as (createdBy of GDPR requests, user of recording jobs).
SIM_CLIENT_USER_ID = "0a1b2c3d-0000-4000-8000-00000000c11e"


@dataclass
class SimConfig:
    """Knobs of the simulated organisation; defaults mirror the real platform where one is known."""

    subjects: int = 30  # number of seeded synthetic data subjects
    seed: int = 1  # RNG seed: same seed -> same data
    rate_limit: int = RATE_LIMIT_PER_MINUTE  # requests allowed per token per window (platform default for client credentials)
    rate_window_s: float = 60.0  # fixed window length
    gdpr_step_s: float = 1.0  # time a GDPR request spends in each of INITIATED, SEARCHING, DELETING
    token_ttl_s: int = TOKEN_TTL_S  # expires_in of issued tokens
    client_id: str = "sim-client"
    client_secret: str = "sim-secret"
    noise_people: int = 0  # people who are not subjects; 0 means "as many as subjects"
    # Fraction of subjects whose identifiers are split over two external contacts, one merged into the other
    # (only the contact links lead from one half of the person to the other).
    linked_fraction: float = 0.0
    # Subjects who had a phone number that was later reassigned to a noise person (their calls before a date,
    # the new owner's calls after it).
    recycled: int = 0
    # Subjects with one conversation still in progress, which ends `active_for_s` after startup or reset.
    active: int = 0
    active_for_s: float = 2.0
    # Async analytics conversation detail jobs: time from submission to FULFILLED, and how many may be queued
    # or running at once (0 = no limit; above it the submission is refused as `job_slots_refusal` says).
    analytics_job_s: float = 0.5
    analytics_jobs_max: int = 0
    # Longest interval a synchronous details query may ask for, in days (0 = no limit; off by default as
    # older tests query all time; `limits.SYNC_QUERY_MAX_DAYS` is the value to turn on), and most ids one
    # by-id details read takes (0 = no limit); values and their sources in `limits`.
    sync_query_max_days: int = 0
    details_ids_max: int = DETAILS_IDS_MAX
    # Predicates allowed in one filter (or one clause) of an async details job; more is answered 400.
    # UNKNOWN on the real platform (no public source states it): configurable, 0 = no limit.
    analytics_job_predicates_max: int = ASYNC_JOB_PREDICATES_MAX
    # The status of a "too many jobs" refusal, "429" or "400" (unknown on the platform: see `limits`).
    job_slots_refusal: str = JOB_SLOTS_REFUSAL
    # Former agents: inactive users who handled some of the seeded conversations.
    former_agents: int = 0
    # Subjects who typed a second email into a chat that no contact or subject record knows, and wrote
    # to the organisation from it once: only reading the transcript leads to it.
    typed_emails: int = 0
    # Share of recordings flagged as holding PCI/PII data (sensitive-data redaction on). A recording job
    # skips them (``totalSkippedRecordings``) unless its query says ``includeRecordingsWithSensitiveData``
    # (SDK ``RecordingJobsQuery``: default false). The real share is the organisation's own: configurable.
    sensitive_recording_share: float = 0.0
    # Skip sensitive recordings even when a job asks for them: how an organisation whose rules still keep
    # them from the job would answer (unknown whether the platform does this or rejects the job): for tests.
    sensitive_always_skipped: bool = False
    # Whether GDPR request answers (list and GET) echo the ``name`` the POST gave. The SDK model
    # ``GDPRRequest`` has a ``name`` property, but that the platform stores and returns a caller's name is
    # unconfirmed: False drops it, so a client that reconciles by name alone is caught. Unknown: configurable.
    gdpr_echo_name: bool = True
    # Whether a completed GDPR_UPDATE also rewrites external contacts and the subject-search records
    # (limits.GDPR_UPDATE_REACHES_CONTACTS: unknown on the real platform).
    gdpr_update_reaches_contacts: bool = GDPR_UPDATE_REACHES_CONTACTS
    # Refuse a request body carrying a property its SDK model does not know (400 ``invalid.property``), as
    # the platform's error map says it does; per-endpoint decisions and sources in `body_schema`. On by
    # default ("default strict"); off only for a test that needs the old permissive behaviour.
    strict_properties: bool = True
    # Data-lake lag of async analytics details jobs, in seconds: a job sees only conversations that ended
    # (ongoing: started) at least this long before it was submitted; its results and the availability
    # endpoint answer ``dataAvailabilityDate`` = now - lag. The sync query and by-id reads are real-time.
    # The fact is VERIFIED (SDK model doc), the amount unknown: configurable, 0 = off (see `limits`).
    data_lag_s: float = 0.0
    # The same for recording bulk jobs: a job does not see the recordings of conversations that ended less
    # than this long ago (SDK recording-jobs doc: "up to 48 h" for new recordings). 0 = off (see `limits`).
    recording_lag_s: float = 0.0
    # Subjects who share their name with another person (own email, phone, contact, conversations): a GDPR
    # request that names the name reaches the namesake too (the platform searches by NAME; its matching rule
    # is unconfirmed, see `gdpr`).
    namesakes: int = 0
    # Subjects whose email a friend passed on in the friend's own chat: the subject is no participant of
    # that conversation, so discovery (analytics by participant) cannot find it; the platform's GDPR search
    # and export, which read message text, do. Review before delete exists for what discovery misses.
    mentioned_elsewhere: int = 0
    # Recording DELETE jobs of ours that finished 30 days before start-up (an organisation that has erased
    # before). The job list's default order (``userId``; ties oldest first here) puts them first.
    past_recording_jobs: int = 0
    # How long a completed GDPR_EXPORT's download link (``resultsUrl``) stays valid, in seconds; after it the
    # link answers 410 (``gdpr_export``). Not published by the platform: unknown, configurable (see `limits`).
    gdpr_export_ttl_s: float = GDPR_EXPORT_TTL_S
