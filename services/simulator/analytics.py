"""Conversation detail queries (`POST /api/v2/analytics/conversations/details/query` and the id lookups).

Honours interval, segment and conversation filters (and/or, nested clauses, dimension predicates with
matches/exists/notExists), paging and ordering. Segment filters are evaluated per session (all predicates
of one filter must hold on the same session, with its participant's and conversation's dimensions in
view); conversation filters see the union of every session. As on the platform, an email-address
predicate matches the full address or its whole local part or whole domain.
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .errors import genesys_error
from .matching import is_phone_like, same_value
from .store import OrgStore

MAX_PAGE_SIZE = 100
MAX_RESULTS = 100_000

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


def conversation_matches(conv: dict[str, Any], segment_filters: list[Any], conversation_filters: list[Any]) -> bool:
    """Whether a conversation satisfies every segment filter (on some session) and every conversation filter."""
    sessions = list(_sessions(conv))
    for flt in segment_filters:
        if not any(_eval_filter(flt, [(p, s)], conv) for p, s in sessions):
            return False
    union: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = [(p, s) for p, s in sessions] or [(None, None)]
    return all(_eval_filter(flt, union, conv) for flt in conversation_filters)


def run_query(conversations: list[dict[str, Any]], query: Any) -> dict[str, Any]:
    """Evaluate a ConversationQuery against the given conversations and build the response."""
    if not isinstance(query, dict):
        raise QueryError("The body must be a ConversationQuery object.")
    start, end = parse_interval(query.get("interval"))
    segment_filters = query.get("segmentFilters") or []
    conversation_filters = query.get("conversationFilters") or []
    if not isinstance(segment_filters, list) or not isinstance(conversation_filters, list):
        raise QueryError("segmentFilters and conversationFilters must be lists.")
    for flt in [*segment_filters, *conversation_filters]:
        check_filter(flt)
    paging = query.get("paging") or {}
    try:
        page_size = int(paging.get("pageSize", 25))
        page_number = int(paging.get("pageNumber", 1))
    except (TypeError, ValueError) as exc:
        raise QueryError("paging.pageSize and paging.pageNumber must be integers.") from exc
    if page_size < 1 or page_size > MAX_PAGE_SIZE:
        raise QueryError(f"paging.pageSize must be between 1 and {MAX_PAGE_SIZE}.")
    if page_number < 1:
        raise QueryError("paging.pageNumber must be at least 1.")
    if page_size * page_number > MAX_RESULTS:
        raise QueryError("Pagination may not exceed 100000 results.")
    order = query.get("order", "asc")
    if order not in ("asc", "desc", "unordered"):
        raise QueryError("order must be asc, desc or unordered.")
    order_by = query.get("orderBy", "conversationStart")
    sort_key = "conversationEnd" if order_by in ("conversationEnd", "segmentEnd") else "conversationStart"

    hits = [
        c
        for c in conversations
        if start <= _parse_time(c["conversationStart"]) < end and conversation_matches(c, segment_filters, conversation_filters)
    ]
    hits.sort(key=lambda c: (_parse_time(c[sort_key]), c["conversationId"]), reverse=order == "desc")
    page = hits[(page_number - 1) * page_size : page_number * page_size]
    out: dict[str, Any] = {"totalHits": len(hits)}
    if page:
        out["conversations"] = page
    return out


def routes(store: OrgStore) -> list[Route]:
    async def details_query(request: Request) -> Response:
        try:
            query = json.loads(await request.body() or b"null")
        except json.JSONDecodeError:
            return genesys_error(request, 400, "The request body is not valid JSON.")
        try:
            # Evaluated on the live data under the lock; only the answered page is copied.
            with store.session() as data:
                result = copy.deepcopy(run_query(list(data.seed.conversations.values()), query))
        except QueryError as exc:
            return genesys_error(request, 400, str(exc))
        return JSONResponse(result)

    async def one_conversation(request: Request) -> Response:
        conv = store.conversation(request.path_params["conversationId"])
        if conv is None:
            return genesys_error(request, 404, "Conversation not found.")
        return JSONResponse(conv)

    async def many_conversations(request: Request) -> Response:
        ids = [i for i in request.query_params.get("id", "").split(",") if i]
        if not ids:
            return genesys_error(request, 400, "id is required.")
        found = [c for c in (store.conversation(i) for i in ids[:100]) if c is not None]
        return JSONResponse({"conversations": found} if found else {})

    return [
        Route("/api/v2/analytics/conversations/details/query", details_query, methods=["POST"]),
        Route("/api/v2/analytics/conversations/details", many_conversations, methods=["GET"]),
        Route("/api/v2/analytics/conversations/{conversationId}/details", one_conversation, methods=["GET"]),
    ]
