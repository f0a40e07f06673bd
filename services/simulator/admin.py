"""`/_sim/*`: the simulator's own control and inspection endpoints (no auth, never metered).

Tests and benchmarks use them to learn the ground truth (`subjects`), prove an erasure (`find`), read what
the platform saw (`stats`), list live recordings (`recordings`), make it misbehave (`faults`), tune it
at runtime (`config`) and start over (`reset`, which also restores the startup configuration).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .store import Fault, OrgStore

TUNABLE = {"rate_limit": int, "rate_window_s": float, "gdpr_step_s": float, "token_ttl_s": int}


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    return json.loads(raw) if raw.strip() else {}


def routes(store: OrgStore) -> list[Route]:
    async def stats(request: Request) -> Response:
        return JSONResponse(store.stats_view())

    async def subjects(request: Request) -> Response:
        return JSONResponse(store.subjects_view())

    async def recordings(request: Request) -> Response:
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

    async def find(request: Request) -> Response:
        try:
            body = await _json_body(request)
        except json.JSONDecodeError:
            return _bad("body must be JSON")
        values = body.get("values") if isinstance(body, dict) else None
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            return _bad('body must be {"values": [str, ...]}')
        return JSONResponse({"matches": store.find(values)})

    async def faults(request: Request) -> Response:
        try:
            body = await _json_body(request)
        except json.JSONDecodeError:
            return _bad("body must be JSON")
        if not isinstance(body, dict):
            return _bad("body must be an object")
        try:
            count = int(body.get("count", 1))
        except (TypeError, ValueError):
            return _bad("count must be an integer")
        if count < 1:
            return _bad("count must be at least 1")
        if body.get("gdpr_error"):
            store.add_gdpr_errors(count)
            return JSONResponse({"ok": True, "gdpr_errors_pending": store.stats_view()["gdpr_errors_pending"]})
        status = body.get("status")
        delay = float(body.get("delay_s") or 0)
        drop = bool(body.get("drop"))
        if status is None and delay <= 0 and not drop:
            return _bad("a fault needs status, delay_s, drop or gdpr_error")
        if status is not None and not (isinstance(status, int) and 400 <= status <= 599):
            return _bad("status must be an HTTP error status (400-599)")
        retry_after = body.get("retry_after")
        fault = Fault(
            path=body.get("path"),
            method=(body.get("method") or None),
            status=status,
            count=count,
            delay_s=delay,
            drop=drop,
            retry_after=int(retry_after) if retry_after is not None else None,
        )
        store.add_fault(fault)
        return JSONResponse({"ok": True, "fault": fault.public()})

    async def clear_faults(request: Request) -> Response:
        with store.lock:
            store.faults = []
            store.gdpr_errors_pending = 0
        return JSONResponse({"ok": True})

    async def reset(request: Request) -> Response:
        try:
            body = await _json_body(request)
        except json.JSONDecodeError:
            return _bad("body must be JSON")
        body = body if isinstance(body, dict) else {}
        store.reset(seed=body.get("seed"), subjects=body.get("subjects"))
        return JSONResponse({"ok": True, "subjects": len(store.subjects_view())})

    async def get_config(request: Request) -> Response:
        cfg = store.config
        return JSONResponse({k: getattr(cfg, k) for k in ("subjects", "seed", *TUNABLE)})

    async def set_config(request: Request) -> Response:
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
        return await get_config(request)

    return [
        Route("/_sim/stats", stats, methods=["GET"]),
        Route("/_sim/subjects", subjects, methods=["GET"]),
        Route("/_sim/find", find, methods=["POST"]),
        Route("/_sim/recordings", recordings, methods=["GET"]),
        Route("/_sim/faults", faults, methods=["POST"]),
        Route("/_sim/faults", clear_faults, methods=["DELETE"]),
        Route("/_sim/reset", reset, methods=["POST"]),
        Route("/_sim/config", get_config, methods=["GET"]),
        Route("/_sim/config", set_config, methods=["POST"]),
    ]
