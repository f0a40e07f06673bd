"""External contacts: identifier lookup, keyword listing, read and delete.

These are how a web-messaging guest is found by email or phone on the real platform (there is no
"guests" API), so the simulator answers them with the same shapes and 404s.

Merged contacts (`SimConfig.linked_fraction`): each contact answers with its own identifiers plus the
merge links of the SDK's ExternalContact (`canonicalContact`, `mergeSet`, `mergedFrom`, `mergedTo`,
`mergeOperation`). An identifier lookup answers the contact that holds the identifier, even when that
contact was merged into another one (what the platform does there is UNCONFIRMED): reaching the rest of
the person means following the links with `GET .../contacts/{contactId}`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .errors import genesys_error
from .listing import BadParam, int_param, listing
from .matching import digits, is_phone_like, same_value
from .store import OrgStore

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


def routes(store: OrgStore) -> list[Route]:
    async def identifier_lookup(request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"null")
        except json.JSONDecodeError:
            return genesys_error(request, 400, "The request body is not valid JSON.")
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

    async def list_contacts(request: Request) -> Response:
        try:
            size = int_param(request.query_params, "pageSize", 20, 1, 200)
            number = int_param(request.query_params, "pageNumber", 1, 1)
        except BadParam as exc:
            return genesys_error(request, 400, str(exc))
        if size * number > 1000:
            return genesys_error(request, 400, "pageSize times pageNumber must not exceed 1000.")
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

    async def get_contact(request: Request) -> Response:
        contact = store.contact(request.path_params["contactId"])
        if contact is None:
            return genesys_error(request, 404, "Contact not found.", "contact.not.found")
        return JSONResponse(contact)

    async def delete_contact(request: Request) -> Response:
        if not store.delete_contact(request.path_params["contactId"]):
            return genesys_error(request, 404, "Contact not found.", "contact.not.found")
        return JSONResponse({})

    return [
        Route("/api/v2/externalcontacts/identifierlookup/contacts", identifier_lookup, methods=["POST"]),
        Route("/api/v2/externalcontacts/contacts", list_contacts, methods=["GET"]),
        Route("/api/v2/externalcontacts/contacts/{contactId}", get_contact, methods=["GET"]),
        Route("/api/v2/externalcontacts/contacts/{contactId}", delete_contact, methods=["DELETE"]),
    ]
