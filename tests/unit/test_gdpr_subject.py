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
