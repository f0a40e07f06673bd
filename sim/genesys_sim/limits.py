"""Platform limits the simulator enforces, each with where it comes from.

Kept apart from the client's own constants (shared/config.py, shared/genesys/client.py) on purpose: a test
can set the simulator to disagree with the client, and a value here is never "whatever the client does".
Where the platform's value is not published, the default is a guess, marked so, and configurable in
`SimConfig`.
"""

from __future__ import annotations

# Longest interval of a synchronous conversation details query (POST .../details/query), in days.
# Source: unknown: configurable (SimConfig.sync_query_max_days). The SDK (269.0.0) documents none;
# Genesys says only that the query is for "shorter intervals" than the async jobs (genesys-api.md).
SYNC_QUERY_MAX_DAYS = 31

# Most conversation ids one by-id read takes (GET /api/v2/analytics/conversations/details?id=...).
# Source: unknown: configurable (SimConfig.details_ids_max). The SDK documents `id` only as
# "Comma-separated conversation ids" (get_analytics_conversations_details), with no maximum.
DETAILS_IDS_MAX = 100

# How the platform refuses a job over its concurrency cap (a third PENDING/PROCESSING recording job, an
# analytics details job over the cap): "429" or "400". Source: unknown: configurable
# (SimConfig.job_slots_refusal). genesys-api.md marks the status UNCONFIRMED; a developer-forum thread
# reports a 429 for a third recording job, so that is the default. Either way the 429 form carries the
# normalised rate-limit body (every 429 does since 2021-11) but rate-limit headers with budget left.
JOB_SLOTS_REFUSAL = "429"

# How a GDPR request's `subject.name` matches stored names. Source: UNCONFIRMED. NAME is a GDPR search type
# and a replacement-term type (VERIFIED: SDK enums, genesys-api.md A), so a name is a search term; the
# simulator matches the whole name case-insensitively (and on word boundaries in text), so a request
# naming a common name erases the namesakes' data too (`SimConfig.namesakes` seeds some). Not configurable.
GDPR_NAME_MATCH = "whole name, case-insensitive"
