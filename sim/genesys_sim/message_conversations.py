"""Messaging conversation content: the conversation, one message, and the bulk message read.

There is no write-back API on the platform; transcripts change only when a GDPR request rewrites them,
which is exactly what these reads then show. Field names follow the SDK models `MessageConversation`,
`MessageMediaParticipant`, `MessageDetails` and `MessageData` (plus `textBody`, which the transcript
readers in this project look at first).
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .error_body import genesys_error
from .limits import MESSAGE_BULK_IDS_MAX
from .organisation import OrgStore
from .seed import StoredMessage

MAX_BULK = MESSAGE_BULK_IDS_MAX


def _address(value: str | None) -> dict[str, Any] | None:
    """The SDK `Address` object."""
    if not value:
        return None
    return {"name": value, "nameRaw": value, "addressNormalized": value, "addressRaw": value, "addressDisplayable": value}


def message_uri(conv_id: str, message_id: str) -> str:
    return f"/api/v2/conversations/messages/{conv_id}/messages/{message_id}"


def message_data(msg: StoredMessage) -> dict[str, Any]:
    """A `MessageData` answer for one stored message."""
    return {
        "id": msg.id,
        "conversationId": msg.conversation_id,
        "timestamp": msg.timestamp,
        "fromAddress": msg.from_address,
        "toAddress": msg.to_address,
        "direction": msg.direction,
        "messengerType": msg.messenger_type,
        "status": "received" if msg.direction == "inbound" else "sent",
        "textBody": msg.text,
        "normalizedMessage": {
            "type": "Text",
            "text": msg.text,
            "direction": "Inbound" if msg.direction == "inbound" else "Outbound",
        },
        "selfUri": message_uri(msg.conversation_id, msg.id),
    }


def message_conversation(conv: dict[str, Any], msgs: list[StoredMessage]) -> dict[str, Any]:
    """A `MessageConversation`: participants with their addresses and the ids of the messages they sent."""
    conv_id = conv["conversationId"]
    ongoing = "conversationEnd" not in conv  # an ongoing conversation's participants are still connected
    participants = []
    for part in conv["participants"]:
        session = part["sessions"][0] if part.get("sessions") else {}
        own = [m for m in msgs if m.participant_id == part["participantId"]]
        entry: dict[str, Any] = {
            "id": part["participantId"],
            "name": part.get("participantName"),
            "purpose": part["purpose"],
            "state": "connected" if ongoing else "disconnected",
            "direction": "inbound",
            "startTime": (session.get("segments") or [{}])[0].get("segmentStart", conv["conversationStart"]),
            "endTime": conv.get("conversationEnd"),
            "type": session.get("messageType"),
            "messages": [
                {
                    "messageId": m.id,
                    "messageURI": message_uri(conv_id, m.id),
                    "messageStatus": "received" if m.direction == "inbound" else "sent",
                    "messageSegmentCount": 1,
                    "messageTime": m.timestamp,
                }
                for m in own
            ],
        }
        if part["purpose"] == "customer":
            entry["address"] = session.get("addressFrom")
            entry["fromAddress"] = _address(session.get("addressFrom"))
            entry["toAddress"] = _address(session.get("addressTo"))
            if part.get("externalContactId"):
                entry["externalContact"] = {
                    "id": part["externalContactId"],
                    "selfUri": f"/api/v2/externalcontacts/contacts/{part['externalContactId']}",
                }
        if part.get("userId"):
            entry["user"] = {"id": part["userId"], "selfUri": f"/api/v2/users/{part['userId']}"}
        participants.append({k: v for k, v in entry.items() if v is not None})
    return {"id": conv_id, "participants": participants, "selfUri": f"/api/v2/conversations/messages/{conv_id}"}


def _load(store: OrgStore, request: Request) -> tuple[dict[str, Any] | None, list[StoredMessage] | None]:
    conv_id = request.path_params["conversationId"]
    conv = store.conversation(conv_id)
    msgs = store.messages(conv_id)
    return conv, msgs


async def get_conversation(store: OrgStore, request: Request) -> Response:
    conv, msgs = _load(store, request)
    if conv is None or msgs is None:
        return genesys_error(request, 404, "Message conversation not found.")
    return JSONResponse(message_conversation(conv, msgs))


async def get_message(store: OrgStore, request: Request) -> Response:
    _, msgs = _load(store, request)
    wanted = request.path_params["messageId"]
    for m in msgs or []:
        if m.id == wanted:
            return JSONResponse(message_data(m))
    return genesys_error(request, 404, "Message not found.")


async def bulk(store: OrgStore, request: Request) -> Response:
    """POST .../messages/bulk: the messages named by a JSON array of ids (unknown ids are left out)."""
    try:
        ids = json.loads(await request.body() or b"null")
    except json.JSONDecodeError:
        return genesys_error(request, 400, "The request body is not valid JSON.")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        return genesys_error(request, 400, "The body must be a JSON array of message ids.")
    if len(ids) > MAX_BULK:
        return genesys_error(request, 400, f"At most {MAX_BULK} message ids per request.")
    conv, msgs = _load(store, request)
    if conv is None or msgs is None:
        return genesys_error(request, 404, "Message conversation not found.")
    by_id = {m.id: m for m in msgs}
    return JSONResponse({"entities": [message_data(by_id[i]) for i in ids if i in by_id]})


def routes(store: OrgStore) -> list[Route]:
    return [
        Route("/api/v2/conversations/messages/{conversationId}", partial(get_conversation, store), methods=["GET"]),
        Route("/api/v2/conversations/messages/{conversationId}/messages/bulk", partial(bulk, store), methods=["POST"]),
        Route("/api/v2/conversations/messages/{conversationId}/messages/{messageId}", partial(get_message, store),
              methods=["GET"]),
    ]
