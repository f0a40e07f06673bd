"""The Genesys Cloud API client: one method per capability, every call metered.

Every request first takes a token from the shared rate limiter (so all workers of all pools stay
inside the organisation's budget together), reports the platform's rate-limit headers back to it,
and turns a 429 into a pause for everyone before retrying. The one exception is a job submission the
platform refuses because its concurrent jobs are taken ("too many jobs", 400 or 429): that is no sign
of the request budget, so only the caller waits for a slot (``JobSlotsFull``) and nobody else pauses.
"""

from __future__ import annotations

import contextlib
import random
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from shared.genesys.auth import TokenProvider
from shared.genesys.errors import (
    GenesysError,
    InvalidPathId,
    JobSlotsFull,
    NotFound,
    RateLimited,
    TransportError,
    error_for_status,
)
from shared.genesys.models import (
    AnalyticsConversation,
    BulkItemResult,
    BulkResponse,
    ConversationMultiGetResponse,
    ConversationQueryResponse,
    DataAvailability,
    DetailsJobResults,
    DetailsJobStatus,
    ExternalContact,
    FailedRecordingListing,
    GdprRequest,
    GdprRequestListing,
    GdprSubject,
    MessageConversation,
    MessageData,
    MessageListing,
    Recording,
    RecordingJob,
    RecordingJobListing,
    User,
)
from shared.lane_context import batch_lane
from shared.metrics import API_CALLS, API_LATENCY
from shared.ratelimit.headers import read_window

MAX_RETRY_AFTER_S = 120.0
# Ids per bulk external-contacts call. The platform's own maximum is UNCONFIRMED (genesys-api.md does
# not list these calls; the SDK has them as post_externalcontacts_bulk_contacts[_remove]); 100 stays
# well inside what such bulk calls take elsewhere on the platform.
BULK_CONTACT_IDS = 100
# Ids per by-id conversation details read (GET /api/v2/analytics/conversations/details?id=...). The SDK
# documents `id` as "Comma-separated conversation ids" with no maximum: 100 is an ASSUMPTION, as for the
# contacts above.
DETAILS_IDS_PER_CALL = 100
_BULK_FETCH = "/api/v2/externalcontacts/bulk/contacts"
_BULK_REMOVE = "/api/v2/externalcontacts/bulk/contacts/remove"


def bulk_chunks(ids: Sequence[str]) -> list[list[str]]:
    """Distinct ids in order, in chunks of at most ``BULK_CONTACT_IDS``: one bulk call each."""
    unique = list(dict.fromkeys(ids))
    return [unique[i:i + BULK_CONTACT_IDS] for i in range(0, len(unique), BULK_CONTACT_IDS)]


@dataclass
class ContactReads:
    """A bulk read: the contacts found, and the ids that could not be read (not the same as gone)."""

    found: dict[str, ExternalContact] = field(default_factory=dict)
    errors: dict[str, GenesysError] = field(default_factory=dict)
_WORD = re.compile(r"[a-z]*|v2")
#: What an id put in a URL path may be: the platform's ids are UUIDs (conversations, users, jobs, GDPR
#: requests), and the shape leaves room for any id of letters, digits and . _ : - that starts with a letter
#: or digit. So never '', '.' or '..' (the collection, the resource above), '/', '?', '#' or '%'.
PATH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# How a 400 says the concurrent jobs are taken. The platform's code and wording are UNCONFIRMED
# (genesys-api.md), so the code or message is matched loosely; a plain bad request matches none.
_JOBS_FULL = re.compile(r"too.?many.?jobs|job.?limit|concurren|jobs may be (pending|queued)", re.IGNORECASE)


class Limiter(Protocol):
    """What the client needs of ``shared.ratelimit.RateLimiter``."""

    def acquire(self, pool: str = "default", *, max_block_s: float = 5.0, lane: str | None = None) -> float: ...

    def on_rate_limited(self, retry_after_s: float) -> None: ...

    def on_response_headers(self, headers: Mapping[str, str]) -> None: ...


class GenesysClient:
    def __init__(
        self,
        *,
        api_base_url: str,
        tokens: TokenProvider,
        limiter: Limiter,
        http: httpx.Client,
        pool: str = "default",
        max_block_s: float = 5.0,
        max_attempts: int = 5,
    ) -> None:
        self._base = api_base_url.rstrip("/")
        self._tokens = tokens
        self._limiter = limiter
        self._http = http
        self.pool = pool
        self._max_block_s = max_block_s
        self._max_attempts = max_attempts

    # -- transport -------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json: Any = None, creates: bool = False, submits_job: bool = False) -> httpx.Response:
        """Send one API call through the limiter, retrying 429, 5xx and one 401.

        ``creates`` marks a call that makes something on the platform (a GDPR request, a recording
        job). After a lost answer or a 5xx it may have been made anyway, so it is not sent again
        here: the error goes up, and the caller's effect ledger reconciles against the platform's
        list before anything is resubmitted. Only failures where nothing was sent are retried.

        ``submits_job`` marks a call that starts a platform job under a concurrency cap: its "too many
        jobs" refusal raises ``JobSlotsFull`` at once, without touching the shared limiter.
        """
        renewed = False
        for attempt in range(1, self._max_attempts + 1):
            # The running batch's lane: bulk work yields part of the budget while interactive work asks.
            self._limiter.acquire(self.pool, max_block_s=self._max_block_s, lane=batch_lane())
            token = self._tokens.token()
            headers = {"Authorization": f"Bearer {token}"}
            started = time.monotonic()
            try:
                response = self._http.request(method, self._base + path, params=params, json=json,
                                              headers=headers)
            except httpx.HTTPError as exc:
                API_CALLS.labels(self.pool, method, _template(path), "none").inc()
                never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
                if attempt == self._max_attempts or (creates and not never_sent):
                    raise TransportError(f"{method} {_template(path)}: no answer ({type(exc).__name__})") from exc
                self._backoff(attempt)
                continue
            API_LATENCY.labels(self.pool).observe(time.monotonic() - started)
            API_CALLS.labels(self.pool, method, _template(path), str(response.status_code)).inc()
            self._limiter.on_response_headers(response.headers)
            status = response.status_code
            if status < 400:
                return response
            if submits_job and _jobs_full(response):
                raise self._slots_full(method, path, response)
            if status == 429:
                retry_after = _retry_after(response)
                self._limiter.on_rate_limited(retry_after)
                if attempt == self._max_attempts:
                    raise self._error(method, path, response, retry_after_s=retry_after)
                continue  # the limiter now holds everyone until Retry-After
            if status == 401 and not renewed:
                renewed = True
                self._tokens.invalidate(token)
                continue
            if status >= 500 and attempt < self._max_attempts and not creates:
                self._backoff(attempt)
                continue
            raise self._error(method, path, response)
        raise GenesysError(f"{method} {_template(path)}: gave up after {self._max_attempts} attempts")

    @staticmethod
    def _backoff(attempt: int) -> None:
        time.sleep(min(8.0, 0.2 * 2**attempt) * (0.5 + random.random() / 2))

    @staticmethod
    def _error(method: str, path: str, response: httpx.Response, **extra: Any) -> GenesysError:
        code: str | None = None
        try:
            body = response.json()
            if isinstance(body, dict):
                code = body.get("code")
        except ValueError:
            pass
        correlation = response.headers.get("ININ-Correlation-Id")
        cls = RateLimited if response.status_code == 429 else error_for_status(response.status_code)
        message = f"{method} {_template(path)} -> {response.status_code} {code or ''}".rstrip()
        if response.status_code == 403:
            message += " (the OAuth client's role lacks a permission this call needs)"
        if cls is RateLimited:
            return RateLimited(message, retry_after_s=float(extra.get("retry_after_s", 1.0)),
                               code=code, correlation_id=correlation)
        return cls(message, status=response.status_code, code=code, correlation_id=correlation)

    @staticmethod
    def _slots_full(method: str, path: str, response: httpx.Response) -> JobSlotsFull:
        code = _body_field(response, "code")
        return JobSlotsFull(f"{method} {_template(path)} -> {response.status_code} {code or ''}".rstrip(),
                            status=response.status_code, retry_after_s=_retry_after(response), code=code,
                            correlation_id=response.headers.get("ININ-Correlation-Id"))

    # -- GDPR ------------------------------------------------------------------------------------

    def search_gdpr_subjects(self, search_type: str, value: str) -> list[GdprSubject]:
        response = self.request("GET", "/api/v2/gdpr/subjects",
                                params={"searchType": search_type, "searchValue": value})
        return [GdprSubject.model_validate(e) for e in response.json().get("entities", [])]

    def create_gdpr_request(self, request_type: str, subject: GdprSubject, *, name: str | None = None,
                            replacement_terms: list[dict[str, str]] | None = None) -> GdprRequest:
        body: dict[str, Any] = {"requestType": request_type, "subject": subject.to_body()}
        if name:
            body["name"] = name
        if replacement_terms:
            body["replacementTerms"] = replacement_terms
        params = {"deleteConfirmed": "true"} if request_type == "GDPR_DELETE" else None
        response = self.request("POST", "/api/v2/gdpr/requests", params=params, json=body, creates=True)
        return GdprRequest.model_validate(response.json())

    def get_gdpr_request(self, request_id: str) -> GdprRequest:
        response = self.request("GET", f"/api/v2/gdpr/requests/{_segment(request_id)}")
        return GdprRequest.model_validate(response.json())

    def list_gdpr_requests(self, page_number: int = 1, page_size: int = 100) -> GdprRequestListing:
        response = self.request("GET", "/api/v2/gdpr/requests",
                                params={"pageSize": page_size, "pageNumber": page_number})
        return GdprRequestListing.model_validate(response.json())

    # -- analytics -------------------------------------------------------------------------------

    def query_conversation_details(self, query: Mapping[str, Any]) -> ConversationQueryResponse:
        response = self.request("POST", "/api/v2/analytics/conversations/details/query", json=dict(query))
        return ConversationQueryResponse.model_validate(response.json())

    def get_conversation_details(self, conversation_ids: Sequence[str]) -> list[AnalyticsConversation]:
        """Conversations by id, ``DETAILS_IDS_PER_CALL`` per call, with no interval (so no interval limit);
        ids the platform does not know are absent from the answer."""
        unique = list(dict.fromkeys(conversation_ids))
        out: list[AnalyticsConversation] = []
        for start in range(0, len(unique), DETAILS_IDS_PER_CALL):
            chunk = unique[start:start + DETAILS_IDS_PER_CALL]
            response = self.request("GET", "/api/v2/analytics/conversations/details", params={"id": ",".join(chunk)})
            out += ConversationMultiGetResponse.model_validate(response.json()).conversations
        return out

    def submit_details_job(self, query: Mapping[str, Any]) -> str:
        """Start an async conversation details job (bulk, long intervals); returns its job id."""
        response = self.request("POST", "/api/v2/analytics/conversations/details/jobs", json=dict(query),
                                submits_job=True)
        return str(response.json()["jobId"])

    def get_details_job(self, job_id: str) -> DetailsJobStatus:
        response = self.request("GET", f"/api/v2/analytics/conversations/details/jobs/{_segment(job_id)}")
        return DetailsJobStatus.model_validate(response.json())

    def get_details_job_results(self, job_id: str, cursor: str | None = None,
                                page_size: int = 1000) -> DetailsJobResults:
        params: dict[str, Any] = {"pageSize": page_size}
        if cursor:
            params["cursor"] = cursor
        response = self.request("GET", f"/api/v2/analytics/conversations/details/jobs/{_segment(job_id)}/results",
                                params=params)
        return DetailsJobResults.model_validate(response.json())

    def get_details_job_availability(self) -> str | None:
        """``dataAvailabilityDate``: async details jobs see conversations only up to this moment (the data
        lake lags behind now); None when the platform does not say."""
        response = self.request("GET", "/api/v2/analytics/conversations/details/jobs/availability")
        return DataAvailability.model_validate(response.json()).data_availability_date

    def delete_details_job(self, job_id: str) -> None:
        with contextlib.suppress(NotFound):  # already expired or cleaned up
            self.request("DELETE", f"/api/v2/analytics/conversations/details/jobs/{_segment(job_id)}")

    # -- users (former agents) -------------------------------------------------------------------

    def get_user(self, user_id: str) -> User | None:
        try:
            response = self.request("GET", f"/api/v2/users/{_segment(user_id)}")
        except NotFound:
            return None
        return User.model_validate(response.json())

    def delete_user(self, user_id: str) -> bool:
        """Delete a user; True if we deleted it, False if it was already gone."""
        try:
            self.request("DELETE", f"/api/v2/users/{_segment(user_id)}")
        except NotFound:
            return False
        return True

    # -- external contacts -----------------------------------------------------------------------

    def lookup_contact(self, identifier_type: str, value: str) -> ExternalContact | None:
        try:
            response = self.request("POST", "/api/v2/externalcontacts/identifierlookup/contacts",
                                    json={"type": identifier_type, "value": value})
        except NotFound:
            return None
        return ExternalContact.model_validate(response.json())

    def get_contacts_bulk(self, contact_ids: Sequence[str]) -> ContactReads:
        """Many contacts by id, a hundred per call, keyed by the id asked for.

        An id the platform does not know (404) is in neither ``found`` nor ``errors``: it is gone.
        Any other failure of one id is in ``errors``, so a caller checking that contacts are gone never
        takes "could not read" for "gone", and only the requests owning that id are affected.
        """
        reads = ContactReads()
        for chunk in bulk_chunks(contact_ids):
            items, errors = self._bulk_contacts(_BULK_FETCH, chunk, allowed=(404,))
            reads.errors.update(errors)
            for contact_id, item in items.items():
                if item.success and item.entity is not None:
                    reads.found[contact_id] = ExternalContact.model_validate(item.entity)
        return reads

    def delete_contacts_bulk(self, contact_ids: Sequence[str]) -> tuple[dict[str, BulkItemResult], dict[str, GenesysError]]:
        """Delete up to a hundred contacts in one call (see ``bulk_chunks``).

        Returns the results per id that say what happened (success: deleted; 404: already gone;
        409: refused, with the platform's code) and, apart, the ids whose result is any other failure,
        as the error it means (a 5xx or 429 is transient).
        """
        if len(contact_ids) > BULK_CONTACT_IDS:
            raise ValueError(f"at most {BULK_CONTACT_IDS} ids per bulk removal; split with bulk_chunks")
        return self._bulk_contacts(_BULK_REMOVE, list(dict.fromkeys(contact_ids)), allowed=(404, 409))

    def _bulk_contacts(self, path: str, chunk: list[str], *, allowed: tuple[int, ...]
                       ) -> tuple[dict[str, BulkItemResult], dict[str, GenesysError]]:
        response = self.request("POST", path, json={"entities": [{"id": c} for c in chunk]})
        answered = {item.answered_id: item for item in BulkResponse.model_validate(response.json()).results}
        items: dict[str, BulkItemResult] = {}
        errors: dict[str, GenesysError] = {}
        for contact_id in chunk:
            item = answered.get(contact_id)
            if item is None:  # the call's answer is not what was asked: trust none of it
                raise GenesysError(f"POST {path}: the answer has no result for one of the ids sent")
            if item.success or item.status_code in allowed:
                items[contact_id] = item
            else:
                errors[contact_id] = _bulk_item_error(path, item)
        return items, errors

    # -- recordings ------------------------------------------------------------------------------

    def conversation_recordings(self, conversation_id: str) -> list[Recording] | None:
        """A conversation's recordings ([] if none or the conversation is gone); None while the
        platform is still preparing them (202), so the caller treats them as present."""
        try:
            response = self.request("GET", f"/api/v2/conversations/{_segment(conversation_id)}/recordings",
                                    params={"formatId": "NONE"})
        except NotFound:
            return []
        if response.status_code == 202:
            return None
        body = response.json()
        return [Recording.model_validate(r) for r in body] if isinstance(body, list) else []

    def delete_recording_now(self, conversation_id: str, recording_id: str, when: str) -> bool:
        """Give one recording a due ``deleteDate`` (``PUT .../recordings/{id}``, the platform's per-recording
        deletion: there is no DELETE). False when the recording is already gone."""
        try:
            self.request("PUT", f"/api/v2/conversations/{_segment(conversation_id)}/recordings/{_segment(recording_id)}",
                         json={"deleteDate": when})
        except NotFound:
            return False
        return True

    def create_recording_job(self, query: Mapping[str, Any]) -> RecordingJob:
        """``POST /api/v2/recording/jobs`` (a ``RecordingJobsQuery``); the job starts PENDING.

        At most 2 jobs may be PENDING/PROCESSING per organisation: callers take a lease first
        (``shared.ratelimit.LeasePool``) rather than provoke the platform's refusal. Jobs made by
        others still fill the places; that refusal raises ``JobSlotsFull`` (nothing was created).
        """
        response = self.request("POST", "/api/v2/recording/jobs", json=dict(query), creates=True,
                                submits_job=True)
        return RecordingJob.model_validate(response.json())

    def get_recording_job(self, job_id: str) -> RecordingJob | None:
        try:
            response = self.request("GET", f"/api/v2/recording/jobs/{_segment(job_id)}")
        except NotFound:
            return None
        return RecordingJob.model_validate(response.json())

    def start_recording_job(self, job_id: str) -> RecordingJob:
        """Execute a READY job (``PUT {"state": "PROCESSING"}``); only its creator may. Refused with
        ``JobSlotsFull`` while the organisation's places are taken."""
        response = self.request("PUT", f"/api/v2/recording/jobs/{_segment(job_id)}", json={"state": "PROCESSING"},
                                submits_job=True)
        return RecordingJob.model_validate(response.json())

    def list_recording_jobs(self, page_number: int = 1, page_size: int = 100,
                            state: str | None = None) -> RecordingJobListing:
        # Newest first and with a page count: the platform sorts by userId and pages by cursor otherwise.
        params: dict[str, Any] = {"pageSize": page_size, "pageNumber": page_number, "showOnlyMyJobs": "true",
                                  "sortBy": "dateCreated", "includeTotal": "true"}
        if state:
            params["state"] = state
        response = self.request("GET", "/api/v2/recording/jobs", params=params)
        return RecordingJobListing.model_validate(response.json())

    def failed_recordings(self, job_id: str, page_number: int = 1, page_size: int = 100) -> FailedRecordingListing:
        response = self.request("GET", f"/api/v2/recording/jobs/{_segment(job_id)}/failedrecordings",
                                # A page count only with includeTotal (cursor paging otherwise): the loop reads it.
                                params={"pageSize": min(page_size, 100), "pageNumber": page_number,
                                        "includeTotal": "true"})
        return FailedRecordingListing.model_validate(response.json())

    def protected_conversations(self, conversation_ids: list[str]) -> set[str]:
        """Which of these conversations have recordings under deletion protection (legal hold)."""
        found: set[str] = set()
        ids = list(dict.fromkeys(conversation_ids))
        for start in range(0, len(ids), 100):
            response = self.request("POST", "/api/v2/recordings/deletionprotection",
                                    json={"conversationIds": ids[start:start + 100]})
            body = response.json()
            entities = body if isinstance(body, list) else body.get("entities", []) if isinstance(body, dict) else []
            found.update(str(e["id"]) for e in entities if isinstance(e, dict) and e.get("id"))
        return found

    def set_deletion_protection(self, conversation_ids: list[str], protect: bool) -> None:
        """Apply (``protect=True``) or revoke the platform's recording deletion protection."""
        ids = list(dict.fromkeys(conversation_ids))
        for start in range(0, len(ids), 100):
            self.request("PUT", "/api/v2/recordings/deletionprotection",
                         params={"protect": "true" if protect else "false"},
                         json={"conversationIds": ids[start:start + 100]})

    # -- conversation content --------------------------------------------------------------------

    def get_message_conversation(self, conversation_id: str) -> MessageConversation | None:
        try:
            response = self.request("GET", f"/api/v2/conversations/messages/{_segment(conversation_id)}")
        except NotFound:
            return None
        return MessageConversation.model_validate(response.json())

    def get_messages_bulk(self, conversation_id: str, message_ids: list[str]) -> list[MessageData]:
        out: list[MessageData] = []
        for start in range(0, len(message_ids), 1000):
            response = self.request("POST", f"/api/v2/conversations/messages/{_segment(conversation_id)}/messages/bulk",
                                    json=message_ids[start:start + 1000])
            out += MessageListing.model_validate(response.json()).entities
        return out


def _retry_after(response: httpx.Response) -> float:
    raw = response.headers.get("Retry-After", "")
    try:
        value = float(raw)
    except ValueError:
        value = 1.0
    return min(max(value, 0.0), MAX_RETRY_AFTER_S)


def _body_field(response: httpx.Response, name: str) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def _window_spent(response: httpx.Response) -> bool:
    """True when ``inin-ratelimit-*`` say the request budget is used up: a real rate limit."""
    reading = read_window(response.headers)
    return reading is not None and reading.spent >= reading.allowed


def _jobs_full(response: httpx.Response) -> bool:
    """Whether a job submission's refusal means "too many jobs" rather than a bad or rate-limited call.

    A 429 is a slot refusal only when the rate-limit headers are there and show budget left; spent, or
    absent (nothing says the budget is fine), it is the real rate limit and everyone pauses. A 400 is one
    only when its code or message says so.
    """
    if response.status_code == 429:
        reading = read_window(response.headers)
        return reading is not None and reading.spent < reading.allowed
    if response.status_code == 400:
        words = f"{_body_field(response, 'code') or ''} {_body_field(response, 'message') or ''}"
        return bool(_JOBS_FULL.search(words))
    return False


def _segment(value: str) -> str:
    """An outside value (a user id from intake, an id from a platform answer, an id from an export) as one
    path segment, if it has a platform id's shape (``PATH_ID``); refused otherwise (``InvalidPathId``), before
    any call: quoting alone would still send '' as the collection and '.'/'..' to servers that normalise
    %2E. The quoting stays as a second guard."""
    if not isinstance(value, str) or not PATH_ID.fullmatch(value):
        raise InvalidPathId("an id for a URL path is not a platform id (a letter or digit, then letters, digits "
                            "and . _ : -, at most 128); refused without a call")
    return quote(value, safe="")


def _template(path: str) -> str:
    """Path with ids folded, so error messages and metrics never carry identifiers."""
    return "/".join(p if _WORD.fullmatch(p) else "{id}" for p in path.split("/"))


def _bulk_item_error(path: str, item: BulkItemResult) -> GenesysError:
    """One failed id of a bulk call as the error its status means (a 5xx or 429 is transient)."""
    status = item.status_code
    code = item.error.code if item.error else None
    message = f"POST {path}: one id -> {status} {code or ''}".rstrip()
    if status == 429:
        return RateLimited(message, retry_after_s=1.0, code=code)
    return error_for_status(status)(message, status=status, code=code)
