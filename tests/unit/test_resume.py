"""`erasure resume` finishes what a crash interrupted, and only that."""

from __future__ import annotations

import json

from services.resume import resume
from shared.models import ErasureRecord, RequestState, Subject, Verification, utcnow


def stored(runtime, ticket: str, state: RequestState, **fields) -> ErasureRecord:
    """A request stored in ``state`` (created there: RECEIVED has no direct move to a final state)."""
    return runtime.store.create(ErasureRecord(ticket=ticket, subject=Subject(emails=[f"{ticket.lower()}@example.org"]),
                                              verified_at=utcnow(), state=state, **fields))


def test_a_final_request_left_without_certificate_is_certified_and_scrubbed(runtime, monkeypatch):
    sent = []
    monkeypatch.setattr("shared.celery_app.app.send_task", lambda *a, **k: sent.append(a))
    done = stored(runtime, "R-1", RequestState.COMPLETED, completed_at=utcnow(),
                  verification=Verification(ok=True, checked_conversations=0, checked_identifiers=1))
    # FAILED with identifiers in clear: a crash between the move and its scrub (pipeline.transition).
    failed = stored(runtime, "R-2", RequestState.FAILED, reason="boom")
    counts = resume(runtime)
    assert counts == {"completed": 1, "failed": 1}
    certificate = json.loads(runtime.redis.get(runtime.keys.certificate(done.request_id)))
    assert certificate["ticket"] == "R-1" and certificate["complete"] is True
    assert runtime.store.get(done.request_id).scrubbed
    assert "r-1@example.org" not in runtime.redis.get(runtime.keys.request(done.request_id))
    assert runtime.redis.get(runtime.keys.certificate(failed.request_id)) is None  # FAILED gets no certificate...
    assert runtime.store.get(failed.request_id).scrubbed  # ...but is scrubbed, as the move would have done
    assert "r-2@example.org" not in runtime.redis.get(runtime.keys.request(failed.request_id))
    assert sent == []  # nothing re-enqueued for final requests
    assert resume(runtime) == {}  # and a second run finds nothing left to do


def test_a_review_goes_to_the_pool_whose_step_it_still_needs(runtime, monkeypatch):
    """Review before delete spans two pools: a review not submitted yet goes to the deletion pool, a
    submitted one to the polling pool that follows it (a crash lost either hand-on)."""
    from shared.models import ExportReview
    from shared.task_names import REVIEW_EXPORT_TASK, REVIEW_FOLLOW_TASK

    sent = []
    monkeypatch.setattr("shared.celery_app.app.send_task", lambda name, args, **k: sent.append((name, args)))
    fresh = stored(runtime, "V-1", RequestState.REVIEWING)
    submitted = stored(runtime, "V-2", RequestState.REVIEWING, review=ExportReview(gdpr_request_ids=["g-1"]))
    assert resume(runtime) == {"reviewing": 2}
    assert sorted(sent) == [(REVIEW_EXPORT_TASK, [[fresh.request_id]]), (REVIEW_FOLLOW_TASK, [[submitted.request_id]])]
