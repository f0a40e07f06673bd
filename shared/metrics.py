"""Prometheus metrics of the pools. Labels carry pool names, endpoint templates, statuses and states only:
never an identifier, a ticket or a request id.

Counters and histograms move in the process where their event happens (a prefork child counts into
PROMETHEUS_MULTIPROC_DIR; ``services.worker_metrics`` serves the merged view). Gauges that need the
store (requests by state, deadlines, queues) are not here: ``shared.store_gauges`` computes them once per
interval for every worker to serve.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

API_CALLS = Counter("erasure_genesys_api_calls_total", "Genesys API answers by endpoint and status",
                    ["pool", "method", "endpoint", "status"])
API_LATENCY = Histogram("erasure_genesys_api_seconds", "Genesys API call latency", ["pool"])
# One delivery of a pipeline task, by how it ended: ok, deferred (the platform or the budget said "not yet"),
# retried (a hiccup), failed (its requests failed), locked (another task holds them: sent again), too_many
# (delivered MAX_DELIVERIES times: failed), kept (Redis unreachable: the message goes back).
TASKS = Counter("erasure_tasks_total", "Pipeline task deliveries by outcome", ["task", "outcome"])
# A request entering a final state (completed, completed_with_withheld, partial, failed, rejected), by kind.
REQUESTS_FINISHED = Counter("erasure_requests_finished_total", "Requests that reached a final state, by state and kind",
                            ["state", "kind"])
# The effect ledger looked for an earlier delivery's call on the platform: found (adopted, not called again),
# not found (called now), or found with no intent recorded (Redis lost the write).
LEDGER_RECONCILES = Counter("erasure_ledger_reconciles_total",
                            "Effect-ledger reconciliations against the platform, by outcome", ["outcome"])
# Verification read-backs that found the subject still there, by what (conversation, message, external_contact,
# gdpr_subject, recording): the kind only, never the id.
VERIFICATION_REMNANTS = Counter("erasure_verification_remnants_total",
                                "Remnants verification found after deletion, by kind", ["kind"])
# A final event parked after its last attempt: "webhook" (a configured target) or "callback" (a request's URL).
WEBHOOK_DEAD_LETTERS = Counter("erasure_webhook_dead_letters_total",
                               "Webhook deliveries that gave up and were parked for replay", ["target_kind"])
WATCHDOG_REDRIVES = Counter("erasure_watchdog_redrives_total",
                            "Requests the watchdog sent on again after no progress for stall_after_s, by state",
                            ["state"])
# The broker door answers nobody (a producer rarely reads task results): a refusal there is otherwise a log line.
INTAKE_REFUSED = Counter("erasure_intake_refused_total",
                         "Requests refused at the broker door (erasure.intake.submit), by outcome", ["outcome"])
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
