"""Intake validation: bad input is refused by field name, without echoing the value."""

import pytest

from services.intake.validation import IntakeError, parse_request


def refused(payload):
    with pytest.raises(IntakeError) as info:
        parse_request(payload)
    return info.value.errors


def test_normalises_email_and_phone():
    record = parse_request({"ticket": "T-1", "emails": [" Jane.Doe@Example.ORG "],
                            "phones": ["+44 7911 123456"]})
    assert record.subject.emails == ["jane.doe@example.org"]
    assert record.subject.phones == ["+447911123456"]
    assert record.ticket == "T-1"


def test_national_phone_needs_region():
    errors = refused({"ticket": "T-2", "phones": ["07911 123456"]})
    assert errors == ["phones[0]: not a parseable phone number (give it with + and country code)"]
    record = parse_request({"ticket": "T-2", "phones": ["07911 123456"], "phone_region": "GB"})
    assert record.subject.phones == ["+447911123456"]


def test_malformed_email_named_without_value():
    errors = refused({"ticket": "T-3", "emails": ["ok@example.org", "jane.doe(at)example.org"]})
    assert errors == ["emails[1]: not a valid email address"]
    assert "jane" not in " ".join(errors)


def test_unparseable_phone():
    errors = refused({"ticket": "T-4", "phones": ["call me maybe"]})
    assert errors[0].startswith("phones[0]:")
    assert "maybe" not in errors[0]


def test_empty_subject():
    errors = refused({"ticket": "T-5"})
    assert any("subject: give at least one identifier" in e for e in errors)


def test_missing_ticket_and_unknown_field():
    errors = refused({"emails": ["a@example.org"], "colour": "blue"})
    assert "ticket: Field required" in errors
    assert "colour: unknown field" in errors


def test_csv_cells_split():
    record = parse_request({"ticket": "T-6", "emails": "a@example.org; b@example.org"})
    assert record.subject.emails == ["a@example.org", "b@example.org"]


def test_window_must_be_ordered():
    errors = refused({"ticket": "T-7", "emails": ["a@example.org"],
                      "window_start": "2026-05-01T00:00:00Z", "window_end": "2026-04-01T00:00:00Z"})
    assert any("window_start must be before window_end" in e for e in errors)
