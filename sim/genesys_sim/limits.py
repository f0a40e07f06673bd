"""Platform limits the simulator enforces, each with where it comes from.

Kept apart from the client's own constants (shared/config.py, shared/genesys/client.py) on purpose: a test
can set the simulator to disagree with the client, and a value here is never "whatever the client does".
Where the platform's value is not published, the default is a guess, marked so, and configurable in
`SimConfig` (or, for page sizes, a value no client needs to exceed).

Sources: "SDK" is PureCloudPlatformClientV2 269.0.0 (api and model docstrings); "reference" is the team's
../shared/genesys-api.md, which quotes the public Genesys documentation it was read from.
"""

from __future__ import annotations

# -- OAuth and the rate limit -----------------------------------------------------------------------------

# Requests one client-credentials token may make per minute (`client.credentials.token.rate.per.minute`).
# Source: reference section E, quoting developer.genesys.cloud/organization/organization/limits (raisable
# through a support case, so configurable: SimConfig.rate_limit).
RATE_LIMIT_PER_MINUTE = 300

# `expires_in` of a client-credentials token, in seconds. Source: unknown: configurable
# (SimConfig.token_ttl_s); commonly 86400 and set per OAuth client (reference section D, UNCONFIRMED).
TOKEN_TTL_S = 86400

# -- Analytics conversation details ------------------------------------------------------------------------

# Longest interval of a synchronous conversation details query (POST .../details/query), in days.
# Source: unknown: configurable (SimConfig.sync_query_max_days). The SDK (269.0.0) documents none;
# Genesys says only that the query is for "shorter intervals" than the async jobs (genesys-api.md).
SYNC_QUERY_MAX_DAYS = 31

# Largest `paging.pageSize` of the synchronous query. Source: unknown: the reference finds 100 and 200
# both quoted (UNCONFIRMED); 100 is the stricter.
SYNC_QUERY_PAGE_SIZE_MAX = 100

# Deepest result a synchronous query pages to. Source: the observed platform error "Pagination may not
# exceed 100000 results." (reference section B, splunk/genesys_cloud_ta release notes).
SYNC_QUERY_RESULTS_MAX = 100_000

# Most conversation ids one by-id read takes (GET /api/v2/analytics/conversations/details?id=...).
# Source: unknown: configurable (SimConfig.details_ids_max). The SDK documents `id` only as
# "Comma-separated conversation ids" (get_analytics_conversations_details), with no maximum.
DETAILS_IDS_MAX = 100

# Predicates allowed in one filter (or clause) of an async details job. Source: unknown: configurable
# (SimConfig.analytics_job_predicates_max); no public source states it.
ASYNC_JOB_PREDICATES_MAX = 100

# Default and largest results page of an async details job. Source: unknown (the SDK documents `pageSize`
# without a maximum); UNCONFIRMED.
ASYNC_JOB_PAGE_SIZE = 1000

# How long an async job's results stay readable, in seconds. Source: unknown (reference section B lists
# the result expiry as UNCONFIRMED); the job status carries an `expirationDate`.
ASYNC_JOB_RESULT_TTL_S = 86400.0

# Async details jobs that may be queued or running at once. Source: unknown: configurable
# (SimConfig.analytics_jobs_max; reference section B lists the concurrent-job limit as UNCONFIRMED). The
# realistic profile uses this guess, low enough that a batch of discovery workers meets it.
ASYNC_JOBS_MAX_ACTIVE = 4

# How the platform refuses a job over its concurrency cap (a third PENDING/PROCESSING recording job, an
# analytics details job over the cap): "429" or "400". Source: unknown: configurable
# (SimConfig.job_slots_refusal). genesys-api.md marks the status UNCONFIRMED; a developer-forum thread
# reports a 429 for a third recording job, so that is the default. Either way the 429 form carries the
# normalised rate-limit body (every 429 does since 2021-11) but rate-limit headers with budget left.
JOB_SLOTS_REFUSAL = "429"

# -- Recordings ----------------------------------------------------------------------------------------------

# Recording bulk jobs that may be PENDING or PROCESSING at once, per organisation. Source: SDK docstring of
# POST /api/v2/recording/jobs ("Max 2 concurrent jobs", reference section B). VERIFIED.
RECORDING_JOBS_MAX_ACTIVE = 2

# Largest `pageSize` of GET /api/v2/recording/jobs/{id}/failedrecordings. Source: SDK parameter doc
# ("pageSize (max 100)"). VERIFIED. The job list (GET /api/v2/recording/jobs) documents none: the same
# value is used there (unknown).
RECORDING_PAGE_SIZE_MAX = 100

# Conversation ids per deletion-protection (legal hold) call, POST/PUT /api/v2/recordings/deletionprotection.
# Source: SDK model doc (`conversationIds`, at most 100). VERIFIED.
DELETION_PROTECTION_IDS_MAX = 100

# -- Messages, contacts, GDPR, users -------------------------------------------------------------------------

# Message ids in one bulk read (POST /api/v2/conversations/messages/{id}/messages/bulk). Source: SDK doc
# ("at most 1,000"). VERIFIED.
MESSAGE_BULK_IDS_MAX = 1000

# Contact ids per bulk external-contact call. Source: unknown (reference marks it UNCONFIRMED, 100 assumed).
EXTERNAL_CONTACTS_BULK_IDS_MAX = 100

# GET /api/v2/externalcontacts/contacts: pageSize x pageNumber may not pass 1,000. Source: SDK parameter
# doc (reference section C). VERIFIED. Largest pageSize: unknown (200 used).
EXTERNAL_CONTACTS_PAGE_WINDOW = 1000
EXTERNAL_CONTACTS_PAGE_SIZE_MAX = 200

# Default `pageSize` of GET /api/v2/gdpr/requests and of the users list. Source: SDK parameter docs
# (default 25). VERIFIED. Their largest page: unknown (500 used).
LIST_PAGE_SIZE_DEFAULT = 25
LIST_PAGE_SIZE_MAX = 500

# -- Request bodies -----------------------------------------------------------------------------------------

# A request body property its SDK model does not know is refused: 400 ``invalid.property``, "Value [%s] is
# not a valid property for object [%s]". Source: the code and wording are in the platform's shared 400
# error map (swagger x-inin-error-codes, as the official CLI MyPureCloud/platform-client-sdk-cli embeds it):
# VERIFIED; that each endpoint this simulator serves refuses (rather than ignores) is ASSUMED, no source
# showing otherwise. Configurable: SimConfig.strict_properties; per-endpoint decisions in `body_schema`.

# -- Data lake lag ------------------------------------------------------------------------------------------

# Data-lake lag of async conversation details jobs: they see data only up to `dataAvailabilityDate`
# (VERIFIED: SDK model `AnalyticsConversationAsyncQueryResponse` / `DataAvailabilityResponse`; genesys-api.md).
# How far behind now that date is on a real organisation is not published. Source: unknown: configurable
# (SimConfig.data_lag_s); this is a typical value for a realistic profile, not the platform's.
DATA_LAG_S = 3600.0

# How long a new recording may take to reach the data lake recording bulk jobs read: "up to 48 hours"
# (VERIFIED: SDK recording-jobs api doc, genesys-api.md). The simulator uses it as the upper bound a
# realistic profile may set (SimConfig.recording_lag_s); the real lag of one recording is unknown: configurable.
RECORDING_LAG_S_MAX = 48 * 3600.0

# -- GDPR subjects -------------------------------------------------------------------------------------------

# How a GDPR request's `subject.name` matches stored names. Source: UNCONFIRMED. NAME is a GDPR search type
# and a replacement-term type (VERIFIED: SDK enums, genesys-api.md A), so a name is a search term; the
# simulator matches the whole name case-insensitively (and on word boundaries in text), so a request
# naming a common name erases the namesakes' data too (`SimConfig.namesakes` seeds some). Not configurable.
GDPR_NAME_MATCH = "whole name, case-insensitive"

# Which stores a completed GDPR_UPDATE rewrites besides conversations and messages. Source: unknown:
# configurable (SimConfig.gdpr_update_reaches_contacts). genesys-api.md A documents the ReplacementTerm model
# only, not the data stores an update covers. By default the simulator also rewrites external contacts and
# the records the GDPR subject search reads (issue 17: "replaces the values in conversations, messages and
# contacts"); False leaves both as they were, as a platform whose update stops at conversations would.
GDPR_UPDATE_REACHES_CONTACTS = True

# -- GDPR exports --------------------------------------------------------------------------------------------

# How long a completed GDPR_EXPORT's `resultsUrl` stays downloadable, in seconds. The SDK model has the links
# (`resultsUrl`, `resultsUrls`: VERIFIED) but no expiry field, and no public source we found states one (a
# search of Genesys pages found only the unrelated Multicloud CDDS's 30-day file retention). Source: unknown:
# configurable (SimConfig.gdpr_export_ttl_s); 24 h is a guess of a typical pre-signed link lifetime.
GDPR_EXPORT_TTL_S = 24 * 3600.0
