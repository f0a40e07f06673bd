"""External contacts: identifier lookup, keyword listing, read and delete, one by one or in bulk.

These are how a web-messaging guest is found by email or phone on the real platform (there is no
"guests" API), so the simulator answers them with the same shapes and 404s.

Merged contacts (`SimConfig.linked_fraction`): each contact answers with its own identifiers plus the
merge links of the SDK's ExternalContact (`canonicalContact`, `mergeSet`, `mergedFrom`, `mergedTo`,
`mergeOperation`). An identifier lookup answers the contact that holds the identifier, even when that
contact was merged into another one (what the platform does there is UNCONFIRMED): reaching the rest of
the person means following the links with `GET .../contacts/{contactId}`.

Bulk fetch and bulk remove (`POST /api/v2/externalcontacts/bulk/contacts[/remove]`, SDK
`post_externalcontacts_bulk_contacts[_remove]`) take a `BulkIdsRequest {entities: [{id}]}` and answer
`BulkFetchContactsResponse` / `BulkDeleteResponse`: one result per id (`id`, `success`, the contact or
an `error {code, message, status, retryable}`), `errorCount` and `errorIndexes`. An unknown id is a
failed result with status 404, not a failed call. The real per-call maximum is UNCONFIRMED; the
simulator refuses more than `MAX_BULK_IDS` with a 400 so a client that does not chunk is caught.
"""

from __future__ import annotations

import copy
import json
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .body_schema import refusal
from .error_body import genesys_error
from .limits import EXTERNAL_CONTACTS_BULK_IDS_MAX, EXTERNAL_CONTACTS_PAGE_SIZE_MAX, EXTERNAL_CONTACTS_PAGE_WINDOW
from .listing import BadParam, int_param, listing
from .matching import digits, is_phone_like, same_value
from .organisation import OrgStore

MAX_BULK_IDS = EXTERNAL_CONTACTS_BULK_IDS_MAX

IDENTIFIER_TYPES = (
    "SocialLine",
    "SocialFacebook",
    "SocialTwitter",
    "SocialWhatsapp",
    "SocialInstagram",
    "SocialWhatsappBsuid",
    "AppleOpaqueId",
    "Email",
    "Phone",
    "Cookie",
    "ExternalId",
    "SocialInstagramHandle",
)


def _keywords_text(contact: dict[str, Any]) -> str:
    """Everything keyword search looks at, lower-cased."""
    parts = [contact.get(k) or "" for k in ("firstName", "middleName", "lastName", "workEmail", "personalEmail", "otherEmail")]
    for key in ("cellPhone", "homePhone", "workPhone", "otherPhone"):
        phone = contact.get(key) or {}
        parts += [phone.get("e164") or "", phone.get("display") or ""]
    return " ".join(parts).lower()


def keyword_match(contact: dict[str, Any], q: str) -> bool:
    """Every whitespace-separated keyword occurs in the contact (phones also by digits)."""
    text = _keywords_text(contact)
    text_digits = digits(text)
    for word in q.lower().split():
        if word in text:
            continue
        if is_phone_like(word) and digits(word) and digits(word) in text_digits:
            continue
        return False
    return True


def identifier_match(contact: dict[str, Any], id_type: str, value: str) -> bool:
    """Whether the contact claims this identifier (or, for Email/Phone, holds it in a contact field)."""
    for ident in contact.get("identifiers") or []:
        if ident.get("type") == id_type and same_value(ident.get("value"), value):
            return True
    if id_type == "Email":
        return any(same_value(contact.get(k), value) for k in ("workEmail", "personalEmail", "otherEmail"))
    if id_type == "Phone":
        return any(
            same_value((contact.get(k) or {}).get("e164"), value) for k in ("cellPhone", "homePhone", "workPhone", "otherPhone")
        )
    return False


def _bulk_ids(body: Any) -> list[str] | str:
    """The ids of a `BulkIdsRequest`, or what is wrong with it."""
    entities = body.get("entities") if isinstance(body, dict) else None
    if not isinstance(entities, list) or not entities:
        return "A BulkIdsRequest with a non-empty entities list is required."
    if len(entities) > MAX_BULK_IDS:
        return f"At most {MAX_BULK_IDS} entities per request."
    ids = [e.get("id") if isinstance(e, dict) else None for e in entities]
    if not all(isinstance(i, str) and i for i in ids):
        return "Every entity needs an id."
    return [str(i) for i in ids]


def _not_found(contact_id: str) -> dict[str, Any]:
    return {"id": contact_id, "success": False, "status": 404,
            "error": {"code": "contact.not.found", "message": "Contact not found.", "status": 404, "retryable": False,
                      "entity": {"id": contact_id}}}


def _bulk_response(results: list[dict[str, Any]]) -> dict[str, Any]:
    errors = [i for i, r in enumerate(results) if not r["success"]]
    return {"results": results, "errorCount": len(errors), "errorIndexes": errors}


async def _read_bulk_ids(store: OrgStore, request: Request, endpoint: str) -> list[str] | Response:
    """The ids of a BulkIdsRequest body, or the 400 answer."""
    try:
        body = json.loads(await request.body() or b"null")
    except json.JSONDecodeError:
        return genesys_error(request, 400, "The request body is not valid JSON.")
    refused = refusal(store.config, request, endpoint, body)
    if refused is not None:
        return refused
    ids = _bulk_ids(body)
    return genesys_error(request, 400, ids) if isinstance(ids, str) else ids


async def bulk_fetch(store: OrgStore, request: Request) -> Response:
    ids = await _read_bulk_ids(store, request, "POST /api/v2/externalcontacts/bulk/contacts")
    if isinstance(ids, Response):
        return ids
    found = store.contacts_by_id(ids)
    return JSONResponse(_bulk_response([
        {"id": c, "success": True, "entity": found[c]} if c in found else _not_found(c) for c in ids]))


async def bulk_remove(store: OrgStore, request: Request) -> Response:
    ids = await _read_bulk_ids(store, request, "POST /api/v2/externalcontacts/bulk/contacts/remove")
    if isinstance(ids, Response):
        return ids
    deleted = store.delete_contacts(ids)
    return JSONResponse(_bulk_response([
        {"id": c, "success": True, "status": 200} if c in deleted else _not_found(c) for c in ids]))


async def identifier_lookup(store: OrgStore, request: Request) -> Response:
    """The contact holding a ContactIdentifier (type and value), or 404."""
    try:
        body = json.loads(await request.body() or b"null")
    except json.JSONDecodeError:
        return genesys_error(request, 400, "The request body is not valid JSON.")
    refused = refusal(store.config, request, "POST /api/v2/externalcontacts/identifierlookup/contacts", body)
    if refused is not None:
        return refused
    if not isinstance(body, dict) or body.get("type") not in IDENTIFIER_TYPES or not body.get("value"):
        return genesys_error(request, 400, "A ContactIdentifier with a valid type and a value is required.")
    value = str(body["value"])
    if body["type"] == "Phone" and not value.strip().startswith("+"):
        return genesys_error(request, 400, "Phone identifiers need a leading + and a country code.")
    with store.session() as data:
        contacts = data.seed.contacts
        holders = (contacts[c] for c in data.contacts_for([value]))
        found = next((c for c in holders if identifier_match(c, body["type"], value)), None)
        if found is not None:
            return JSONResponse(copy.deepcopy(found))
    return genesys_error(request, 404, "No contact found for the identifier.", "contact.not.found")


async def list_contacts(store: OrgStore, request: Request) -> Response:
    """One page of contacts by last and first name, filtered by keywords (`q`)."""
    try:
        size = int_param(request.query_params, "pageSize", 20, 1, EXTERNAL_CONTACTS_PAGE_SIZE_MAX)
        number = int_param(request.query_params, "pageNumber", 1, 1)
    except BadParam as exc:
        return genesys_error(request, 400, str(exc))
    if size * number > EXTERNAL_CONTACTS_PAGE_WINDOW:
        return genesys_error(request, 400, f"pageSize times pageNumber must not exceed {EXTERNAL_CONTACTS_PAGE_WINDOW}.")
    q = request.query_params.get("q", "")
    with store.session() as data:
        # Keyword search matches substrings, which the value index cannot answer: scan, copy only the page.
        hits = [c for c in data.seed.contacts.values() if not q.strip() or keyword_match(c, q)]
        hits.sort(key=lambda c: ((c.get("lastName") or "").lower(), (c.get("firstName") or "").lower(), c["id"]))
        if request.query_params.get("sortOrder", "").lower().endswith("desc"):
            hits.reverse()
        page = copy.deepcopy(hits[(number - 1) * size : number * size])
    extra = {"q": q} if q else {}
    return JSONResponse(listing(page, len(hits), size, number, "/api/v2/externalcontacts/contacts", extra))


async def get_contact(store: OrgStore, request: Request) -> Response:
    contact = store.contact(request.path_params["contactId"])
    if contact is None:
        return genesys_error(request, 404, "Contact not found.", "contact.not.found")
    return JSONResponse(contact)


async def delete_contact(store: OrgStore, request: Request) -> Response:
    if not store.delete_contact(request.path_params["contactId"]):
        return genesys_error(request, 404, "Contact not found.", "contact.not.found")
    return JSONResponse({})


def routes(store: OrgStore) -> list[Route]:
    return [
        Route("/api/v2/externalcontacts/identifierlookup/contacts", partial(identifier_lookup, store), methods=["POST"]),
        Route("/api/v2/externalcontacts/contacts", partial(list_contacts, store), methods=["GET"]),
        Route("/api/v2/externalcontacts/contacts/{contactId}", partial(get_contact, store), methods=["GET"]),
        Route("/api/v2/externalcontacts/contacts/{contactId}", partial(delete_contact, store), methods=["DELETE"]),
        Route("/api/v2/externalcontacts/bulk/contacts", partial(bulk_fetch, store), methods=["POST"]),
        Route("/api/v2/externalcontacts/bulk/contacts/remove", partial(bulk_remove, store), methods=["POST"]),
    ]
