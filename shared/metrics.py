"""Prometheus metrics of the pools. Labels carry pool names, endpoint templates, statuses and states only:
never an identifier, a ticket or a request id."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

API_CALLS = Counter("erasure_genesys_api_calls_total", "Genesys API answers by endpoint and status",
                    ["pool", "method", "endpoint", "status"])
API_LATENCY = Histogram("erasure_genesys_api_seconds", "Genesys API call latency", ["pool"])
TASKS = Counter("erasure_tasks_total", "Pipeline task runs by outcome", ["task", "outcome"])
REQUESTS_AT_RISK = Gauge("erasure_requests_at_risk", "Open requests within 7 days of their deadline or past it")
WATCHDOG_REDRIVES = Counter("erasure_watchdog_redrives_total",
                            "Requests the watchdog sent on again after no progress for stall_after_s, by state",
                            ["state"])
API_AUTH_FAILURES = Counter("erasure_api_auth_failures_total",
                            "Intake API calls refused by authentication (401) or scope (403), by reason",
                            ["reason"])
