"""Prometheus metrics. Labels carry pool and lane names only: never a subject, never a client id."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

TOKENS_GRANTED = Counter(
    "erasure_ratelimit_tokens_granted_total", "Tokens granted by the shared rate budget.", ["pool"]
)
WAIT_SECONDS = Histogram(
    "erasure_ratelimit_wait_seconds",
    "Seconds a caller slept for a token (granted or handed back).",
    ["pool"],
    buckets=(0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
LANE_TOKENS = Counter(
    "erasure_ratelimit_lane_tokens_granted_total",
    "Tokens granted to callers of each queue lane (callers without one, a polling pass, not counted).",
    ["lane"],  # "interactive" or "bulk"
)
LANE_WAIT_SECONDS = Counter(
    "erasure_ratelimit_lane_wait_seconds_total", "Seconds callers of each queue lane slept for tokens.", ["lane"]
)
DEFERRED = Counter(
    "erasure_ratelimit_deferred_total", "Acquires handed back with RateLimitWait.", ["pool"]
)
RATE_LIMITED = Counter("erasure_ratelimit_429_total", "429 responses reported to the limiter.")
PAUSES_APPLIED = Counter(
    "erasure_ratelimit_pauses_total",
    "Times the shared bucket was pushed forward.",
    ["reason"],  # "429" or "headers"
)
UNAVAILABLE = Counter(
    "erasure_ratelimit_unavailable_total", "Limiter calls refused because Redis was unreachable."
)
