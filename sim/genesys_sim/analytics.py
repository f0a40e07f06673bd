"""Conversation detail queries: the synchronous query, the id lookups and the asynchronous jobs.

Honours interval, segment and conversation filters (and/or, nested clauses, dimension predicates with
matches/exists/notExists), paging and ordering. Segment filters are evaluated per session (all predicates
of one filter must hold on the same session, with its participant's and conversation's dimensions in
view); conversation filters see the union of every session. As on the platform, an email-address
predicate matches the full address or its whole local part or whole domain (the simulator applies the
same rule to async jobs, which on the platform also accept partial matches).

Data lag: async jobs read a data lake that is `SimConfig.data_lag_s` behind now (conversations that ended
after now - lag are invisible to them; results and `.../jobs/availability` answer that stamp as
`dataAvailabilityDate`); the synchronous query and the by-id reads are real-time.

Interval semantics: the synchronous query returns conversations that started inside the interval; async
jobs and recording jobs return every conversation whose lifetime overlaps it (an ongoing one overlaps
everything after its start), or, with `startOfDayIntervalMatching`, those that started inside it.

Scale: filters are first turned into a candidate set through the conversation value index (`index`):
a `matches` predicate on an indexed dimension narrows, `and` intersects, `or` unites, anything else means
"all". Only candidates are evaluated, so a query with a hundred predicates over an organisation of tens
of thousands of conversations costs about as much as the conversations it finds. Timestamps are the
platform's fixed-width ISO form, so they are compared and sorted as strings.

Conversations still in progress are answered without `conversationEnd` (and without the segments that
have not happened yet) until they end.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import itertools
import json
import math
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .analytics_jobs import AnalyticsJob, Snapshot, oversized_filter
from .body_schema import refusal
from .error_body import genesys_error, jobs_full
from .limits import ASYNC_JOB_PAGE_SIZE, SYNC_QUERY_PAGE_SIZE_MAX, SYNC_QUERY_RESULTS_MAX
from .listing import BadParam, int_param
from .matching import is_phone_like, normalized, same_value
from .org_data import INDEXED_DIMENSIONS, OrgData, conversation_view, live_view
from .organisation import OrgStore
from .seed import iso

MAX_PAGE_SIZE = SYNC_QUERY_PAGE_SIZE_MAX
MAX_RESULTS = SYNC_QUERY_RESULTS_MAX
JOB_PAGE_SIZE = ASYNC_JOB_PAGE_SIZE

SESSION_DIMENSIONS = {
    "addressFrom",
    "addressTo",
    "addressSelf",
    "addressOther",
    "ani",
    "dnis",
    "sessionDnis",
    "remote",
    "remoteNameDisplayable",
    "mediaType",
    "messageType",
    "sessionId",
    "direction",
    "callbackNumber",
    "destinationAddress",
    "transferTargetAddress",
    "transferTargetName",
    "journeyCustomerId",
    "journeyCustomerIdType",
    "journeyCustomerSessionId",
    "outboundContactId",
    "outboundContactListId",
    "recording",
    "provider",
    "peerId",
    "edgeId",
    "flowId",
    "flowName",
    "roomId",
}
PARTICIPANT_DIMENSIONS = {
    "externalContactId",
    "canonicalExternalContactId",
    "externalOrganizationId",
    "participantName",
    "purpose",
    "userId",
    "participantId",
    "teamId",
}
SEGMENT_DIMENSIONS = {"queueId", "segmentType", "subject", "wrapUpCode", "wrapUpNote", "disconnectType", "groupId"}
CONVERSATION_DIMENSIONS = {
    "conversationId",
    "originatingDirection",
    "divisionId",
    "conversationInitiator",
    "customerParticipation",
    "externalTag",
    "conversationEnd",
    "conversationStart",
    "accessAttribute",
    "mediaStatsMinConversationMos",
    "originatingSocialMediaPublic",
}
ADDRESS_DIMENSIONS = {"addressFrom", "addressTo", "addressSelf", "addressOther"}
ALL_DIMENSIONS = SESSION_DIMENSIONS | PARTICIPANT_DIMENSIONS | SEGMENT_DIMENSIONS | CONVERSATION_DIMENSIONS


class QueryError(ValueError):
    """A query the platform would answer 400 for."""


@functools.lru_cache(maxsize=65536)
def _parse_time(text: str) -> datetime:
    dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def parse_interval(interval: Any) -> tuple[datetime, datetime]:
    """`start/end` ISO-8601 interval; both ends needed."""
    if not isinstance(interval, str) or "/" not in interval:
        raise QueryError("interval is required, formatted as start/end ISO-8601 datetimes.")
    start_s, end_s = interval.split("/", 1)
    try:
        start, end = _parse_time(start_s), _parse_time(end_s)
    except ValueError as exc:
        raise QueryError(f"Invalid interval {interval!r}.") from exc
    if end <= start:
        raise QueryError("The interval end must be after its start.")
    return start, end


def _values(dimension: str, conv: dict[str, Any], part: dict[str, Any] | None, session: dict[str, Any] | None) -> list[str]:
    """Values of one dimension in a (conversation, participant, session) scope."""
    if dimension in CONVERSATION_DIMENSIONS:
        if dimension == "divisionId":
            return [str(d) for d in conv.get("divisionIds", [])]
        v = conv.get(dimension)
        return [str(v)] if v is not None else []
    if dimension in PARTICIPANT_DIMENSIONS:
        key = "externalContactId" if dimension == "canonicalExternalContactId" else dimension
        v = part.get(key) if part else None
        return [str(v)] if v is not None else []
    if session is None:
        return []
    if dimension in SEGMENT_DIMENSIONS:
        return [str(s[dimension]) for s in session.get("segments", []) if s.get(dimension) is not None]
    if dimension == "callbackNumber":
        return [str(v) for v in session.get("callbackNumbers", [])]
    v = session.get(dimension)
    if isinstance(v, bool):
        return [str(v).lower()]
    return [str(v)] if v is not None else []


def value_matches(dimension: str, stored: str, wanted: str) -> bool:
    """Full-value match; phones by digits (tel: optional); email addresses also by whole local or domain part."""
    if same_value(stored, wanted):
        return True
    if dimension in ADDRESS_DIMENSIONS and "@" in stored and not is_phone_like(wanted):
        local, _, domain = stored.lower().partition("@")
        return wanted.strip().lower() in (local, domain)
    return False


def _check_predicate(pred: Any) -> None:
    if not isinstance(pred, dict):
        raise QueryError("Each predicate must be an object.")
    ptype = pred.get("type", "dimension")
    if ptype != "dimension":
        raise QueryError(f"Predicate type {ptype!r} is not supported by the simulator.")
    if pred.get("dimension") not in ALL_DIMENSIONS:
        raise QueryError(f"Unknown dimension {pred.get('dimension')!r}.")
    operator = pred.get("operator", "matches")
    if operator not in ("matches", "exists", "notExists"):
        raise QueryError(f"Unknown operator {operator!r}.")
    if operator == "matches" and pred.get("value") in (None, ""):
        raise QueryError("A matches predicate needs a value.")


def check_filter(flt: Any) -> None:
    """Validate a filter tree so evaluation can assume a sane shape."""
    if not isinstance(flt, dict):
        raise QueryError("Each filter must be an object.")
    if flt.get("type", "and") not in ("and", "or"):
        raise QueryError("Filter type must be 'and' or 'or'.")
    for pred in flt.get("predicates") or []:
        _check_predicate(pred)
    for clause in flt.get("clauses") or []:
        check_filter(clause)


def _eval_predicate(
    pred: dict[str, Any], scopes: list[tuple[dict[str, Any] | None, dict[str, Any] | None]], conv: dict[str, Any]
) -> bool:
    dimension = pred["dimension"]
    values = [v for part, sess in scopes for v in _values(dimension, conv, part, sess)]
    operator = pred.get("operator", "matches")
    if operator == "exists":
        return bool(values)
    if operator == "notExists":
        return not values
    return any(value_matches(dimension, v, str(pred["value"])) for v in values)


def _eval_filter(
    flt: dict[str, Any], scopes: list[tuple[dict[str, Any] | None, dict[str, Any] | None]], conv: dict[str, Any]
) -> bool:
    predicates = flt.get("predicates") or []
    clauses = flt.get("clauses") or []
    if not predicates and not clauses:
        return True
    # Lazy, so and/or short-circuit like the platform's evaluation would.
    results = itertools.chain(
        (_eval_predicate(p, scopes, conv) for p in predicates), (_eval_filter(c, scopes, conv) for c in clauses)
    )
    return all(results) if flt.get("type", "and") == "and" else any(results)


def _sessions(conv: dict[str, Any]) -> Iterable[tuple[dict[str, Any], dict[str, Any]]]:
    for part in conv.get("participants", []):
        for session in part.get("sessions", []):
            yield part, session


Scopes = list[tuple[dict[str, Any] | None, dict[str, Any] | None]]
CompiledFilter = Callable[[Scopes, dict[str, Any]], bool]


class _AnyValue:
    """An "or" filter made only of `matches` predicates (the shape of bulk lookups: one predicate per
    identifier), checked with set lookups instead of predicate by predicate. Same rules as `value_matches`."""

    def __init__(self, predicates: list[dict[str, Any]]) -> None:
        self.wanted: dict[str, set[str]] = {}
        self.address_parts: dict[str, set[str]] = {}
        for pred in predicates:
            dimension, value = pred["dimension"], str(pred["value"])
            self.wanted.setdefault(dimension, set()).add(normalized(value))
            if dimension in ADDRESS_DIMENSIONS and not is_phone_like(value):
                self.address_parts.setdefault(dimension, set()).add(value.strip().lower())

    def __call__(self, scopes: Scopes, conv: dict[str, Any]) -> bool:
        for dimension, wanted in self.wanted.items():
            parts = self.address_parts.get(dimension)
            for part, session in scopes:
                for stored in _values(dimension, conv, part, session):
                    if not stored:
                        continue
                    if normalized(stored) in wanted:
                        return True
                    if parts and "@" in stored:
                        local, _, domain = stored.lower().partition("@")
                        if local in parts or domain in parts:
                            return True
        return False


def compile_filter(flt: dict[str, Any]) -> CompiledFilter:
    """A checked filter as a function of (scopes, conversation)."""
    predicates = flt.get("predicates") or []
    if (
        flt.get("type", "and") == "or"
        and predicates
        and not flt.get("clauses")
        and all(p.get("type", "dimension") == "dimension" and p.get("operator", "matches") == "matches" for p in predicates)
    ):
        return _AnyValue(predicates)
    return lambda scopes, conv: _eval_filter(flt, scopes, conv)


def _matches_compiled(conv: dict[str, Any], segment: list[CompiledFilter], conversation: list[CompiledFilter]) -> bool:
    sessions = list(_sessions(conv))
    for flt in segment:
        if not any(flt([(p, s)], conv) for p, s in sessions):
            return False
    union: Scopes = [(p, s) for p, s in sessions] or [(None, None)]
    return all(flt(union, conv) for flt in conversation)


def conversation_matches(conv: dict[str, Any], segment_filters: list[Any], conversation_filters: list[Any]) -> bool:
    """Whether a conversation satisfies every segment filter (on some session) and every conversation filter."""
    return _matches_compiled(
        conv, [compile_filter(f) for f in segment_filters], [compile_filter(f) for f in conversation_filters]
    )


def iso_ceil(dt: datetime) -> str:
    """The platform's fixed-width form of the first whole millisecond at or after `dt`."""
    rem = dt.microsecond % 1000
    if rem:
        dt += timedelta(microseconds=1000 - rem)
    return iso(dt)


def _plan_predicate(data: OrgData, pred: dict[str, Any]) -> set[str] | None:
    """Conversations a predicate can be true for (a superset), or None for "any"."""
    if pred.get("operator", "matches") != "matches":
        return None
    dimension, value = pred["dimension"], str(pred["value"])
    if dimension == "conversationId":
        if is_phone_like(value):
            return None
        key = normalized(value)
        return {key} if key in data.seed.conversations else set()
    if dimension in INDEXED_DIMENSIONS:
        return data.conv_index.candidates(value)
    return None


def _intersect(sets: list[set[str]]) -> set[str]:
    sets = sorted(sets, key=len)
    out = set(sets[0])
    for other in sets[1:]:
        out &= other
    return out


def _plan_filter(data: OrgData, flt: dict[str, Any]) -> set[str] | None:
    parts = [_plan_predicate(data, p) for p in flt.get("predicates") or []]
    parts += [_plan_filter(data, c) for c in flt.get("clauses") or []]
    if not parts:
        return None
    if flt.get("type", "and") == "and":
        known = [p for p in parts if p is not None]
        return _intersect(known) if known else None
    if any(p is None for p in parts):
        return None
    return set().union(*[p for p in parts if p is not None])


def candidate_ids(data: OrgData, filters: list[dict[str, Any]]) -> set[str] | None:
    """Conversations that may satisfy every filter (a superset), or None when the filters cannot narrow."""
    known = [p for p in (_plan_filter(data, f) for f in filters) if p is not None]
    return _intersect(known) if known else None


def _filters(query: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    segment_filters = query.get("segmentFilters") or []
    conversation_filters = query.get("conversationFilters") or []
    if not isinstance(segment_filters, list) or not isinstance(conversation_filters, list):
        raise QueryError("segmentFilters and conversationFilters must be lists.")
    for flt in [*segment_filters, *conversation_filters]:
        check_filter(flt)
    return segment_filters, conversation_filters


def lake_cutoff(lag_s: float) -> str | None:
    """The data-lake availability stamp for a lag (None: no lag, everything is visible)."""
    return iso(datetime.now(UTC) - timedelta(seconds=lag_s)) if lag_s > 0 else None


def in_lake(conv: dict[str, Any], ongoing: bool, cutoff: str | None) -> bool:
    """Whether a data-lake reader (async job, recording job) sees the conversation: it must have ended by
    the availability stamp; an ongoing one is newer than any stamp behind now."""
    if cutoff is None:
        return True
    return not ongoing and conv.get("conversationEnd", conv["conversationStart"]) <= cutoff


def select_conversations(data: OrgData, query: dict[str, Any], *, overlap: bool,
                         cutoff: str | None = None) -> list[dict[str, Any]]:
    """Conversations matching a query's interval and filters, unsorted.

    Finished conversations are the stored dicts themselves (copy before answering); ongoing ones are
    `live_view` copies. `overlap` picks lifetime-overlap interval semantics (jobs) over started-inside (sync).
    With a `cutoff` (data-lake readers under a lag), conversations that ended after it are left out.
    """
    start, end = parse_interval(query.get("interval"))
    segment_filters, conversation_filters = _filters(query)
    lo, hi = iso_ceil(start), iso_ceil(end)
    convs = data.seed.conversations
    found = candidate_ids(data, [*segment_filters, *conversation_filters])
    pool: Iterable[dict[str, Any]] = convs.values() if found is None else (convs[c] for c in found if c in convs)
    active = data.active_now()
    now_iso = iso(datetime.now(UTC)) if active else ""
    segment = [compile_filter(f) for f in segment_filters]
    conversation = [compile_filter(f) for f in conversation_filters]
    out = []
    for conv in pool:
        conv_start = conv["conversationStart"]
        if conv_start >= hi:
            continue
        ongoing = conv["conversationId"] in active
        if not in_lake(conv, ongoing, cutoff):
            continue
        if overlap:
            if not ongoing and conv.get("conversationEnd", conv_start) < lo:
                continue
        elif conv_start < lo:
            continue
        view = live_view(conv, now_iso) if ongoing else conv
        if _matches_compiled(view, segment, conversation):
            out.append(view)
    return out


def _ordering(query: dict[str, Any]) -> tuple[str, str]:
    order = query.get("order", "asc")
    if order not in ("asc", "desc", "unordered"):
        raise QueryError("order must be asc, desc or unordered.")
    order_by = query.get("orderBy", "conversationStart")
    if order_by not in ("conversationStart", "conversationEnd", "segmentStart", "segmentEnd"):
        raise QueryError("orderBy must be conversationStart, conversationEnd, segmentStart or segmentEnd.")
    return order, "conversationEnd" if order_by in ("conversationEnd", "segmentEnd") else "conversationStart"


def sort_conversations(convs: list[dict[str, Any]], order: str, sort_key: str) -> None:
    """In place; conversations without the key (ongoing, by end) sort after all others."""
    convs.sort(key=lambda c: (c.get(sort_key) or "\uffff", c["conversationId"]), reverse=order == "desc")


def run_query(data: OrgData, query: Any) -> dict[str, Any]:
    """Evaluate a synchronous ConversationQuery and build the response (the page is not copied)."""
    if not isinstance(query, dict):
        raise QueryError("The body must be a ConversationQuery object.")
    parse_interval(query.get("interval"))
    paging = query.get("paging") or {}
    try:
        page_size = int(paging.get("pageSize", 25))
        page_number = int(paging.get("pageNumber", 1))
    except (TypeError, ValueError, AttributeError) as exc:
        raise QueryError("paging.pageSize and paging.pageNumber must be integers.") from exc
    if page_size < 1 or page_size > MAX_PAGE_SIZE:
        raise QueryError(f"paging.pageSize must be between 1 and {MAX_PAGE_SIZE}.")
    if page_number < 1:
        raise QueryError("paging.pageNumber must be at least 1.")
    if page_size * page_number > MAX_RESULTS:
        raise QueryError("Pagination may not exceed 100000 results.")
    order, sort_key = _ordering(query)
    hits = select_conversations(data, query, overlap=False)
    sort_conversations(hits, order, sort_key)
    page = hits[(page_number - 1) * page_size : page_number * page_size]
    out: dict[str, Any] = {"totalHits": len(hits)}
    if page:
        out["conversations"] = page
    return out


# ---------------------------------------------------------------------------------------------- async jobs
def check_job_query(query: Any) -> None:
    """Validate an AsyncConversationQuery (raises QueryError)."""
    if not isinstance(query, dict):
        raise QueryError("The body must be an AsyncConversationQuery object.")
    if "paging" in query:
        raise QueryError("AsyncConversationQuery has no paging; page the results with cursor and pageSize.")
    parse_interval(query.get("interval"))
    _filters(query)
    _ordering(query)
    limit = query.get("limit")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise QueryError("limit must be a positive integer.")


def encode_cursor(job_id: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{job_id}:{offset}".encode()).decode()


def decode_cursor(job_id: str, cursor: str) -> int:
    try:
        owner, _, offset = base64.urlsafe_b64decode(cursor.encode()).decode().rpartition(":")
        value = int(offset)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise QueryError("Invalid cursor.") from exc
    if owner != job_id or value < 0:
        raise QueryError("Invalid cursor.")
    return value


def job_status(job: AnalyticsJob, now: float) -> dict[str, Any]:
    """An `AsyncQueryStatus`."""
    state = job.state(now)
    submitted = datetime.fromisoformat(job.submitted_iso.replace("Z", "+00:00"))
    out: dict[str, Any] = {
        "state": state,
        "submissionDate": job.submitted_iso,
        "expirationDate": iso(submitted + timedelta(days=1)),
    }
    if state in ("FULFILLED", "FAILED", "EXPIRED"):
        out["completionDate"] = iso(submitted + timedelta(seconds=job.duration_s))
    if state == "FAILED":
        out["errorMessage"] = "The job failed (injected fault)."
    return out


def check_sync_interval(query: Any, max_days: int) -> None:
    """A synchronous query's interval may span at most `max_days` (0: any); see `limits`."""
    if max_days and isinstance(query, dict):
        start, end = parse_interval(query.get("interval"))
        if end - start > timedelta(days=max_days):
            raise QueryError(f"The interval may not exceed {max_days} days for a synchronous query.")


async def details_query(store: OrgStore, request: Request) -> Response:
    """POST .../details/query: the synchronous query."""
    try:
        query = json.loads(await request.body() or b"null")
    except json.JSONDecodeError:
        return genesys_error(request, 400, "The request body is not valid JSON.")
    refused = refusal(store.config, request, "POST /api/v2/analytics/conversations/details/query", query)
    if refused is not None:
        return refused
    try:
        # Evaluated on the live data under the lock; only the answered page is copied.
        check_sync_interval(query, store.config.sync_query_max_days)
        with store.session() as data:
            result = copy.deepcopy(run_query(data, query))
    except QueryError as exc:
        return genesys_error(request, 400, str(exc))
    return JSONResponse(result)


async def one_conversation(store: OrgStore, request: Request) -> Response:
    with store.session() as data:
        conv = conversation_view(data, request.path_params["conversationId"])
    if conv is None:
        return genesys_error(request, 404, "Conversation not found.")
    return JSONResponse(conv)


async def many_conversations(store: OrgStore, request: Request) -> Response:
    """GET .../details?id=a,b (or id=a&id=b): the conversations found; unknown ids are left out. More
    ids than `details_ids_max` are refused (the platform's maximum is unknown, see `limits`)."""
    ids = list(dict.fromkeys(i for raw in request.query_params.getlist("id") for i in raw.split(",") if i))
    if not ids:
        return genesys_error(request, 400, "id is required.")
    cap = store.config.details_ids_max
    if cap and len(ids) > cap:
        return genesys_error(request, 400, f"At most {cap} conversation ids may be requested at once.")
    with store.session() as data:
        found = [c for c in (conversation_view(data, i) for i in ids) if c is not None]
    return JSONResponse({"conversations": found} if found else {})


def _jobs_full(store: OrgStore, request: Request, cap: int, running: list[AnalyticsJob], now: float) -> Response:
    """The refusal of a submission while `cap` jobs are queued or running; Retry-After is when the first ends."""
    wait = max(1, math.ceil(min(j.submitted_mono + j.duration_s for j in running) - now))
    return jobs_full(request, store.config.job_slots_refusal,
                     f"Too many jobs: at most {cap} analytics jobs may be queued or running.", wait)


def _job_hits(data: OrgData, query: Any, cutoff: str | None) -> list[dict[str, Any]]:
    """The conversations a job query selects from the data lake (up to `cutoff`), ordered and limited;
    raises QueryError."""
    check_job_query(query)
    overlap = not query.get("startOfDayIntervalMatching")
    hits = select_conversations(data, query, overlap=overlap, cutoff=cutoff)
    order, sort_key = _ordering(query)
    sort_conversations(hits, order, sort_key)
    return hits[: query["limit"]] if query.get("limit") else hits


def _snapshot(data: OrgData, hits: list[dict[str, Any]]) -> Snapshot:
    """The job's result set: ids, plus the view as of now of the ongoing conversations among them."""
    snapshot = Snapshot([c["conversationId"] for c in hits])
    for conv in hits:
        if conv is not data.seed.conversations.get(conv["conversationId"]):
            snapshot.frozen[conv["conversationId"]] = conv  # an ongoing one: its view as of now
    return snapshot


async def submit_job(store: OrgStore, request: Request) -> Response:
    """POST .../jobs: fix the result set now (a snapshot) and answer the job id (202)."""
    try:
        query = json.loads(await request.body() or b"null")
    except json.JSONDecodeError:
        return genesys_error(request, 400, "The request body is not valid JSON.")
    refused = refusal(store.config, request, "POST /api/v2/analytics/conversations/details/jobs", query)
    if refused is not None:
        return refused
    with store.session() as data:
        now = time.monotonic()
        jobs = store.analytics_jobs
        cap = store.config.analytics_jobs_max
        running = jobs.running(now)
        if cap > 0 and len(running) >= cap:
            jobs.rejected += 1
            return _jobs_full(store, request, cap, running, now)
        oversized = oversized_filter(query, store.config.analytics_job_predicates_max)
        if oversized:
            return genesys_error(request, 400, oversized)
        cutoff = lake_cutoff(store.config.data_lag_s)
        try:
            hits = _job_hits(data, query, cutoff)
        except QueryError as exc:
            return genesys_error(request, 400, str(exc))
        will_fail = jobs.failures_pending > 0
        if will_fail:
            jobs.failures_pending -= 1
        stamp = iso(datetime.now(UTC))
        job = AnalyticsJob(
            id=str(uuid.uuid4()),
            query=copy.deepcopy(query),
            submitted_mono=now,
            submitted_iso=stamp,
            duration_s=max(0.0, store.config.analytics_job_s),
            snapshot=_snapshot(data, hits),
            will_fail=will_fail,
            availability_iso=cutoff or stamp,
        )
        jobs.jobs[job.id] = job
        jobs.submitted += 1
    return JSONResponse({"jobId": job.id}, status_code=202)


def _job(store: OrgStore, request: Request) -> AnalyticsJob | None:
    return store.analytics_jobs.jobs.get(request.path_params["jobId"])


async def job_state(store: OrgStore, request: Request) -> Response:
    with store.session():
        job = _job(store, request)
        if job is None:
            return genesys_error(request, 404, "Analytics job not found.")
        return JSONResponse(job_status(job, time.monotonic()))


def _results_page(data: OrgData, job: AnalyticsJob, offset: int, size: int) -> dict[str, Any]:
    """One page of a job's results as of its submission, with the cursor of the next page when there is one."""
    snap = job.snapshot
    page = []
    for cid in snap.ids[offset : offset + size]:
        conv = snap.frozen.get(cid) or data.seed.conversations.get(cid)
        if conv is not None:
            page.append(copy.deepcopy(conv))
    out: dict[str, Any] = {}
    if page:
        out["conversations"] = page
    if offset + size < len(snap.ids):
        out["cursor"] = encode_cursor(job.id, offset + size)
    out["dataAvailabilityDate"] = job.availability_iso
    return out


async def job_results(store: OrgStore, request: Request) -> Response:
    """GET .../jobs/{jobId}/results: a page of a FULFILLED job, from its cursor."""
    try:
        size = int_param(request.query_params, "pageSize", JOB_PAGE_SIZE, 1, JOB_PAGE_SIZE)
    except BadParam as exc:
        return genesys_error(request, 400, str(exc))
    with store.session() as data:
        job = _job(store, request)
        if job is None:
            return genesys_error(request, 404, "Analytics job not found.")
        state = job.state(time.monotonic())
        if state != "FULFILLED":
            return genesys_error(request, 400, f"The job is {state}; results are available once it is FULFILLED.")
        try:
            offset = decode_cursor(job.id, request.query_params.get("cursor") or encode_cursor(job.id, 0))
        except QueryError as exc:
            return genesys_error(request, 400, str(exc))
        out = _results_page(data, job, offset, size)
    return JSONResponse(out)


async def delete_job(store: OrgStore, request: Request) -> Response:
    with store.session():
        job = _job(store, request)
        if job is None:
            return genesys_error(request, 404, "Analytics job not found.")
        job.cancelled = True
        store.analytics_jobs.forget(job.id)
    return Response(status_code=204)


async def availability(store: OrgStore, request: Request) -> Response:
    """GET .../jobs/availability: how far the data lake async jobs read from reaches (now - lag)."""
    return JSONResponse({"dataAvailabilityDate": lake_cutoff(store.config.data_lag_s) or iso(datetime.now(UTC))})


def routes(store: OrgStore) -> list[Route]:
    jobs = "/api/v2/analytics/conversations/details/jobs"
    return [
        Route("/api/v2/analytics/conversations/details/query", partial(details_query, store), methods=["POST"]),
        Route(jobs, partial(submit_job, store), methods=["POST"]),
        Route(f"{jobs}/availability", partial(availability, store), methods=["GET"]),
        Route(f"{jobs}/{{jobId}}", partial(job_state, store), methods=["GET"]),
        Route(f"{jobs}/{{jobId}}", partial(delete_job, store), methods=["DELETE"]),
        Route(f"{jobs}/{{jobId}}/results", partial(job_results, store), methods=["GET"]),
        Route("/api/v2/analytics/conversations/details", partial(many_conversations, store), methods=["GET"]),
        Route("/api/v2/analytics/conversations/{conversationId}/details", partial(one_conversation, store), methods=["GET"]),
    ]
