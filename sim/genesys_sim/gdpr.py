"""The four GDPR operations: submit, list and read requests, and search subjects.

Validation follows what the platform is documented to require; the request lifecycle itself lives in the
store (states derived from elapsed time, effects applied once on completion).

Subject search answers one GDPRSubject per external contact holding the value (that contact's name,
emails, phones and externalContactId): a person whose identifiers are split over merged contacts is only
found whole by following the contact links. A recycled phone number finds its current owner. Former
agents are not found by NAME (UNCONFIRMED on the platform); a request whose subject carries `userId`
anonymises that user's agent participants (name and user id) when it completes.

A completed GDPR_DELETE erases every value its subject names wherever it is held (`org_data.apply_delete`):
`name` too, so a name reaches every namesake's conversations, contacts and subject records. NAME is a
search type and a replacement term on the platform (VERIFIED, SDK enums); the rule by which it matches a
name (whole value, case) is UNCONFIRMED: the simulator matches the whole name case-insensitively, and in
free text on word boundaries. `externalContactId` is one contact id: a request erases that contact's id
from conversations, not the ids of contacts merged with it. `journeyCustomer` (`{type, id}`, each
required with the other) erases the guest's journey cookie (`journeyCustomerId` of web chats, the
contact's `Cookie` identifier). The simulator does not look a named contact up to widen the request to
its other identifiers (UNCONFIRMED whether the platform does): a request erases only what it names.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .body_schema import refusal
from .error_body import genesys_error
from .limits import LIST_PAGE_SIZE_DEFAULT, LIST_PAGE_SIZE_MAX
from .listing import BadParam, int_param, listing
from .organisation import GDPR_TYPES, OrgStore

SEARCH_TYPES = (
    "NAME",
    "ADDRESS",
    "PHONE",
    "EMAIL",
    "TWITTER",
    "INSTAGRAM",
    "FACEBOOK",
    "APPLE_MESSAGES",
    "WHATSAPP",
    "EXTERNAL_ID",
)
SUBJECT_KEYS = (
    "name",
    "userId",
    "externalContactId",
    "dialerContactId",
    "journeyCustomer",
    "socialHandle",
    "externalId",
    "addresses",
    "phoneNumbers",
    "emailAddresses",
)


def _validate(body: Any, delete_confirmed: bool) -> str | None:
    """Why a GDPRRequest body is refused, or None when it is acceptable."""
    if not isinstance(body, dict):
        return "The request body must be a GDPRRequest object."
    kind = body.get("requestType")
    if kind not in GDPR_TYPES:
        return f"requestType must be one of {', '.join(GDPR_TYPES)}."
    subject = body.get("subject")
    if not isinstance(subject, dict) or not any(subject.get(k) for k in SUBJECT_KEYS):
        return "subject is required and must carry at least one identifier."
    for key in ("addresses", "phoneNumbers", "emailAddresses"):
        if subject.get(key) is not None and not isinstance(subject[key], list):
            return f"subject.{key} must be a list."
    journey = subject.get("journeyCustomer")
    if journey is not None and not (isinstance(journey, dict) and isinstance(journey.get("type"), str)
                                    and journey["type"] and isinstance(journey.get("id"), str) and journey["id"]):
        # SDK GDPRJourneyCustomer: "type" and "id", each required when the other is given.
        return "subject.journeyCustomer needs both type and id."
    if kind == "GDPR_DELETE" and not delete_confirmed:
        return "deleteConfirmed must be true to submit a GDPR_DELETE request."
    if kind == "GDPR_UPDATE":
        terms = body.get("replacementTerms")
        if not isinstance(terms, list) or not terms:
            return "replacementTerms are required for a GDPR_UPDATE request."
        for term in terms:
            if not isinstance(term, dict) or not term.get("existingValue") or "updatedValue" not in term:
                return "each replacementTerm needs existingValue and updatedValue."
    return None


async def post_request(store: OrgStore, request: Request) -> Response:
    try:
        body = json.loads(await request.body() or b"null")
    except json.JSONDecodeError:
        return genesys_error(request, 400, "The request body is not valid JSON.")
    refused = refusal(store.config, request, "POST /api/v2/gdpr/requests", body)
    if refused is not None:
        return refused
    confirmed = request.query_params.get("deleteConfirmed", "false").lower() == "true"
    problem = _validate(body, confirmed)
    if problem:
        return genesys_error(request, 400, problem)
    return JSONResponse(store.create_gdpr_request(body, store.config.client_id))


async def list_requests(store: OrgStore, request: Request) -> Response:
    try:
        size = int_param(request.query_params, "pageSize", LIST_PAGE_SIZE_DEFAULT, 1, LIST_PAGE_SIZE_MAX)
        number = int_param(request.query_params, "pageNumber", 1, 1)
    except BadParam as exc:
        return genesys_error(request, 400, str(exc))
    entities, total = store.list_gdpr_requests(size, number)
    entities = [_echoed(store, entity, request) for entity in entities]
    return JSONResponse(listing(entities, total, size, number, "/api/v2/gdpr/requests"))


async def get_request(store: OrgStore, request: Request) -> Response:
    found = store.get_gdpr_request(request.path_params["requestId"])
    if found is None:
        return genesys_error(request, 404, "GDPR request not found.")
    return JSONResponse(_echoed(store, found, request))


def _echoed(store: OrgStore, entity: dict[str, Any], request: Request) -> dict[str, Any]:
    """A GDPR request as answered: without its ``name`` when ``SimConfig.gdpr_echo_name`` is off, and a
    completed export's links absolute on the host that was asked (``gdpr_export``)."""
    if entity.get("resultsUrls"):
        base = str(request.base_url).rstrip("/")
        entity = {**entity, "resultsUrl": base + entity["resultsUrl"],
                  "resultsUrls": [base + url for url in entity["resultsUrls"]]}
    if store.config.gdpr_echo_name:
        return entity
    return {key: value for key, value in entity.items() if key != "name"}


async def search_subjects(store: OrgStore, request: Request) -> Response:
    search_type = request.query_params.get("searchType", "")
    value = request.query_params.get("searchValue", "")
    if search_type not in SEARCH_TYPES:
        return genesys_error(request, 400, f"searchType must be one of {', '.join(SEARCH_TYPES)}.")
    if not value.strip():
        return genesys_error(request, 400, "searchValue is required.")
    entities = store.search_subjects(search_type, value)
    size = max(25, len(entities))
    return JSONResponse(
        listing(entities, len(entities), size, 1, "/api/v2/gdpr/subjects", {"searchType": search_type, "searchValue": value})
    )


def routes(store: OrgStore) -> list[Route]:
    return [
        Route("/api/v2/gdpr/requests", partial(post_request, store), methods=["POST"]),
        Route("/api/v2/gdpr/requests", partial(list_requests, store), methods=["GET"]),
        Route("/api/v2/gdpr/requests/{requestId}", partial(get_request, store), methods=["GET"]),
        Route("/api/v2/gdpr/subjects", partial(search_subjects, store), methods=["GET"]),
    ]
