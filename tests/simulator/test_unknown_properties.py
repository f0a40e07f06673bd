"""Unknown JSON properties: every endpoint that reads a body refuses one as the platform does (400
``invalid.property``), read-only properties of the model are accepted and ignored, and the property
table matches the official SDK's models."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from genesys_sim import body_schema
from genesys_sim.app import create_app
from genesys_sim.config import SimConfig
from starlette.routing import Route

from tests.support.sim_api import ALL_TIME

CID = "00000000-0000-4000-8000-000000000001"
RID = "00000000-0000-4000-8000-000000000002"
SUBJECT = {"emailAddresses": ["nobody@example.invalid"]}
ASYNC_QUERY = {"interval": ALL_TIME, "segmentFilters": [
    {"type": "or", "predicates": [{"dimension": "addressFrom", "value": "nobody@example.invalid"}]}]}

# endpoint (as in body_schema.BODY_RULES), concrete path, query params, body with one unknown property,
# and the model the refusal must name.
CASES: list[tuple[str, str, dict[str, str], Any, str]] = [
    ("POST /api/v2/gdpr/requests", "/api/v2/gdpr/requests", {"deleteConfirmed": "true"},
     {"requestType": "GDPR_DELETE", "subject": SUBJECT, "reason": "tutorial field"}, "GDPRRequest"),
    ("POST /api/v2/gdpr/requests", "/api/v2/gdpr/requests", {"deleteConfirmed": "true"},
     {"requestType": "GDPR_DELETE", "subject": {**SUBJECT, "email": "nobody@example.invalid"}}, "GDPRSubject"),
    ("POST /api/v2/gdpr/requests", "/api/v2/gdpr/requests", {"deleteConfirmed": "true"},
     {"requestType": "GDPR_DELETE", "subject": {**SUBJECT, "journeyCustomer": {"type": "cookie", "id": "c",
                                                                                 "kind": "x"}}},
     "GDPRJourneyCustomer"),
    ("POST /api/v2/analytics/conversations/details/query", "/api/v2/analytics/conversations/details/query", {},
     {**ASYNC_QUERY, "paging": {"pageSize": 25, "pageNumber": 1}, "nextPageCursor": "x"}, "ConversationQuery"),
    ("POST /api/v2/analytics/conversations/details/query", "/api/v2/analytics/conversations/details/query", {},
     {**ASYNC_QUERY, "paging": {"pageSize": 25, "cursor": "x"}}, "PagingSpec"),
    ("POST /api/v2/analytics/conversations/details/query", "/api/v2/analytics/conversations/details/query", {},
     {"interval": ALL_TIME, "segmentFilters": [{"type": "or", "predicates": [
         {"dimension": "addressFrom", "value": "a@b.c", "email": "a@b.c"}]}]}, "SegmentDetailQueryPredicate"),
    ("POST /api/v2/analytics/conversations/details/jobs", "/api/v2/analytics/conversations/details/jobs", {},
     {**ASYNC_QUERY, "paging": {"pageSize": 25}}, "AsyncConversationQuery"),
    ("POST /api/v2/analytics/conversations/details/jobs", "/api/v2/analytics/conversations/details/jobs", {},
     {"interval": ALL_TIME, "conversationFilters": [{"type": "or", "clauses": [
         {"type": "and", "predicates": [{"dimension": "conversationId", "value": CID}], "extra": 1}]}]},
     "ConversationDetailQueryClause"),
    ("POST /api/v2/recording/jobs", "/api/v2/recording/jobs", {},
     {"action": "DELETE", "actionDate": "2000-01-01T00:00:00Z", "conversationQuery": ASYNC_QUERY, "purge": True},
     "RecordingJobsQuery"),
    ("POST /api/v2/recording/jobs", "/api/v2/recording/jobs", {},
     {"action": "DELETE", "actionDate": "2000-01-01T00:00:00Z", "conversationQuery": {**ASYNC_QUERY, "paging": {}}},
     "AsyncConversationQuery"),
    ("PUT /api/v2/recording/jobs/{jobId}", f"/api/v2/recording/jobs/{CID}", {},
     {"state": "PROCESSING", "force": True}, "ExecuteRecordingJobsQuery"),
    ("PUT /api/v2/conversations/{conversationId}/recordings/{recordingId}",
     f"/api/v2/conversations/{CID}/recordings/{RID}", {},
     {"deleteDate": "2000-01-01T00:00:00Z", "softDelete": True}, "Recording"),
    ("POST /api/v2/recordings/deletionprotection", "/api/v2/recordings/deletionprotection", {},
     {"conversationIds": [CID], "protect": True}, "ConversationDeletionProtectionQuery"),
    ("PUT /api/v2/recordings/deletionprotection", "/api/v2/recordings/deletionprotection", {"protect": "true"},
     {"conversationIds": [CID], "reason": "hold"}, "ConversationDeletionProtectionQuery"),
    ("POST /api/v2/externalcontacts/identifierlookup/contacts", "/api/v2/externalcontacts/identifierlookup/contacts",
     {}, {"type": "Email", "value": "nobody@example.invalid", "email": "nobody@example.invalid"}, "ContactIdentifier"),
    ("POST /api/v2/externalcontacts/bulk/contacts", "/api/v2/externalcontacts/bulk/contacts", {},
     {"entities": [{"id": CID, "softDelete": True}]}, "ExternalContactsEntity"),
    ("POST /api/v2/externalcontacts/bulk/contacts/remove", "/api/v2/externalcontacts/bulk/contacts/remove", {},
     {"ids": [CID]}, "BulkIdsRequest"),
]


def _send(api: httpx.Client, endpoint: str, path: str, params: dict[str, str], body: Any) -> httpx.Response:
    method = endpoint.split(" ", 1)[0]
    return api.request(method, path, params=params, json=body)


@pytest.mark.parametrize(("endpoint", "path", "params", "body", "model"), CASES,
                         ids=[f"{c[0]}:{c[4]}" for c in CASES])
def test_an_unknown_property_is_refused_as_the_platform_does(
        api: httpx.Client, endpoint: str, path: str, params: dict[str, str], body: Any, model: str) -> None:
    r = _send(api, endpoint, path, params, body)
    assert r.status_code == 400, r.text
    answer = r.json()
    assert answer["code"] == "invalid.property"
    assert answer["status"] == 400
    assert answer["message"].startswith("Value [") and answer["message"].endswith(f"for object [{model}]")


def test_every_endpoint_with_a_body_has_a_decision() -> None:
    """A new POST/PUT route cannot slip past the check: each has a row (model, strict, source)."""
    app = create_app(SimConfig(subjects=1))
    with_body = {f"{m} {r.path}" for r in app.routes if isinstance(r, Route) and r.path.startswith("/api/v2")
                 for m in (r.methods or ()) if m in ("POST", "PUT", "PATCH")}
    assert with_body == set(body_schema.BODY_RULES)
    assert all(rule.source for rule in body_schema.BODY_RULES.values())
    assert {c[0] for c in CASES} == {e for e, rule in body_schema.BODY_RULES.items() if rule.model}


def test_read_only_properties_are_accepted_and_ignored(api: httpx.Client) -> None:
    """id, status, createdDate, selfUri, createdBy of a GDPRRequest are known: the server sets its own."""
    sent = {"requestType": "GDPR_DELETE", "subject": SUBJECT, "id": CID, "status": "COMPLETED",
            "createdDate": "2000-01-01T00:00:00Z", "selfUri": "/elsewhere", "createdBy": {"id": RID}}
    r = api.post("/api/v2/gdpr/requests", params={"deleteConfirmed": "true"}, json=sent)
    assert r.status_code == 200, r.text
    created = r.json()
    assert created["id"] != CID and created["status"] == "INITIATED"
    assert created["selfUri"] == f"/api/v2/gdpr/requests/{created['id']}"
    assert created["createdBy"]["id"] != RID and not created["createdDate"].startswith("2000")


def test_strictness_can_be_turned_off(api: httpx.Client, raw: httpx.Client) -> None:
    raw.post("/_sim/config", json={"strict_properties": False}).raise_for_status()  # the next reset restores it
    r = api.post("/api/v2/externalcontacts/identifierlookup/contacts",
                 json={"type": "Email", "value": "nobody@example.invalid", "email": "x"})
    assert r.status_code == 404  # looked up, not refused


def test_the_property_table_matches_the_sdk_models() -> None:
    sdk = pytest.importorskip("PureCloudPlatformClientV2")
    for name, props in body_schema.MODELS.items():
        model = getattr(sdk, name)()
        assert set(props) == set(model.attribute_map.values()), name
