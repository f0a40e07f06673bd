"""Recordings and recording bulk jobs, including the platform's two-jobs-per-organisation rule.

Jobs follow the real flow: POST evaluates the conversation query (PENDING, then READY after one step),
PUT `{"state": "PROCESSING"}` starts it, and one step later it is FULFILLED and its action is applied
once (DELETE removes the recordings, ARCHIVE/EXPORT mark them). At most two jobs may be PENDING or
PROCESSING at once; a third POST answers 429 with Retry-After (the exact status the platform uses is
UNCONFIRMED). `PUT /api/v2/conversations/{id}/recordings/{rid}` with a past `deleteDate` deletes one
recording. GDPR requests do not touch recordings here: that is what these jobs are for. Recordings of
conversations under deletion protection (`protection.py`) survive a DELETE job and are listed by
`GET .../jobs/{id}/failedrecordings` (UNCONFIRMED: whether the platform reports them as failed or skipped).
Recordings flagged sensitive (``SimConfig.sensitive_recording_share``) are skipped by a job whose query
does not set ``includeRecordingsWithSensitiveData`` (SDK ``RecordingJobsQuery``, default false) and
counted in its ``totalSkippedRecordings``. A job does not see the recordings of conversations that ended
less than ``SimConfig.recording_lag_s`` before it was created (the SDK: new recordings take up to 48 h to
reach the data lake the jobs read); reading a conversation's recordings directly is real-time.

The job list is sorted by ``userId`` unless ``sortBy`` says otherwise (SDK ``getRecordingJobs``; ties in
creation order, oldest first: the platform's tie order is unknown), ``dateCreated`` newest first (the
direction is ASSUMED); ``total``/``pageCount``/``lastUri`` come only with ``includeTotal=true``, on the
job list and on ``failedrecordings`` (without it the platform pages by cursor).
"""

from __future__ import annotations

import copy
import json
import math
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .analytics import QueryError, lake_cutoff, select_conversations
from .body_schema import refusal
from .config import SIM_CLIENT_USER_ID
from .error_body import genesys_error, jobs_full
from .limits import LIST_PAGE_SIZE_DEFAULT, RECORDING_PAGE_SIZE_MAX
from .listing import BadParam, int_param, listing
from .organisation import OrgStore
from .recording_jobs import ACTIONS, MAX_ACTIVE_JOBS, RecordingJob, apply_action, skipped_recordings
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
    # Recordings reach the data lake the job reads up to `recording_lag_s` late: recent ones are not seen.
    hits = select_conversations(data, cq, overlap=True, cutoff=lake_cutoff(store.config.recording_lag_s))
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


def _step(store: OrgStore) -> float:
    return store.config.gdpr_step_s


async def _json_body(request: Request) -> Any:
    """The parsed body; raises json.JSONDecodeError."""
    return json.loads(await request.body() or b"null")


def _job_slots_full(store: OrgStore, request: Request, step_s: float) -> Response:
    """The refusal of a POST while MAX_ACTIVE_JOBS jobs are pending or processing."""
    return jobs_full(request, store.config.job_slots_refusal,
                     f"Too many jobs: at most {MAX_ACTIVE_JOBS} recording jobs may be pending or processing.",
                     math.ceil(step_s))


async def create_job(store: OrgStore, request: Request) -> Response:
    """POST: evaluate the query now; the job is PENDING, then READY one step later."""
    try:
        body = await _json_body(request)
    except json.JSONDecodeError:
        return genesys_error(request, 400, "The request body is not valid JSON.")
    refused = refusal(store.config, request, "POST /api/v2/recording/jobs", body)
    if refused is not None:
        return refused
    problem = _validate_job(body)
    if problem:
        return genesys_error(request, 400, problem)
    with store.session():
        now = time.monotonic()
        jobs = store.recording_jobs
        if jobs.active(now, _step(store)) >= MAX_ACTIVE_JOBS:
            return _job_slots_full(store, request, _step(store))
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
            skipped=skipped_recordings(rec_ids, body, store.config.sensitive_recording_share,
                                       store.config.sensitive_always_skipped),
        )
        jobs.add(job)
        return JSONResponse(job.view(now, _step(store)))


async def execute_job(store: OrgStore, request: Request) -> Response:
    """PUT `{"state": "PROCESSING"}`: start a READY job (it is FULFILLED one step later)."""
    try:
        body = await _json_body(request)
    except json.JSONDecodeError:
        return genesys_error(request, 400, "The request body is not valid JSON.")
    refused = refusal(store.config, request, "PUT /api/v2/recording/jobs/{jobId}", body)
    if refused is not None:
        return refused
    if not isinstance(body, dict) or body.get("state") != "PROCESSING":
        return genesys_error(request, 400, 'The body must be {"state": "PROCESSING"}.')
    with store.session():
        now = time.monotonic()
        job = store.recording_jobs.jobs.get(request.path_params["jobId"])
        if job is None:
            return genesys_error(request, 404, "Recording job not found.")
        state = job.state(now, _step(store))
        if state != "READY":
            return genesys_error(request, 400, f"The job is {state}; only a READY job can be executed.")
        if store.recording_jobs.active(now, _step(store)) >= MAX_ACTIVE_JOBS:
            return _job_slots_full(store, request, _step(store))
        job.started_mono = now
        if job.id not in store.recording_jobs.open:
            store.recording_jobs.open.append(job.id)
        return JSONResponse(job.view(now, _step(store)))


async def get_job(store: OrgStore, request: Request) -> Response:
    with store.session():
        job = store.recording_jobs.jobs.get(request.path_params["jobId"])
        if job is None:
            return genesys_error(request, 404, "Recording job not found.")
        return JSONResponse(job.view(time.monotonic(), _step(store)))


async def cancel_job(store: OrgStore, request: Request) -> Response:
    """DELETE: a job that has not finished is cancelled; any job answers 204."""
    with store.session():
        job = store.recording_jobs.jobs.get(request.path_params["jobId"])
        if job is None:
            return genesys_error(request, 404, "Recording job not found.")
        if job.state(time.monotonic(), _step(store)) in ("PENDING", "READY", "PROCESSING"):
            job.cancelled = True
        return Response(status_code=204)


SORTS = ("userId", "dateCreated")


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() == "true"


def _paged(request: Request, page: list[dict[str, Any]], total: int, size: int, number: int, path: str) -> dict[str, Any]:
    """A listing page; its total, page count and last page only when ``includeTotal=true`` was asked."""
    out = listing(page, total, size, number, path)
    if not _flag(request, "includeTotal"):
        for key in ("total", "pageCount", "lastUri"):
            out.pop(key, None)
    return out


async def list_jobs(store: OrgStore, request: Request) -> Response:
    """GET: one page of jobs in the asked order (``userId`` by default), optionally in one state."""
    try:
        size = int_param(request.query_params, "pageSize", LIST_PAGE_SIZE_DEFAULT, 1, RECORDING_PAGE_SIZE_MAX)
        number = int_param(request.query_params, "pageNumber", 1, 1)
    except BadParam as exc:
        return genesys_error(request, 400, str(exc))
    sort = request.query_params.get("sortBy") or "userId"
    if sort not in SORTS:
        return genesys_error(request, 400, f"sortBy must be one of {', '.join(SORTS)}.")
    wanted = request.query_params.get("state")
    with store.session():
        now = time.monotonic()
        order = store.recording_jobs.order
        ids = list(reversed(order)) if sort == "dateCreated" else list(order)  # one user: creation order
        views = [store.recording_jobs.jobs[j].view(now, _step(store)) for j in ids]
    if sort == "userId":
        views.sort(key=lambda v: v["user"]["id"])  # stable: ties stay oldest first
    if _flag(request, "showOnlyMyJobs"):
        views = [v for v in views if v["user"]["id"] == SIM_CLIENT_USER_ID]
    if wanted:
        views = [v for v in views if v["state"] == wanted.upper()]
    page = views[(number - 1) * size : number * size]
    return JSONResponse(_paged(request, page, len(views), size, number, "/api/v2/recording/jobs"))


async def failed_recordings(store: OrgStore, request: Request) -> Response:
    """GET .../failedrecordings: the recordings a DELETE job left in place (deletion protection)."""
    try:
        size = int_param(request.query_params, "pageSize", LIST_PAGE_SIZE_DEFAULT, 1, RECORDING_PAGE_SIZE_MAX)
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
    return JSONResponse(_paged(request, page, len(failed), size, number,
                               f"/api/v2/recording/jobs/{job.id}/failedrecordings"))


async def conversation_recordings(store: OrgStore, request: Request) -> Response:
    cid = request.path_params["conversationId"]
    with store.session() as data:
        if cid not in data.seed.conversations:
            return genesys_error(request, 404, "Conversation not found.")
        if data.is_active(cid):
            return JSONResponse([])  # recorded media appears once the conversation has ended
        return JSONResponse(copy.deepcopy(data.seed.recordings.get(cid, [])))


def _live_recording(store: OrgStore, cid: str, rid: str) -> dict[str, Any] | None:
    """The recording, unless it is deleted or its conversation is still going on (called under the lock)."""
    if store.data.is_active(cid):
        return None
    return next((r for r in store.data.seed.recordings.get(cid, []) if r["id"] == rid), None)


async def get_recording(store: OrgStore, request: Request) -> Response:
    with store.session():
        rec = _live_recording(store, request.path_params["conversationId"], request.path_params["recordingId"])
        if rec is None:
            return genesys_error(request, 404, "Recording not found.")
        return JSONResponse(copy.deepcopy(rec))


def _due(delete_date: Any) -> bool:
    """Whether a `deleteDate` is now (or past); raises ValueError when it is not an ISO-8601 datetime."""
    when = datetime.fromisoformat(str(delete_date).replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when <= datetime.now(UTC) + timedelta(seconds=1)


async def put_recording(store: OrgStore, request: Request) -> Response:
    """PUT: set the recording's delete/archive/export dates; a deleteDate that is due deletes it now."""
    try:
        body = await _json_body(request)
    except json.JSONDecodeError:
        return genesys_error(request, 400, "The request body is not valid JSON.")
    refused = refusal(store.config, request, "PUT /api/v2/conversations/{conversationId}/recordings/{recordingId}", body)
    if refused is not None:
        return refused
    if not isinstance(body, dict):
        return genesys_error(request, 400, "The body must be a Recording object.")
    cid, rid = request.path_params["conversationId"], request.path_params["recordingId"]
    with store.session() as data:
        rec = _live_recording(store, cid, rid)
        if rec is None:
            return genesys_error(request, 404, "Recording not found.")
        for key in ("deleteDate", "archiveDate", "exportDate"):
            if key in body:
                rec[key] = body[key]
        answer = copy.deepcopy(rec)
        delete_date = body.get("deleteDate")
        if delete_date:
            try:
                due = _due(delete_date)
            except ValueError:
                return genesys_error(request, 400, "deleteDate must be an ISO-8601 datetime.")
            if due:
                apply_action(data.seed.recordings, "DELETE", {rid}, {}, [cid])
        return JSONResponse(answer)


def routes(store: OrgStore) -> list[Route]:
    return [
        Route("/api/v2/recording/jobs", partial(create_job, store), methods=["POST"]),
        Route("/api/v2/recording/jobs", partial(list_jobs, store), methods=["GET"]),
        Route("/api/v2/recording/jobs/{jobId}", partial(get_job, store), methods=["GET"]),
        Route("/api/v2/recording/jobs/{jobId}", partial(execute_job, store), methods=["PUT"]),
        Route("/api/v2/recording/jobs/{jobId}", partial(cancel_job, store), methods=["DELETE"]),
        Route("/api/v2/recording/jobs/{jobId}/failedrecordings", partial(failed_recordings, store), methods=["GET"]),
        Route("/api/v2/conversations/{conversationId}/recordings", partial(conversation_recordings, store), methods=["GET"]),
        Route("/api/v2/conversations/{conversationId}/recordings/{recordingId}", partial(get_recording, store), methods=["GET"]),
        Route("/api/v2/conversations/{conversationId}/recordings/{recordingId}", partial(put_recording, store), methods=["PUT"]),
    ]
