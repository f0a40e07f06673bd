"""Anonymise (issue 17): placeholders carry no personal data, are deterministic per key and value, lie in
reserved ranges; the replacement terms cover what they must and nothing they must not; an anonymise for a
subject under a legal hold is refused at intake with nothing stored or enqueued."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared import celery_app
from shared.anonymise import (
    NAME_PLACEHOLDER,
    email_placeholder,
    external_id_placeholder,
    holds_placeholder,
    is_placeholder,
    phone_placeholder,
    replaced_counts,
    replacement_terms,
)
from shared.certificate import build_certificate
from shared.certificate_html import render_certificate_html
from shared.models import ErasureRecord, RequestKind, Subject

KEY = b"k" * 32
EMAIL, PHONE, CONTACT = "jane.doe@example.org", "+447911123456", "c5bd4486-adad-4a9d-9fcd-1af9b3613be8"


def record(**changes) -> ErasureRecord:
    identity = Subject(emails=[EMAIL, "j.doe@example.com"], phones=[PHONE, "+13125550000"], names=["Jane Doe"],
                       external_contact_ids=[CONTACT], cookie_ids=["cookie-1"], user_id="user-1")
    base = ErasureRecord(ticket="A-1", subject=Subject(emails=[EMAIL]), verified_at=datetime.now(UTC),
                         kind=RequestKind.ANONYMISE, identity=identity)
    return base.model_copy(update=changes)


def test_placeholders_hold_nothing_of_the_value_and_lie_in_reserved_ranges():
    email, phone, contact = email_placeholder(KEY, EMAIL), phone_placeholder(KEY, PHONE), external_id_placeholder(KEY, CONTACT)
    assert email.endswith("@invalid.example") and email.startswith("anonymised-") and len(email) == len("anonymised-") + 8 + 16
    assert "jane" not in email and "doe" not in email
    assert phone.startswith("+447700900") and len(phone) == len("+447700900123")  # Ofcom drama range
    assert "7911123456" not in phone
    assert contact.startswith("anonymised-") and CONTACT not in contact and CONTACT[:8] not in contact
    assert all(is_placeholder(v) for v in (email, phone, contact, NAME_PLACEHOLDER))
    assert not any(is_placeholder(v) for v in (EMAIL, PHONE, CONTACT, "Jane Doe", "+447700901000"))


def test_placeholders_are_deterministic_per_key_and_differ_by_value():
    assert email_placeholder(KEY, EMAIL) == email_placeholder(KEY, " Jane.Doe@Example.org ")
    assert phone_placeholder(KEY, PHONE) == phone_placeholder(KEY, PHONE)
    assert email_placeholder(KEY, EMAIL) != email_placeholder(KEY, "john@example.org")
    # Without the key nobody can confirm a guess: another key gives another placeholder.
    assert email_placeholder(b"other" * 8, EMAIL) != email_placeholder(KEY, EMAIL)
    assert external_id_placeholder(b"other" * 8, CONTACT) != external_id_placeholder(KEY, CONTACT)


def test_terms_replace_every_email_phone_and_contact_and_a_name_only_on_opt_in():
    terms = replacement_terms(KEY, record())
    assert {(t["type"], t["existingValue"]) for t in terms} == {
        ("EMAIL", EMAIL), ("EMAIL", "j.doe@example.com"), ("PHONE", PHONE), ("PHONE", "+13125550000"),
        ("EXTERNAL_ID", CONTACT)}
    assert all(is_placeholder(t["updatedValue"]) for t in terms)
    assert all(set(t) == {"type", "existingValue", "updatedValue"} for t in terms)  # SDK ReplacementTerm
    named = replacement_terms(KEY, record(erase_by_name=True))
    assert {"type": "NAME", "existingValue": "Jane Doe", "updatedValue": NAME_PLACEHOLDER} in named
    # A reassigned number is kept out, as from a GDPR_DELETE: it belongs to its later owner now.
    excluded = replacement_terms(KEY, record(excluded=Subject(phones=["+13125550000"])))
    assert "+13125550000" not in {t["existingValue"] for t in excluded}
    assert replaced_counts(record()) == {"email": 2, "phone": 2, "external_id": 1, "name": 0}


def test_placeholders_are_recognised_in_text_and_old_values_are_not():
    assert holds_placeholder(f"mail me at {email_placeholder(KEY, EMAIL)} please")
    assert holds_placeholder(f"call {phone_placeholder(KEY, PHONE)}")
    assert holds_placeholder("Anonymised")
    assert not holds_placeholder(f"mail me at {EMAIL}, call {PHONE}")
    assert not holds_placeholder("call +4477009001234")  # longer than the range: a real number, not ours


def test_the_certificate_counts_what_was_anonymised_and_lists_cookies_as_withheld():
    certificate = build_certificate(record(conversation_ids=["c1", "c2"]), "hmac-sha256:x", None)
    assert certificate["anonymised"] == {"identifiers": {"email": 2, "phone": 2, "external_id": 1, "name": 0},
                                         "conversations_kept": 2}
    assert certificate["erased"]["conversations"] == 0 and certificate["erased"]["identifiers"] == 0  # replaced, kept
    [cookie] = [w for w in certificate["withheld"] if w["kind"] == "identifier:journey_cookie"]
    assert cookie["count"] == 1 and "replacement-term" in cookie["basis"]
    html = render_certificate_html(certificate)
    assert 'id="anonymised"' in html and "Anonymised emails" in html and EMAIL not in html
    erase = build_certificate(record(kind=RequestKind.ERASE), "hmac-sha256:x", None)
    assert erase["anonymised"] is None and 'id="anonymised"' not in render_certificate_html(erase)


@pytest.fixture
def sent(monkeypatch):

    calls: list = []
    monkeypatch.setattr(celery_app.app, "send_task", lambda name, args=None, **kw: calls.append((name, args)))
    return calls


def test_anonymise_for_a_subject_under_a_legal_hold_is_refused_at_intake(runtime, sent):
    from services.intake.submit import IntakeError, submit

    hold = runtime.holds().add_subject(PHONE, "litigation", basis="Art. 17(3)(e)")
    with pytest.raises(IntakeError) as refused:
        submit(runtime, {"ticket": "H-1", "kind": "anonymise", "emails": [EMAIL], "phones": [PHONE]})
    [error] = refused.value.errors
    assert error.startswith("kind:") and hold.id in error and PHONE not in error and EMAIL not in error
    assert sent == [] and runtime.store.find_by_ticket("H-1") is None
    # An erasure of the same subject is still accepted (it waits in HELD at deletion, as before).
    assert submit(runtime, {"ticket": "H-2", "emails": [EMAIL], "phones": [PHONE]}).kind is RequestKind.ERASE


def test_an_anonymise_with_nothing_a_replacement_term_can_name_is_refused_at_deletion():
    from services.deletion.tasks import nothing_to_replace

    only_cookies = Subject(cookie_ids=["cookie-1"], user_id="user-1", names=["Jane Doe"])
    assert nothing_to_replace(record(identity=only_cookies))
    assert not nothing_to_replace(record(identity=only_cookies, erase_by_name=True))  # the name is replaced then
    assert not nothing_to_replace(record())
    assert not nothing_to_replace(record(identity=only_cookies, kind=RequestKind.ERASE))  # a delete can use them
