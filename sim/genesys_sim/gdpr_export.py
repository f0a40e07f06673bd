"""What a completed GDPR_EXPORT produces: a zip of JSON documents behind a link that expires.

The platform answers a completed export with ``resultsUrl`` (and ``resultsUrls`` when it produced several
archive files; SDK ``GDPRRequest``, VERIFIED). What the archive holds, where it is hosted and when the link
expires are not published (UNCONFIRMED): the simulator serves one zip per export from its own host,
outside ``/api/v2`` and without a bearer token (a pre-signed link, as object stores hand out), signed with
a per-export secret and carrying its validity the way an S3 pre-signed URL does (``X-Amz-Date`` +
``X-Amz-Expires``), valid ``SimConfig.gdpr_export_ttl_s`` after completion (unknown: configurable, see
``limits``). The archive is a snapshot taken when the request completed: the conversations, messages,
external contacts and GDPR subject records holding any identifier the request named (our best reading
of "the subject's data the platform holds"). After expiry the link answers 410 Gone: the export existed
and is no longer served (a wrong or unknown link is 404), so a client can tell "too late" from "wrong".
"""

from __future__ import annotations

import hmac
import io
import json
import time
import zipfile
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .org_data import OrgData, conversation_view, find, subject_values

EXPORT_PATH = "/gdpr-exports"


@dataclass
class ExportArchive:
    """One completed export: its zip, when it completed (wall and monotonic) and its link's secret."""

    content: bytes
    completed_at: datetime
    completed_mono: float
    signature: str
    ttl_s: float

    def expired(self, now_mono: float) -> bool:
        return now_mono - self.completed_mono >= self.ttl_s

    def url_path(self, request_id: str) -> str:
        stamp = self.completed_at.strftime("%Y%m%dT%H%M%SZ")
        return (f"{EXPORT_PATH}/{request_id}/export-1.zip?X-Amz-Date={stamp}"
                f"&X-Amz-Expires={int(self.ttl_s)}&X-Amz-Signature={self.signature}")


def build_archive(data: OrgData, subject: dict[str, Any]) -> bytes:
    """The zip of JSON documents for what ``subject`` names, as the organisation holds it now."""
    values = subject_values(subject)
    hits = find(data, values)
    conv_ids = list(dict.fromkeys(h["id"] for h in hits if h["kind"] == "conversation"))
    msg_convs = list(dict.fromkeys(h["conversation_id"] for h in hits if h["kind"] == "message"))
    conversations = [v for cid in dict.fromkeys([*conv_ids, *msg_convs]) if (v := conversation_view(data, cid))]
    wanted_msgs = {h["id"] for h in hits if h["kind"] == "message"}
    messages = [
        {"id": m.id, "conversationId": m.conversation_id, "timestamp": m.timestamp, "fromAddress": m.from_address,
         "toAddress": m.to_address, "direction": m.direction, "messengerType": m.messenger_type, "text": m.text}
        for cid in msg_convs for m in data.seed.messages.get(cid, ()) if m.id in wanted_msgs
    ]
    contact_ids = dict.fromkeys(h["id"] for h in hits if h["kind"] == "external_contact")
    contacts = [data.seed.contacts[c] for c in contact_ids if c in data.seed.contacts]
    records = [data.subject_index[r] for r in dict.fromkeys(h["id"] for h in hits if h["kind"] == "gdpr_subject")
               if r in data.subject_index]
    documents = {"conversations.json": conversations, "messages.json": messages,
                 "externalContacts.json": contacts, "subjects.json": records}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, docs in documents.items():
            archive.writestr(name, json.dumps(docs, indent=1, sort_keys=True, default=str))
    return buffer.getvalue()


async def download(store: Any, request: Request) -> Response:
    """Serve an export's zip while its link is valid: 404 for a wrong link, 410 once it expired."""
    found: ExportArchive | None = store.export_archive(request.path_params["requestId"])
    signature = request.query_params.get("X-Amz-Signature", "")
    if found is None or request.path_params["file"] != "export-1.zip" \
            or not hmac.compare_digest(signature.encode(), found.signature.encode()):
        return JSONResponse({"error": "not found"}, status_code=404)
    if found.expired(time.monotonic()):
        return JSONResponse({"error": "this export link has expired"}, status_code=410)
    return Response(found.content, media_type="application/zip",
                    headers={"Content-Disposition": "attachment; filename=export-1.zip"})


def routes(store: Any) -> list[Route]:
    return [Route(EXPORT_PATH + "/{requestId}/{file}", partial(download, store), methods=["GET"])]
