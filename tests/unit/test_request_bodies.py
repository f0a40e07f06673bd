"""What the client sends carries only properties of the SDK model, checked against the simulator's table
(``genesys_sim.body_schema``, which a test compares with the SDK): the platform answers any other property
with 400 ``invalid.property``."""

from __future__ import annotations

from datetime import UTC, datetime

from genesys_sim.body_schema import unknown_property

from services.deletion.purge import purge_query
from services.discovery.details_jobs import job_query
from shared.genesys.models import GdprSubject
from shared.recording_jobs import job_body

START, END = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
PREDICATE = {"type": "dimension", "dimension": "addressFrom", "operator": "matches", "value": "a@example.org"}


def test_a_subject_read_back_from_the_platform_is_sent_with_gdpr_subject_properties_only():
    """Models keep unknown fields they read (extra="allow"); a subject built from an answer must not send
    them back in a GDPR request."""
    read = GdprSubject.model_validate({"emailAddresses": ["a@example.org"], "externalContactId": "c-1",
                                       "selfUri": "/api/v2/gdpr/subjects/x", "matchType": "EXACT"})
    body = read.to_body()
    assert body == {"emailAddresses": ["a@example.org"], "externalContactId": "c-1"}
    assert unknown_property({"requestType": "GDPR_DELETE", "subject": body}, "GDPRRequest") is None


def test_the_query_and_job_bodies_hold_only_model_properties():
    assert unknown_property(job_query([PREDICATE], START, END), "AsyncConversationQuery") is None
    assert unknown_property(purge_query(START, END), "AsyncConversationQuery") is None
    spec = {"action_date": "2026-02-01T00:00:00.000Z", "interval": "2026-01-01T00:00:00Z/2026-02-01T00:00:00Z",
            "conversation_ids": ["c-1", "c-2"]}
    assert unknown_property(job_body(spec), "RecordingJobsQuery") is None
