"""The GDPR_DELETE subject (issue 15, item 5). ``GDPRSubject.externalContactId`` is one contact id and
``journeyCustomer`` one journey cookie (SDK model), so a person known under two external contacts (merged
ones), each a web-messaging guest with its own cookie, needs a GDPR_DELETE per contact: one naming contact
A leaves contact B's id in B's conversations, and one without the cookie leaves the guest's journey id in
its web chats. Each request goes exactly once, even when the deletion batch is delivered twice, and the
contacts are deleted only after the requests naming them were submitted."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
from genesys_sim.config import SimConfig

from shared.celery_app import create_app
from shared.models import RequestState
from shared.task_names import DELETE_TASK
from tests.support.stack import running_stack, sim_find, submit, wait_certificate, wait_final, wait_until


@pytest.fixture()
def linked_stack(tmp_path, redis_available):
    # Every subject's identifiers are split over two merged contacts; no deletion worker until the test
    # has queued the batch twice.
    config = SimConfig(subjects=3, seed=5, gdpr_step_s=0.2, rate_limit=6000, linked_fraction=1.0)
    with running_stack(tmp_path, redis_available, config, pools=("discovery", "redaction", "polling")) as stack:
        yield stack


def gdpr_deletes(stack) -> list[dict]:
    with stack.platform_api() as api:
        listed = api.get("/api/v2/gdpr/requests", params={"pageSize": 500}).json()["entities"]
    return [r for r in listed if r["requestType"] == "GDPR_DELETE"]


def test_every_contact_and_journey_cookie_of_a_subject_is_erased_once_each(linked_stack):
    stack = linked_stack
    subject = next(s for s in httpx.get(f"{stack.sim_url}/_sim/subjects").json()
                   if len(s["external_contact_ids"]) == 2)
    contacts, cookies = subject["external_contact_ids"], subject["journey_cookie_ids"]
    held = sim_find(stack, contacts + cookies)
    assert {m["value"] for m in held if m["kind"] == "conversation"} >= {*contacts, cookies[0]}

    [request_id] = submit(stack, [{"ticket": "TWO-CONTACTS", "emails": subject["emails"][:1], "approved_by": "dpo"}])
    store = stack.runtime.store
    wait_until(lambda: store.get(request_id).state is RequestState.DELETING, timeout_s=60,
               message="discovery to hand the request to deletion")
    # The batch delivered twice (a redelivery, a resume): two messages, taken by two worker threads at once.
    create_app(stack.runtime.settings).send_task(DELETE_TASK, args=[[request_id]])
    stack.workers.start("deletion", stack.env, stack.tmp / "logs", concurrency=2)
    states = wait_final(stack, [request_id], timeout_s=90)
    assert states[request_id] is RequestState.COMPLETED

    deletes = gdpr_deletes(stack)
    assert Counter(r["subject"].get("externalContactId") for r in deletes) == Counter(contacts)
    assert Counter(r["subject"]["journeyCustomer"]["id"] for r in deletes) == Counter(cookies)
    assert all(r["subject"]["journeyCustomer"]["type"] == "cookie" for r in deletes)
    record = store.get(request_id)
    assert sorted(record.gdpr_request_ids) == sorted(r["id"] for r in deletes)
    assert sorted(wait_certificate(stack, request_id)["platform"]["gdpr_request_ids"]) == sorted(record.gdpr_request_ids)
    # Nothing of either contact, nor of the guest's journey cookies, is left readable anywhere.
    assert sim_find(stack, contacts + cookies + subject["emails"] + subject["phones"]) == []
