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
# The intake API's own calls, by route template (``/requests/{ticket}``, never the path sent: a label per
# ticket would grow without bound), method and status; "unmatched" for a path no route has.
API_REQUESTS = Counter("erasure_api_requests_total", "Intake API answers by method, route template and status",
                       ["method", "route", "status"])
API_REQUEST_SECONDS = Histogram("erasure_api_request_seconds", "Intake API answer latency by method and route template",
                                ["method", "route"])
API_RATE_LIMITED = Counter("erasure_api_rate_limited_total",
                           "Intake API calls refused (429) by a key's rate limit, by route template", ["route"])
