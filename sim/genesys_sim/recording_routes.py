"""Recordings and recording bulk jobs, including the platform's two-jobs-per-organisation rule.

Jobs follow the real flow: POST evaluates the conversation query (PENDING, then READY after one step),
PUT `{"state": "PROCESSING"}` starts it, and one step later it is FULFILLED and its action is applied
once (DELETE removes the recordings, ARCHIVE/EXPORT mark them). At most two jobs may be PENDING or
PROCESSING at once; a third POST answers 429 with Retry-After (the exact status the platform uses is
UNCONFIRMED). `PUT /api/v2/conversations/{id}/recordings/{rid}` with a past `deleteDate` deletes one
recording. GDPR requests do not touch recordings here: that is what these jobs are for. Recordings of
conversations under deletion protection (`protection.py`) survive a DELETE job and are listed by
`GET .../jobs/{id}/failedrecordings` (UNCONFIRMED: whether the platform reports them as failed or skipped).
"""

from __future__ import annotations

import copy
import json
import math
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .analytics import QueryError, select_conversations
from .error_body import genesys_error
from .listing import BadParam, int_param, listing
from .organisation import OrgStore
from .recording_jobs import ACTIONS, MAX_ACTIVE_JOBS, RecordingJob, apply_action
from .seed import iso


def _validate_job(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "The body must be a RecordingJobsQuery object."
    if body.get("action") not in ACTIONS:
        return f"action must be one of {', '.join(ACTIONS)}."
    if body["action"] in ("DELETE", "ARCHIVE") and not (body.get("actionDate") or body.get("actionAge") is not None):
        return "actionDate or actionAge is required."
    if body["action"] == "EXPORT" and not body.get("integrationId"):
        return "integrationId is required for EXPORT."
    if not body.get("conversationQuery") and not body.get("agedConversationInterval"):
        return "conversationQuery is required."
    if body.get("conversationQuery") and body.get("agedConversationInterval"):
        return "conversationQuery and agedConversationInterval are mutually exclusive."
    return None


def _select(store: OrgStore, query: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Conversations (overlapping the interval, matching the filters, finished) and their live recordings."""
    cq = query.get("conversationQuery") or {"interval": query.get("agedConversationInterval")}
    if not isinstance(cq, dict):
        raise QueryError("conversationQuery must be an AsyncConversationQuery object.")
    data = store.data
    hits = select_conversations(data, cq, overlap=True)
    hits.sort(key=lambda c: data.conv_pos.get(c["conversationId"], 0))
    conv_ids, rec_ids = [], []
    for conv in hits:
        cid = conv["conversationId"]
        if data.is_active(cid):
            continue  # an ongoing conversation's recording is not there yet
        recs = data.seed.recordings.get(cid, [])
        if recs:
            conv_ids.append(cid)
            rec_ids += [r["id"] for r in recs]
    return conv_ids, rec_ids


def routes(store: OrgStore) -> list[Route]:
    def step() -> float:
        return store.config.gdpr_step_s

    async def create_job(request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"null")
        except json.JSONDecodeError:
            return genesys_error(request, 400, "The request body is not valid JSON.")
        problem = _validate_job(body)
        if problem:
            return genesys_error(request, 400, problem)
        with store.session():
            now = time.monotonic()
            jobs = store.recording_jobs
            if jobs.active(now, step()) >= MAX_ACTIVE_JOBS:
                wait = max(1, math.ceil(step()))
                resp = genesys_error(
                    request,
                    429,
                    f"At most {MAX_ACTIVE_JOBS} recording jobs may be pending or processing.",
                    "too.many.requests.retry.after",
                )
                resp.headers["Retry-After"] = str(wait)
                return resp
            try:
                conv_ids, rec_ids = _select(store, body)
            except QueryError as exc:
                return genesys_error(request, 400, str(exc))
            job = RecordingJob(
                id=str(uuid.uuid4()),
                query=copy.deepcopy(body),
                created_mono=now,
                created_iso=iso(datetime.now(UTC)),
                conversation_ids=conv_ids,
                recording_ids=rec_ids,
            )
            jobs.add(job)
            return JSONResponse(job.view(now, step()))

    async def execute_job(request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"null")
        except json.JSONDecodeError:
            return genesys_error(request, 400, "The request body is not valid JSON.")
        if not isinstance(body, dict) or body.get("state") != "PROCESSING":
            return genesys_error(request, 400, 'The body must be {"state": "PROCESSING"}.')
        with store.session():
            now = time.monotonic()
            job = store.recording_jobs.jobs.get(request.path_params["jobId"])
            if job is None:
                return genesys_error(request, 404, "Recording job not found.")
            state = job.state(now, step())
            if state != "READY":
                return genesys_error(request, 400, f"The job is {state}; only a READY job can be executed.")
            if store.recording_jobs.active(now, step()) >= MAX_ACTIVE_JOBS:
                return genesys_error(request, 429, "Too many recording jobs are processing.")
            job.started_mono = now
            if job.id not in store.recording_jobs.open:
                store.recording_jobs.open.append(job.id)
            return JSONResponse(job.view(now, step()))

    async def get_job(request: Request) -> Response:
        with store.session():
            job = store.recording_jobs.jobs.get(request.path_params["jobId"])
            if job is None:
                return genesys_error(request, 404, "Recording job not found.")
            return JSONResponse(job.view(time.monotonic(), step()))

    async def cancel_job(request: Request) -> Response:
        with store.session():
            job = store.recording_jobs.jobs.get(request.path_params["jobId"])
            if job is None:
                return genesys_error(request, 404, "Recording job not found.")
            if job.state(time.monotonic(), step()) in ("PENDING", "READY", "PROCESSING"):
                job.cancelled = True
            return Response(status_code=204)

    async def list_jobs(request: Request) -> Response:
        try:
            size = int_param(request.query_params, "pageSize", 25, 1, 100)
            number = int_param(request.query_params, "pageNumber", 1, 1)
        except BadParam as exc:
            return genesys_error(request, 400, str(exc))
        wanted = request.query_params.get("state")
        with store.session():
            now = time.monotonic()
            views = [store.recording_jobs.jobs[j].view(now, step()) for j in reversed(store.recording_jobs.order)]
        if wanted:
            views = [v for v in views if v["state"] == wanted.upper()]
        page = views[(number - 1) * size : number * size]
        return JSONResponse(listing(page, len(views), size, number, "/api/v2/recording/jobs"))

    async def failed_recordings(request: Request) -> Response:
        try:
            size = int_param(request.query_params, "pageSize", 25, 1, 100)
            number = int_param(request.query_params, "pageNumber", 1, 1)
        except BadParam as exc:
            return genesys_error(request, 400, str(exc))
        with store.session():
            job = store.recording_jobs.jobs.get(request.path_params["jobId"])
            if job is None:
                return genesys_error(request, 404, "Recording job not found.")
            failed = [
                {
                    "conversation": {"id": cid, "selfUri": f"/api/v2/conversations/{cid}"},
                    "recording": {"id": rid, "selfUri": f"/api/v2/conversations/{cid}/recordings/{rid}"},
                }
                for cid, rid in job.failed
            ]
        page = failed[(number - 1) * size : number * size]
        return JSONResponse(listing(page, len(failed), size, number, f"/api/v2/recording/jobs/{job.id}/failedrecordings"))

    async def conversation_recordings(request: Request) -> Response:
        cid = request.path_params["conversationId"]
        with store.session() as data:
            if cid not in data.seed.conversations:
                return genesys_error(request, 404, "Conversation not found.")
            if data.is_active(cid):
                return JSONResponse([])  # recorded media appears once the conversation has ended
            return JSONResponse(copy.deepcopy(data.seed.recordings.get(cid, [])))

    def _find(cid: str, rid: str) -> dict[str, Any] | None:
        if store.data.is_active(cid):
            return None
        return next((r for r in store.data.seed.recordings.get(cid, []) if r["id"] == rid), None)

    async def get_recording(request: Request) -> Response:
        with store.session():
            rec = _find(request.path_params["conversationId"], request.path_params["recordingId"])
            if rec is None:
                return genesys_error(request, 404, "Recording not found.")
            return JSONResponse(copy.deepcopy(rec))

    async def put_recording(request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"null")
        except json.JSONDecodeError:
            return genesys_error(request, 400, "The request body is not valid JSON.")
        if not isinstance(body, dict):
            return genesys_error(request, 400, "The body must be a Recording object.")
        cid, rid = request.path_params["conversationId"], request.path_params["recordingId"]
        with store.session() as data:
            rec = _find(cid, rid)
            if rec is None:
                return genesys_error(request, 404, "Recording not found.")
            for key in ("deleteDate", "archiveDate", "exportDate"):
                if key in body:
                    rec[key] = body[key]
            answer = copy.deepcopy(rec)
            delete_date = body.get("deleteDate")
            if delete_date:
                try:
                    when = datetime.fromisoformat(str(delete_date).replace("Z", "+00:00"))
                except ValueError:
                    return genesys_error(request, 400, "deleteDate must be an ISO-8601 datetime.")
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                if when <= datetime.now(UTC) + timedelta(seconds=1):
                    apply_action(data.seed.recordings, "DELETE", {rid}, {}, [cid])
            return JSONResponse(answer)

    return [
        Route("/api/v2/recording/jobs", create_job, methods=["POST"]),
        Route("/api/v2/recording/jobs", list_jobs, methods=["GET"]),
        Route("/api/v2/recording/jobs/{jobId}", get_job, methods=["GET"]),
        Route("/api/v2/recording/jobs/{jobId}", execute_job, methods=["PUT"]),
        Route("/api/v2/recording/jobs/{jobId}", cancel_job, methods=["DELETE"]),
        Route("/api/v2/recording/jobs/{jobId}/failedrecordings", failed_recordings, methods=["GET"]),
        Route("/api/v2/conversations/{conversationId}/recordings", conversation_recordings, methods=["GET"]),
        Route("/api/v2/conversations/{conversationId}/recordings/{recordingId}", get_recording, methods=["GET"]),
        Route("/api/v2/conversations/{conversationId}/recordings/{recordingId}", put_recording, methods=["PUT"]),
    ]
