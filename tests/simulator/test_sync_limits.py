"""The platform limits of `limits`: a synchronous details query over too long an interval is refused in
the platform's error shape, and the by-id read takes a bounded number of ids and needs no interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from genesys_sim.limits import DETAILS_IDS_MAX

QUERY = "/api/v2/analytics/conversations/details/query"
BY_ID = "/api/v2/analytics/conversations/details"


def _interval(days: float) -> str:
    end = datetime.now(UTC)
    fmt = "%Y-%m-%dT%H:%M:%S.000Z"
    return f"{(end - timedelta(days=days)).strftime(fmt)}/{end.strftime(fmt)}"


def test_sync_query_longer_than_the_limit_is_refused(raw: httpx.Client, api: httpx.Client) -> None:
    raw.post("/_sim/config", json={"sync_query_max_days": 31})  # the next reset restores the default
    refused = api.post(QUERY, json={"interval": _interval(32)})
    assert refused.status_code == 400
    body = refused.json()
    assert body["code"] == "bad.request" and body["status"] == 400 and "31 days" in body["message"]
    assert {"contextId", "details", "errors"} <= body.keys()
    assert api.post(QUERY, json={"interval": _interval(31)}).status_code == 200


def test_sync_query_limit_is_configurable_apart_from_the_client(raw: httpx.Client, api: httpx.Client) -> None:
    raw.post("/_sim/config", json={"sync_query_max_days": 7})
    assert api.post(QUERY, json={"interval": _interval(8)}).status_code == 400
    assert api.post(QUERY, json={"interval": _interval(6)}).status_code == 200
    raw.post("/_sim/config", json={"sync_query_max_days": 0})  # 0: no limit
    assert api.post(QUERY, json={"interval": _interval(36500)}).status_code == 200


def test_by_id_read_answers_known_ids_with_no_interval(api: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    wanted = subjects[0]["conversation_ids"] + subjects[1]["conversation_ids"]
    comma = api.get(BY_ID, params={"id": ",".join([*wanted, "no-such-conversation"])})
    assert comma.status_code == 200
    assert sorted(c["conversationId"] for c in comma.json()["conversations"]) == sorted(wanted)
    repeated = api.get(BY_ID, params=[("id", cid) for cid in wanted])
    assert sorted(c["conversationId"] for c in repeated.json()["conversations"]) == sorted(wanted)
    assert api.get(BY_ID, params={"id": "no-such-conversation"}).json() == {}


def test_by_id_read_refuses_more_ids_than_the_limit(raw: httpx.Client, api: httpx.Client) -> None:
    too_many = [f"c{n}" for n in range(DETAILS_IDS_MAX + 1)]
    refused = api.get(BY_ID, params={"id": ",".join(too_many)})
    assert refused.status_code == 400 and refused.json()["code"] == "bad.request"
    assert api.get(BY_ID, params={"id": ",".join(too_many[:DETAILS_IDS_MAX])}).status_code == 200
    assert api.get(BY_ID).status_code == 400
