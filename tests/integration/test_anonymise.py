"""Anonymise (issue 17) end to end: real Redis, worker processes, the simulator over HTTP.

An ``anonymise`` request sends one GDPR_UPDATE whose replacement terms turn each identifier into a
placeholder; the conversations stay (read back by id), none of the old values can be found anywhere in the
organisation, the placeholders can, and the certificate counts what was anonymised (checked in headless
Chromium). The GDPR_UPDATE goes through the ledger: a deletion worker killed right after the platform
accepted it, before its id was recorded, leaves exactly one GDPR_UPDATE once the batch is delivered again."""

from __future__ import annotations

import re
import subprocess

import httpx
import pytest
from genesys_sim.config import SimConfig

from services.deletion.tasks import GDPR_UPDATE
from shared.anonymise import email_placeholder, phone_placeholder
from shared.certificate_html import render_certificate_html
from shared.models import RequestState
from tests.integration.test_deletion_crash import ENV, effect, killed, redelivery_due, start_deleter
from tests.support.stack import running_stack, sim_find, submit, wait_certificate, wait_final, wait_until


@pytest.fixture()
def anon_stack(tmp_path, redis_available):
    config = SimConfig(subjects=4, seed=3, gdpr_step_s=0.2, rate_limit=6000)
    with running_stack(tmp_path, redis_available, config, concurrency=2) as stack:
        yield stack


def gdpr_counts(stack) -> dict[tuple[str, str], int]:
    stats = httpx.get(f"{stack.sim_url}/_sim/stats").json()
    return {(r["requestType"], r["subject"]): r["count"] for r in stats["gdpr_requests"]}


def test_anonymise_keeps_every_conversation_with_the_identifiers_replaced(anon_stack, tmp_path):
    stack = anon_stack
    subject = httpx.get(f"{stack.sim_url}/_sim/subjects").json()[0]
    old = subject["emails"] + subject["phones"]
    assert sim_find(stack, old), "the seed holds the subject's identifiers before"
    [request_id] = submit(stack, [{"ticket": "ANON-1", "kind": "anonymise", "emails": subject["emails"][:1],
                                   "phones": subject["phones"][:1], "approved_by": "dpo"}])
    states = wait_final(stack, [request_id], timeout_s=120)
    record = stack.runtime.store.get(request_id)
    assert states[request_id] is RequestState.COMPLETED, (record.verification, record.reason)

    # Every known conversation is still there, by id: kept, not erased.
    assert record.conversation_ids
    read = stack.runtime.genesys("polling").get_conversation_details(record.conversation_ids)
    assert {c.conversation_id for c in read} == set(record.conversation_ids)
    # None of the old values is readable anywhere; the placeholders are.
    assert sim_find(stack, old) == []
    key = stack.runtime.settings.require_hmac_key()
    placeholders = [*(email_placeholder(key, e) for e in subject["emails"]),
                    *(phone_placeholder(key, p) for p in subject["phones"])]
    assert sim_find(stack, placeholders)
    # One GDPR_UPDATE for the subject, no GDPR_DELETE.
    counts = gdpr_counts(stack)
    assert counts.get(("GDPR_UPDATE", subject["id"])) == 1 and ("GDPR_DELETE", subject["id"]) not in counts

    certificate = wait_certificate(stack, request_id)
    assert certificate["kind"] == "anonymise"
    assert certificate["anonymised"]["conversations_kept"] == len(record.conversation_ids)
    assert certificate["anonymised"]["identifiers"]["email"] >= 1
    assert certificate["anonymised"]["identifiers"]["phone"] >= 1
    _shows_anonymised_counts_in_chromium(certificate, tmp_path, stack.runtime.settings.require_signer().public_key)


def _shows_anonymised_counts_in_chromium(certificate: dict, tmp_path, public_key) -> None:
    from tests.support.chromium_required import require_chromium

    chromium = require_chromium()
    path = tmp_path / "certificate.html"
    path.write_text(render_certificate_html(certificate, public_key=public_key))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([chromium, *flags, "--dump-dom", path.as_uri()], capture_output=True, text=True,
                         timeout=90, check=True).stdout
    text = " ".join(re.sub(r"<[^>]+>", " ", dom).split())
    emails = certificate["anonymised"]["identifiers"]["email"]
    kept = certificate["anonymised"]["conversations_kept"]
    assert f"Anonymised emails {emails}" in text, text
    assert f"Conversations kept (identifiers replaced) {kept}" in text
    assert "Anonymisation certificate" in text and "Erasure certificate" not in text
    assert f"valid, signed by {certificate['key_id']}" in text
    assert "Kind anonymise" in text


@pytest.fixture()
def anon_crash_stack(tmp_path, redis_available):
    config = SimConfig(subjects=2, seed=1, gdpr_step_s=0.3, rate_limit=6000)
    with running_stack(tmp_path, redis_available, config, pools=("discovery", "redaction", "polling"), **ENV) as stack:
        yield stack


def test_a_deletion_batch_delivered_twice_sends_one_gdpr_update(anon_crash_stack):
    stack = anon_crash_stack
    subject = httpx.get(f"{stack.sim_url}/_sim/subjects").json()[0]
    deleter = start_deleter(stack, "gdpr_update")
    [request_id] = submit(stack, [{"ticket": "ANON-CRASH", "kind": "anonymise", "emails": subject["emails"][:1],
                                   "approved_by": "dpo"}])
    # First delivery: killed after the platform accepted the GDPR_UPDATE, before its id was recorded.
    killed(deleter, "gdpr_update")
    assert effect(stack, request_id, GDPR_UPDATE).platform_id is None
    assert gdpr_counts(stack).get(("GDPR_UPDATE", subject["id"])) == 1

    wait_until(lambda: redelivery_due(stack), timeout_s=60, message="the visibility timeout of the killed task")
    start_deleter(stack, None)  # the batch delivered again
    states = wait_final(stack, [request_id], timeout_s=90)
    assert states[request_id] is RequestState.COMPLETED, stack.runtime.store.get(request_id).reason
    assert gdpr_counts(stack).get(("GDPR_UPDATE", subject["id"])) == 1  # exactly one, ever
    found = effect(stack, request_id, GDPR_UPDATE)
    assert found.state == "done" and stack.runtime.store.get(request_id).gdpr_request_ids == [found.platform_id]
    events = [e["event"] for e in stack.runtime.audit.entries_for(request_id)]
    assert "deletion.gdpr_request_reconciled" in events and "deletion.gdpr_update_submitted" not in events
    assert sim_find(stack, subject["emails"]) == []


@pytest.fixture()
def keep_contacts_stack(tmp_path, redis_available):
    config = SimConfig(subjects=4, seed=3, gdpr_step_s=0.2, rate_limit=6000)
    with running_stack(tmp_path, redis_available, config, concurrency=2, ERASURE_ANONYMISE_CONTACTS="keep") as stack:
        yield stack


def test_with_contacts_kept_the_contact_stays_anonymised_and_is_verified(keep_contacts_stack):
    """``ERASURE_ANONYMISE_CONTACTS=keep``: the contact is not deleted; the GDPR_UPDATE rewrites it, and
    verification reads it back for the old values."""
    stack = keep_contacts_stack
    subject = httpx.get(f"{stack.sim_url}/_sim/subjects").json()[1]
    [request_id] = submit(stack, [{"ticket": "ANON-KEEP", "kind": "anonymise", "emails": subject["emails"][:1],
                                   "phones": subject["phones"][:1], "approved_by": "dpo"}])
    states = wait_final(stack, [request_id], timeout_s=120)
    record = stack.runtime.store.get(request_id)
    assert states[request_id] is RequestState.COMPLETED, (record.verification, record.reason)
    assert record.contacts_deleted == []
    contacts = stack.runtime.genesys("polling").get_contacts_bulk(subject["external_contact_ids"])
    assert set(contacts.found) == set(subject["external_contact_ids"])  # kept
    assert sim_find(stack, subject["emails"] + subject["phones"]) == []  # but none of the old values on them
    key = stack.runtime.settings.require_hmac_key()
    kinds = {m["kind"] for m in sim_find(stack, [email_placeholder(key, e) for e in subject["emails"]])}
    assert "external_contact" in kinds


def test_a_kept_contact_the_update_did_not_reach_is_a_remnant(keep_contacts_stack):
    """Whether the platform's GDPR_UPDATE reaches contacts is unknown: where it does not, the kept contact
    still holds the old values and verification says so (PARTIAL), by contact id, never by value."""
    stack = keep_contacts_stack
    assert httpx.post(f"{stack.sim_url}/_sim/config", json={"gdpr_update_reaches_contacts": False}).status_code == 200
    subject = httpx.get(f"{stack.sim_url}/_sim/subjects").json()[1]
    [request_id] = submit(stack, [{"ticket": "ANON-KEEP-2", "kind": "anonymise", "emails": subject["emails"][:1],
                                   "approved_by": "dpo"}])
    states = wait_final(stack, [request_id], timeout_s=120)
    record = stack.runtime.store.get(request_id)
    assert states[request_id] is RequestState.PARTIAL
    assert [f"external_contact:{c}" for c in subject["external_contact_ids"]] == \
        [r for r in record.verification.remnants if r.startswith("external_contact:")]
