"""Named shapes of the simulated organisation, so the demo and the tests can ask for "a real one".

``plain`` is `SimConfig`'s defaults: every awkward platform behaviour off, the organisation most unit and
simulator tests are written against (each turns on the one behaviour it tests).

``realistic`` is the harder organisation a real one is, as far as the platform's behaviour is known
(sources in `limits`): the synchronous query refuses long intervals, a share of recordings is flagged
sensitive (skipped by recording jobs that do not ask for them), GDPR answers do not echo the caller's
request name, analytics jobs have a concurrency cap, and the data lake lags behind the live data. The
product's demo (`erasure demo`), the simulator's command line and the end-to-end tests use it.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from .config import SimConfig
from .limits import ASYNC_JOBS_MAX_ACTIVE, DATA_LAG_S, RECORDING_LAG_S_MAX, SYNC_QUERY_MAX_DAYS

PLAIN = "plain"
REALISTIC = "realistic"
PROFILES = (PLAIN, REALISTIC)

#: What ``realistic`` changes from the defaults. Shares and lags are the organisation's own, not the
#: platform's: the values are chosen to make every behaviour happen in a demo of 30 subjects.
REALISTIC_FIELDS: dict[str, Any] = {
    "sync_query_max_days": SYNC_QUERY_MAX_DAYS,
    "sensitive_recording_share": 0.25,
    "gdpr_echo_name": False,
    "analytics_jobs_max": ASYNC_JOBS_MAX_ACTIVE,
    "data_lag_s": DATA_LAG_S,
    "recording_lag_s": RECORDING_LAG_S_MAX,  # the longest the SDK documents: every recent recording is late
}


def build(profile: str = REALISTIC, **overrides: Any) -> SimConfig:
    """A `SimConfig` of ``profile`` with ``overrides`` on top (they win: a test may turn one behaviour off)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown simulator profile {profile!r}; known: {', '.join(PROFILES)}")
    known = {f.name for f in fields(SimConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown simulator settings: {', '.join(unknown)}")
    chosen = dict(REALISTIC_FIELDS) if profile == REALISTIC else {}
    chosen.update(overrides)
    return SimConfig(**chosen)


def realistic(**overrides: Any) -> SimConfig:
    """Shorthand of ``build(REALISTIC, ...)``."""
    return build(REALISTIC, **overrides)
