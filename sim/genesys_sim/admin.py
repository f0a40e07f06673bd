"""`/_sim/*`: the simulator's own control and inspection endpoints (no auth, never metered).

Tests and benchmarks use them to learn the ground truth (`subjects`, `subjects?kind=agent` = `agents`),
prove an erasure (`find`), read what the platform saw (`stats`, `stats?per_subject=false` without the
per-subject rows; `faulted` counts the answers faults shaped), list live recordings (`recordings`), make it
misbehave (`faults`: a status, delay or dropped connection for the next `count` requests matching `path`
(template or literal), `path_prefix` (an endpoint family) and `method`; with `for_s`, for that many seconds
instead (every matching request, or at most `count` of them): a burst while traffic is there, an outage;
also `{"gdpr_error": true}`, `{"gdpr_remnant": true}` (the next GDPR_DELETE misses one conversation)
and `{"analytics_job_error": true}` for the next requests/jobs to fail), tune it at
runtime (`config`), end the conversations still in progress now (`end-active`, so a test need not race
`active_for_s`) and start over (`reset`, which also restores the startup configuration; its body may
override `seed`, `subjects` and the shape fields in `RESET_SHAPE` for that seeding).
"""

from __future__ import annotations

import json
import time
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .organisation import Fault, OrgStore

TUNABLE = {
    "rate_limit": int,
    "rate_window_s": float,
    "gdpr_step_s": float,
    "token_ttl_s": int,
    "analytics_job_s": float,
    "analytics_jobs_max": int,
    "sync_query_max_days": int,
    "details_ids_max": int,
    "sensitive_recording_share": float,
    "sensitive_always_skipped": bool,
    "analytics_job_predicates_max": int,
    "job_slots_refusal": str,
    "gdpr_echo_name": bool,
    "gdpr_update_reaches_contacts": bool,
    "strict_properties": bool,
    "data_lag_s": float,
    "recording_lag_s": float,
    "gdpr_export_ttl_s": float,
}
# Fields `/_sim/reset` may override for one seeding, and how to read them.
RESET_SHAPE = {
    "noise_people": int,
    "linked_fraction": float,
    "recycled": int,
    "active": int,
    "active_for_s": float,
    "former_agents": int,
    "namesakes": int,
    "mentioned_elsewhere": int,
    "past_recording_jobs": int,
}
SHOWN = ("subjects", "seed", "noise_people", "linked_fraction", "recycled", "active", "active_for_s", "former_agents")


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    return json.loads(raw) if raw.strip() else {}


async def stats(store: OrgStore, request: Request) -> Response:
    per_subject = request.query_params.get("per_subject", "true").lower() not in ("false", "0", "no")
    return JSONResponse(store.stats_view(per_subject=per_subject))


async def subjects(store: OrgStore, request: Request) -> Response:
    kind = request.query_params.get("kind", "subject")
    if kind == "agent":
        return JSONResponse(store.agents_view())
    if kind != "subject":
        return _bad("kind must be subject or agent")
    return JSONResponse(store.subjects_view())


async def agents(store: OrgStore, request: Request) -> Response:
    return JSONResponse(store.agents_view())


async def recordings(store: OrgStore, request: Request) -> Response:
    """Live recordings (deleted ones are gone), optionally for one conversation."""
    wanted = request.query_params.get("conversation_id")
    with store.session() as data:
        out = [
            {k: r.get(k) for k in ("id", "conversationId", "media", "fileState", "deleteDate", "archiveDate")}
            for cid, recs in data.seed.recordings.items()
            if wanted in (None, cid)
            for r in recs
        ]
    return JSONResponse({"recordings": out})


async def find(store: OrgStore, request: Request) -> Response:
    try:
        body = await _json_body(request)
    except json.JSONDecodeError:
        return _bad("body must be JSON")
    values = body.get("values") if isinstance(body, dict) else None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return _bad('body must be {"values": [str, ...]}')
    return JSONResponse({"matches": store.find(values)})


def _counted_fault(store: OrgStore, body: dict[str, Any], count: int) -> Response | None:
    """The faults that make the next `count` GDPR requests or analytics jobs go wrong, or None for others."""
    if body.get("gdpr_remnant"):
        store.add_gdpr_remnants(count)
        return JSONResponse({"ok": True})
    if body.get("gdpr_error"):
        store.add_gdpr_errors(count)
        return JSONResponse({"ok": True, "gdpr_errors_pending": store.stats_view()["gdpr_errors_pending"]})
    if body.get("analytics_job_error"):
        with store.lock:
            store.analytics_jobs.failures_pending += count
            pending = store.analytics_jobs.failures_pending
        return JSONResponse({"ok": True, "analytics_job_errors_pending": pending})
    return None


def _request_fault(body: dict[str, Any], count: int | None) -> Fault | str:
    """A misbehaviour of matching requests (status, delay or dropped connection): the next `count` of them, or
    every one for `for_s` seconds (at most `count` when both are given); or the 400 message."""
    status = body.get("status")
    delay = float(body.get("delay_s") or 0)
    drop = bool(body.get("drop"))
    if status is None and delay <= 0 and not drop:
        return "a fault needs status, delay_s, drop or gdpr_error"
    if status is not None and not (isinstance(status, int) and 400 <= status <= 599):
        return "status must be an HTTP error status (400-599)"
    prefix = body.get("path_prefix")
    if prefix is not None and not (isinstance(prefix, str) and prefix.startswith("/")):
        return "path_prefix must be a path starting with /"
    for_s = body.get("for_s")
    if for_s is not None and not (isinstance(for_s, int | float) and not isinstance(for_s, bool) and for_s > 0):
        return "for_s must be a positive number of seconds"
    retry_after = body.get("retry_after")
    return Fault(
        path=body.get("path"),
        method=(body.get("method") or None),
        status=status,
        count=count if count is not None or for_s is not None else 1,
        delay_s=delay,
        drop=drop,
        retry_after=int(retry_after) if retry_after is not None else None,
        path_prefix=prefix,
        until=None if for_s is None else time.monotonic() + float(for_s),
    )


async def faults(store: OrgStore, request: Request) -> Response:
    try:
        body = await _json_body(request)
    except json.JSONDecodeError:
        return _bad("body must be JSON")
    if not isinstance(body, dict):
        return _bad("body must be an object")
    count: int | None = None
    if body.get("count") is not None:
        try:
            count = int(body["count"])
        except (TypeError, ValueError):
            return _bad("count must be an integer")
        if count < 1:
            return _bad("count must be at least 1")
    counted = _counted_fault(store, body, count or 1)
    if counted is not None:
        return counted
    fault = _request_fault(body, count)
    if isinstance(fault, str):
        return _bad(fault)
    store.add_fault(fault)
    return JSONResponse({"ok": True, "fault": fault.public()})


async def clear_faults(store: OrgStore, request: Request) -> Response:
    with store.lock:
        store.faults = []
        store.gdpr_errors_pending = 0
        store.analytics_jobs.failures_pending = 0
    return JSONResponse({"ok": True})


async def reset(store: OrgStore, request: Request) -> Response:
    try:
        body = await _json_body(request)
    except json.JSONDecodeError:
        return _bad("body must be JSON")
    body = body if isinstance(body, dict) else {}
    unknown = set(body) - {"seed", "subjects", *RESET_SHAPE}
    if unknown:
        return _bad(f"reset accepts only seed, subjects and {sorted(RESET_SHAPE)}; not {sorted(unknown)}")
    try:
        shape = {k: kind(body[k]) for k, kind in RESET_SHAPE.items() if k in body}
    except (TypeError, ValueError):
        return _bad("reset fields must be numbers")
    store.reset(seed=body.get("seed"), subjects=body.get("subjects"), **shape)
    return JSONResponse({"ok": True, "subjects": len(store.subjects_view())})


async def end_active(store: OrgStore, request: Request) -> Response:
    return JSONResponse({"ended": store.end_active()})


async def get_config(store: OrgStore, request: Request) -> Response:
    cfg = store.config
    return JSONResponse({k: getattr(cfg, k) for k in (*SHOWN, *TUNABLE)})


async def set_config(store: OrgStore, request: Request) -> Response:
    try:
        body = await _json_body(request)
    except json.JSONDecodeError:
        return _bad("body must be JSON")
    if not isinstance(body, dict) or not set(body) <= set(TUNABLE):
        return _bad(f"only {sorted(TUNABLE)} can be changed at runtime")
    with store.lock:
        for key, kind in TUNABLE.items():
            if key in body:
                setattr(store.config, key, kind(body[key]))
        store.limiter.limit = store.config.rate_limit
        store.limiter.window_s = store.config.rate_window_s
    return await get_config(store, request)


def routes(store: OrgStore) -> list[Route]:
    return [
        Route("/_sim/stats", partial(stats, store), methods=["GET"]),
        Route("/_sim/subjects", partial(subjects, store), methods=["GET"]),
        Route("/_sim/agents", partial(agents, store), methods=["GET"]),
        Route("/_sim/find", partial(find, store), methods=["POST"]),
        Route("/_sim/recordings", partial(recordings, store), methods=["GET"]),
        Route("/_sim/faults", partial(faults, store), methods=["POST"]),
        Route("/_sim/faults", partial(clear_faults, store), methods=["DELETE"]),
        Route("/_sim/reset", partial(reset, store), methods=["POST"]),
        Route("/_sim/end-active", partial(end_active, store), methods=["POST"]),
        Route("/_sim/config", partial(get_config, store), methods=["GET"]),
        Route("/_sim/config", partial(set_config, store), methods=["POST"]),
    ]
