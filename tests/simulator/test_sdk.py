"""The official Genesys Cloud Python SDK can talk to the simulator and deserialise every answer.

With a host like `http://127.0.0.1:PORT` the SDK's `//api.` -> `//login.` rewrite changes nothing, so it
posts the client-credentials grant to `<host>/oauth/token`, which the simulator serves.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from genesys_sim.server import RunningSimulator

from tests.support.sim_api import ALL_TIME

sdk = pytest.importorskip("PureCloudPlatformClientV2")
DEADLINE_S = 60.0  # generous: a passing run never waits for it, and the machine may be loaded


def completed(gdpr: Any, request_id: str, working: str) -> Any:
    """Poll a GDPR request through the SDK until COMPLETED (by the deadline), passing only through the
    states a request of its type may show (``working``: DELETING, UPDATING or FINALIZING)."""
    deadline = time.monotonic() + DEADLINE_S
    while (request := gdpr.get_gdpr_request(request_id)).status != "COMPLETED":
        assert request.status in ("INITIATED", "SEARCHING", working), request.status
        assert time.monotonic() < deadline, request.status
        time.sleep(0.02)
    return request


@pytest.fixture
def api_client(sim: RunningSimulator, raw: httpx.Client) -> Iterator[Any]:
    previous = sdk.configuration.host  # a process-wide singleton: put it back for other tests
    sdk.configuration.host = sim.url
    try:
        client = sdk.api_client.ApiClient()
        assert client.host == sim.url
        yield client.get_client_credentials_token("sim-client", "sim-secret")
    finally:
        sdk.configuration.host = previous


def test_sdk_gdpr_round_trip(api_client: Any, subjects: list[dict[str, Any]]) -> None:
    assert api_client.access_token
    subject = subjects[0]
    gdpr = sdk.GeneralDataProtectionRegulationApi(api_client)

    found = gdpr.get_gdpr_subjects("EMAIL", subject["emails"][0])
    assert found.total == 1
    assert found.entities[0].email_addresses == subject["emails"]
    assert found.entities[0].phone_numbers == subject["phones"]
    assert found.entities[0].external_contact_id == subject["external_contact_id"]

    body = sdk.GDPRRequest()
    body.request_type = "GDPR_DELETE"
    body.name = "DSAR-SDK-1"
    body.subject = sdk.GDPRSubject()
    body.subject.name = subject["name"]
    body.subject.email_addresses = subject["emails"]
    body.subject.phone_numbers = subject["phones"]
    created = gdpr.post_gdpr_requests(body, delete_confirmed=True)
    assert created.id and created.status == "INITIATED" and created.request_type == "GDPR_DELETE"
    assert created.subject.email_addresses == subject["emails"]
    assert created.created_date is not None and created.created_by.id

    with pytest.raises(sdk.rest.ApiException) as excinfo:
        gdpr.post_gdpr_requests(body)  # deleteConfirmed missing
    assert excinfo.value.status == 400

    completed(gdpr, created.id, "DELETING")

    listing = gdpr.get_gdpr_requests(page_size=10, page_number=1)
    assert listing.total == 1 and listing.entities[0].id == created.id
    assert listing.entities[0].status == "COMPLETED"
    assert gdpr.get_gdpr_subjects("EMAIL", subject["emails"][0]).entities == []



def test_sdk_gdpr_export_round_trip(api_client: Any, subjects: list[dict[str, Any]]) -> None:
    """The SDK creates a GDPR_EXPORT and reads it to COMPLETED with its download links."""
    gdpr = sdk.GeneralDataProtectionRegulationApi(api_client)
    body = sdk.GDPRRequest()
    body.request_type = "GDPR_EXPORT"
    body.name = "erasure-sdk-export"
    body.subject = sdk.GDPRSubject()
    body.subject.email_addresses = subjects[0]["emails"][:1]
    created = gdpr.post_gdpr_requests(body)  # no deleteConfirmed: an export deletes nothing
    assert created.request_type == "GDPR_EXPORT" and created.status == "INITIATED"
    done = completed(gdpr, created.id, "FINALIZING")
    assert done.results_url and done.results_urls == [done.results_url]
    assert httpx.get(done.results_url, timeout=10).content[:2] == b"PK"  # a zip

def test_sdk_analytics_query(api_client: Any, subjects: list[dict[str, Any]]) -> None:
    subject = subjects[1]
    query = {
        "interval": ALL_TIME,
        "order": "asc",
        "paging": {"pageSize": 50, "pageNumber": 1},
        "segmentFilters": [
            {
                "type": "or",
                "predicates": [
                    {
                        "type": "dimension",
                        "dimension": "externalContactId",
                        "operator": "matches",
                        "value": subject["external_contact_id"],
                    },
                    *[
                        {"type": "dimension", "dimension": "addressFrom", "operator": "matches", "value": e}
                        for e in subject["emails"]
                    ],
                    *[
                        {"type": "dimension", "dimension": "ani", "operator": "matches", "value": f"tel:{p}"}
                        for p in subject["phones"]
                    ],
                ],
            }
        ],
    }
    for api in (sdk.AnalyticsApi(api_client), sdk.ConversationsApi(api_client)):
        result = api.post_analytics_conversations_details_query(query)
        assert result.total_hits == len(result.conversations) >= 1
        assert {c.conversation_id for c in result.conversations} <= set(subject["conversation_ids"])
        conv = result.conversations[0]
        assert conv.conversation_start is not None and conv.participants
        customer = next(p for p in conv.participants if p.purpose == "customer")
        assert customer.participant_name == subject["name"]
        session = customer.sessions[0]
        assert session.session_id and session.media_type in ("message", "voice", "email")
        assert session.segments[0].segment_type == "interact"


def test_sdk_reads_conversations_by_id(api_client: Any, subjects: list[dict[str, Any]]) -> None:
    wanted = subjects[0]["conversation_ids"][:2] + subjects[1]["conversation_ids"][:1]
    result = sdk.AnalyticsApi(api_client).get_analytics_conversations_details(id=[*wanted, "no-such-conversation"])
    assert sorted(c.conversation_id for c in result.conversations) == sorted(wanted)
    assert all(c.conversation_start is not None and c.participants for c in result.conversations)


def test_sdk_messages_and_contacts(api_client: Any, subjects: list[dict[str, Any]]) -> None:
    subject = subjects[2]
    cid = subject["conversation_ids"][0]
    conversations = sdk.ConversationsApi(api_client)
    conv = conversations.get_conversations_message(cid)
    ids = [m.message_id for p in conv.participants for m in (p.messages or [])]
    assert ids and conv.participants[0].from_address.address_normalized
    bulk = conversations.post_conversations_message_messages_bulk(cid, body=ids)
    assert [m.id for m in bulk.entities] == ids
    assert subject["name"] in bulk.entities[0].normalized_message.text
    assert bulk.entities[0].messenger_type == "webmessaging" and bulk.entities[0].direction == "inbound"

    contacts = sdk.ExternalContactsApi(api_client)
    ident = sdk.ContactIdentifier()
    ident.type = "Email"
    ident.value = subject["emails"][0]
    contact = contacts.post_externalcontacts_identifierlookup_contacts(ident)
    assert contact.id == subject["external_contact_id"] and contact.cell_phone.e164 == subject["phones"][0]
    listing = contacts.get_externalcontacts_contacts(q=subject["emails"][0])
    assert [c.id for c in listing.entities] == [contact.id]
    contacts.delete_externalcontacts_contact(contact.id)
    with pytest.raises(sdk.rest.ApiException) as excinfo:
        contacts.get_externalcontacts_contact(contact.id)
    assert excinfo.value.status == 404


def test_sdk_bulk_contacts(api_client: Any, subjects: list[dict[str, Any]]) -> None:
    contacts = sdk.ExternalContactsApi(api_client)
    ids = [s["external_contact_id"] for s in subjects[6:8]]
    body = sdk.BulkIdsRequest()
    body.entities = []
    for contact_id in ids:
        entity = sdk.ExternalContactsEntity()
        entity.id = contact_id
        body.entities.append(entity)
    fetched = contacts.post_externalcontacts_bulk_contacts(body)
    assert [r.entity.id for r in fetched.results] == ids and fetched.error_count == 0
    assert fetched.results[0].entity.first_name and fetched.results[0].success
    removed = contacts.post_externalcontacts_bulk_contacts_remove(body)
    assert [(r.id, r.success) for r in removed.results] == [(c, True) for c in ids]
    again = contacts.post_externalcontacts_bulk_contacts_remove(body)
    assert again.error_count == 2 and {r.error.status for r in again.results} == {404}


def test_sdk_recordings(api_client: Any, subjects: list[dict[str, Any]]) -> None:
    cid = subjects[0]["conversation_ids"][0]
    recording_api = sdk.RecordingApi(api_client)
    recs = recording_api.get_conversation_recordings(cid)
    assert len(recs) == 1 and recs[0].conversation_id == cid and recs[0].file_state == "AVAILABLE"
    query = {
        "action": "DELETE",
        "actionDate": "2000-01-01T00:00:00.000Z",
        "conversationQuery": {
            "interval": ALL_TIME,
            "conversationFilters": [
                {"type": "and", "predicates": [{"type": "dimension", "dimension": "conversationId", "value": cid}]}
            ],
        },
    }
    job = recording_api.post_recording_jobs(query)
    assert job.id and job.state == "PENDING" and job.total_recordings == 1
    assert recording_api.get_recording_job(job.id).recording_jobs_query.action == "DELETE"


@pytest.fixture
def shaped_client(shaped_sim: RunningSimulator, shaped: httpx.Client) -> Iterator[Any]:
    previous = sdk.configuration.host
    sdk.configuration.host = shaped_sim.url
    try:
        yield sdk.api_client.ApiClient().get_client_credentials_token("sim-client", "sim-secret")
    finally:
        sdk.configuration.host = previous


def test_sdk_async_job_users_and_merged_contacts(shaped_client: Any, shaped: httpx.Client) -> None:
    subjects = shaped.get("/_sim/subjects").json()
    analytics = sdk.AnalyticsApi(shaped_client)
    query = {
        "interval": ALL_TIME,
        "segmentFilters": [
            {
                "type": "or",
                "predicates": [{"dimension": "externalContactId", "value": s["external_contact_id"]} for s in subjects],
            }
        ],
    }
    job = analytics.post_analytics_conversations_details_jobs(query)
    assert job.job_id
    deadline = time.monotonic() + DEADLINE_S
    while (status := analytics.get_analytics_conversations_details_job(job.job_id)).state != "FULFILLED":
        assert status.state in ("QUEUED", "PENDING") and status.submission_date is not None
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert status.completion_date is not None and status.expiration_date is not None
    page = analytics.get_analytics_conversations_details_job_results(job.job_id, page_size=5)
    assert len(page.conversations) == 5 and page.cursor and page.data_availability_date is not None
    assert page.conversations[0].participants[0].participant_name
    rest = analytics.get_analytics_conversations_details_job_results(job.job_id, cursor=page.cursor, page_size=1000)
    assert rest.cursor is None and rest.conversations
    assert analytics.get_analytics_conversations_details_jobs_availability().data_availability_date is not None
    analytics.delete_analytics_conversations_details_job(job.job_id)

    agent = shaped.get("/_sim/agents").json()[0]
    users = sdk.UsersApi(shaped_client)
    user = users.get_user(agent["user_id"])
    assert (user.id, user.name, user.email, user.state) == (agent["user_id"], agent["name"], agent["email"], "inactive")
    users.delete_user(agent["user_id"])
    with pytest.raises(sdk.rest.ApiException) as excinfo:
        users.get_user(agent["user_id"])
    assert excinfo.value.status == 404

    linked = next(s for s in subjects if len(s["external_contact_ids"]) == 2)
    contacts = sdk.ExternalContactsApi(shaped_client)
    merged = contacts.get_externalcontacts_contact(linked["external_contact_ids"][1])
    head = contacts.get_externalcontacts_contact(merged.canonical_contact.id)
    assert merged.merged_to.id == head.id == linked["external_contact_id"]
    assert [r.id for r in head.merge_set] == linked["external_contact_ids"] and [r.id for r in head.merged_from] == [merged.id]


def test_sdk_gdpr_update_rewrites_conversations_messages_contacts_and_the_subject_search(
        api_client: Any, subjects: list[dict[str, Any]], raw: httpx.Client) -> None:
    """Issue 17: a GDPR_UPDATE the SDK sends (its ReplacementTerm model, the strict body schema) replaces the
    value everywhere the simulator holds it; the record stays."""
    subject = subjects[2]
    old, new = subject["emails"][0], "anonymised-0123abcd@invalid.example"
    gdpr = sdk.GeneralDataProtectionRegulationApi(api_client)
    body = sdk.GDPRRequest()
    body.request_type = "GDPR_UPDATE"
    body.name = "erasure-sdk-update"
    body.subject = sdk.GDPRSubject()
    body.subject.email_addresses = [old]
    term = sdk.ReplacementTerm()
    term.type, term.existing_value, term.updated_value = "EMAIL", old, new
    body.replacement_terms = [term]
    created = gdpr.post_gdpr_requests(body)
    assert created.request_type == "GDPR_UPDATE" and created.replacement_terms[0].updated_value == new
    completed(gdpr, created.id, "UPDATING")

    assert raw.post("/_sim/find", json={"values": [old]}).json()["matches"] == []
    kinds = {m["kind"] for m in raw.post("/_sim/find", json={"values": [new]}).json()["matches"]}
    assert {"external_contact", "gdpr_subject"} <= kinds and kinds & {"conversation", "message"}, kinds
    contact = sdk.ExternalContactsApi(api_client).get_externalcontacts_contact(subject["external_contact_id"])
    assert new in str(contact.to_dict()) and old not in str(contact.to_dict())
    assert gdpr.get_gdpr_subjects("EMAIL", old).entities == []
    assert sdk.ConversationsApi(api_client).get_conversations_message(subject["conversation_ids"][0]).id
