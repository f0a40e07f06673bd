"""What a GDPR_DELETE names (issue 15, item 6): a name is a search term on the platform and a common one
reaches namesakes, so it goes only on the operator's opt-in at intake and never alone."""

from __future__ import annotations

from services.deletion.tasks import gdpr_subject_for, names_sent, only_a_name
from shared.models import ErasureRecord, Subject, utcnow


def record(subject: Subject, *, erase_by_name: bool = False, excluded: Subject | None = None) -> ErasureRecord:
    return ErasureRecord(ticket="T-1", subject=subject, verified_at=utcnow(), erase_by_name=erase_by_name,
                         excluded=excluded)


JANE = Subject(emails=["jane@example.org"], names=["Jane Doe"])


def test_without_the_opt_in_the_name_stays_out_of_the_gdpr_delete():
    subject = gdpr_subject_for(record(JANE))
    assert subject.name is None and subject.email_addresses == ["jane@example.org"]
    assert "name" not in subject.to_body()
    assert names_sent(record(JANE)) is False


def test_with_the_opt_in_the_name_goes_with_the_other_identifiers():
    subject = gdpr_subject_for(record(JANE, erase_by_name=True))
    assert subject.name == "Jane Doe" and subject.email_addresses == ["jane@example.org"]
    assert names_sent(record(JANE, erase_by_name=True)) is True


def test_a_name_never_goes_alone_even_when_every_other_identifier_was_withheld():
    # The only email is used by a later owner (withheld): the opt-in does not make the name the only term.
    opted = record(JANE, erase_by_name=True, excluded=Subject(emails=["jane@example.org"]))
    subject = gdpr_subject_for(opted)
    assert subject.name is None and subject.email_addresses == []
    assert names_sent(opted) is False


def test_a_subject_known_only_by_name_is_refused_at_deletion_not_certified():
    """Without anything but a name, no GDPR_DELETE can go (a name never goes alone), and a verification
    with nothing to look for must not pass: the deletion pool fails such a request with the reason."""
    assert only_a_name(record(Subject(names=["Jane Doe"]))) is True
    assert only_a_name(record(Subject(names=["Jane Doe"]), erase_by_name=True)) is True
    assert only_a_name(record(JANE)) is False
    # Every other identifier withheld (reassigned): disclosed as withheld, not refused.
    assert only_a_name(record(JANE, excluded=Subject(emails=["jane@example.org"]))) is False


# --- item 5: one GDPR_DELETE per further contact or journey cookie (the subject holds one of each) ---

def test_each_further_contact_and_cookie_gets_a_gdpr_delete_of_its_own():
    from services.deletion.tasks import gdpr_effect, gdpr_subjects_for

    two = record(Subject(emails=["jane@example.org"], phones=["+447911123456"], external_contact_ids=["c-a", "c-b"],
                         cookie_ids=["k-a", "k-b", "k-c"], user_id="u-1"))
    subjects = gdpr_subjects_for(two)
    assert [s.external_contact_id for s in subjects] == ["c-a", "c-b", None]
    assert [s.journey_customer.id for s in subjects if s.journey_customer] == ["k-a", "k-b", "k-c"]
    assert subjects[0].to_body()["journeyCustomer"] == {"type": "cookie", "id": "k-a"}
    # Emails, phones and the user go once, with the first; the further ones carry a contact and a cookie only.
    assert subjects[0].email_addresses and subjects[0].phone_numbers and subjects[0].user_id == "u-1"
    assert all(not (s.email_addresses or s.phone_numbers or s.user_id or s.name) for s in subjects[1:])
    effects = [gdpr_effect(two.request_id, s, first=n == 0) for n, s in enumerate(subjects)]
    assert effects[0] == ("gdpr_delete", f"erasure-{two.request_id}")
    assert len({e for e, _ in effects}) == len({n for _, n in effects}) == 3  # each its own ledger entry and name
    assert effects == [gdpr_effect(two.request_id, s, first=n == 0) for n, s in enumerate(gdpr_subjects_for(two))]


def test_a_single_contact_subject_still_makes_one_request():
    from services.deletion.tasks import gdpr_subjects_for

    assert len(gdpr_subjects_for(record(Subject(emails=["jane@example.org"], external_contact_ids=["c-a"])))) == 1
