"""Recording deletion protection (the platform's legal hold on recordings) and a timeline of recording jobs.

`PUT /api/v2/recordings/deletionprotection?protect=true|false` with `{"conversationIds": [...]}` (at most 100)
applies or revokes the protection and answers `ManageDeleteProtectionResult` (`failedUpdates` names unknown
conversations). `POST` with the same body answers the protected ones among them as `AddressableEntityRef`s.
A DELETE recording job leaves protected recordings in place and lists them as its failed recordings
(`recording_jobs.RecordingJobs.protected`). Reseeding (`/_sim/reset`) lifts every protection.

`GET /_sim/recording-jobs` lists every recording job with its conversations and its lifecycle on the simulator's
clock (seconds since startup): created, started, finished (when it reached FULFILLED), so tests can prove how
many jobs were in flight at once.
"""

from __future__ import annotations

import json
import time
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .body_schema import refusal
from .error_body import genesys_error
from .limits import DELETION_PROTECTION_IDS_MAX
from .organisation import OrgStore

MAX_IDS = DELETION_PROTECTION_IDS_MAX


def _conversation_ids(body: Any) -> list[str] | str:
    """The body's conversation ids, or the 400 message."""
    ids = body.get("conversationIds") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        return 'The body must be {"conversationIds": [string, ...]}.'
    if not 1 <= len(ids) <= MAX_IDS:
        return f"conversationIds must hold between 1 and {MAX_IDS} ids."
    return list(dict.fromkeys(ids))


async def _read_ids(store: OrgStore, request: Request) -> list[str] | Response:
    """The body's conversation ids, or the 400 answer."""
    try:
        body = json.loads(await request.body() or b"null")
    except json.JSONDecodeError:
        return genesys_error(request, 400, "The request body is not valid JSON.")
    refused = refusal(store.config, request, f"{request.method} /api/v2/recordings/deletionprotection", body)
    if refused is not None:
        return refused
    ids = _conversation_ids(body)
    if isinstance(ids, str):
        return genesys_error(request, 400, ids)
    return ids


async def query(store: OrgStore, request: Request) -> Response:
    """POST: the protected conversations among those named."""
    ids = await _read_ids(store, request)
    if isinstance(ids, Response):
        return ids
    with store.session():
        protected = store.recording_jobs.protected
        found = [{"id": cid, "selfUri": f"/api/v2/conversations/{cid}"} for cid in ids if cid in protected]
    return JSONResponse(found)


async def manage(store: OrgStore, request: Request) -> Response:
    """PUT ?protect=true|false: apply or revoke; unknown conversations are listed as failed updates."""
    raw = request.query_params.get("protect", "").lower()
    if raw not in ("true", "false"):
        return genesys_error(request, 400, "protect must be true or false.")
    ids = await _read_ids(store, request)
    if isinstance(ids, Response):
        return ids
    failed = []
    with store.session() as data:
        protected = store.recording_jobs.protected
        for cid in ids:
            if cid not in data.seed.conversations:
                failed.append(
                    {"conversation": {"id": cid}, "errorMessage": "Conversation not found.", "errorCode": "not.found"}
                )
            elif raw == "true":
                protected.add(cid)
            else:
                protected.discard(cid)
    return JSONResponse({"failedUpdates": failed})


async def timeline(store: OrgStore, started: float, request: Request) -> Response:
    """GET /_sim/recording-jobs: every job's lifecycle in seconds since `started` (the routes' creation)."""
    with store.session():
        step = store.config.gdpr_step_s
        now = time.monotonic()
        jobs = [store.recording_jobs.jobs[j] for j in store.recording_jobs.order]
        out = [
            {
                "id": job.id,
                "state": job.state(now, step),
                "action": job.query.get("action"),
                "conversation_ids": list(job.conversation_ids),
                "created_s": job.created_mono - started,
                "started_s": None if job.started_mono is None else job.started_mono - started,
                "finished_s": None if job.started_mono is None or job.cancelled else job.started_mono + step - started,
                "failed_recordings": len(job.failed),
                "skipped_recordings": len(job.skipped),
            }
            for job in jobs
        ]
    return JSONResponse({"jobs": out, "now_s": now - started})


def routes(store: OrgStore) -> list[Route]:
    return [
        Route("/api/v2/recordings/deletionprotection", partial(query, store), methods=["POST"]),
        Route("/api/v2/recordings/deletionprotection", partial(manage, store), methods=["PUT"]),
        Route("/_sim/recording-jobs", partial(timeline, store, time.monotonic()), methods=["GET"]),
    ]
