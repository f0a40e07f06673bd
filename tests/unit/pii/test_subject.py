import pytest

from shared.pii import KnownSubject, default_engine

SUBJECT = KnownSubject(
    emails=["Jane.Doe@Example.com"],
    phones=["+447911123456", "+12025550143"],
    names=["Jane Doe", "José Müller-García"],
    identifiers=["CUST-00123"],
)


def subject_spans(text, subject=SUBJECT):
    return [text[e.start : e.end] for e in default_engine().find(text, subject) if e.type == "SUBJECT"]


@pytest.mark.parametrize(
    "spelling",
    [
        "jane.doe@example.com",
        "JANE.DOE@EXAMPLE.COM",
        "jane.doe @ example.com",
        "jane dot doe at example dot com",
        "jane.doe(at)example(dot)com",
    ],
)
def test_email_spellings(spelling):
    assert subject_spans(f"my email: {spelling}, thanks") == [spelling]


@pytest.mark.parametrize(
    "spelling",
    [
        "07911 123456",
        "07911123456",
        "+44 7911 123456",
        "+44 (0)7911 123 456",
        "0044 7911-123-456",
        "7911 123456",
        "0 7 9 1 1 1 2 3 4 5 6",
        "(202) 555-0143",
        "1-202-555-0143",
        "+1 202.555.0143",
    ],
)
def test_phone_spellings(spelling):
    assert subject_spans(f"call {spelling} please") == [spelling]


@pytest.mark.parametrize(
    "spelling",
    [
        "Jane Doe",
        "JANE DOE",
        "jane   doe",
        "Jane-Doe",
        "Doe, Jane",
        "DOE Jane",
        "J. Doe",
        "Jane Q. Doe",
        "jane.doe",
        "José Müller-García",
        "Jose Mueller-Garcia",
        "JOSÉ MÜLLER GARCÍA",
        "Jose Muller",
        "José García",
        "Müller-García, José",
    ],
)
def test_name_spellings(spelling):
    assert subject_spans(f"This is {spelling} speaking") == [spelling]


def test_title_with_family_name():
    assert subject_spans("Thank you Ms. Doe") == ["Doe"]
    assert subject_spans("Buenos días Sr. García") == ["García"]


def test_other_identifiers_any_case_and_separators():
    for spelling in ("CUST-00123", "cust 00123", "Cust00123", "cust.00123"):
        assert subject_spans(f"customer {spelling}") == [spelling]


@pytest.mark.parametrize(
    "text",
    [
        "Janet Doerr called",
        "Doe is a deer",
        "Jane will call back",
        "john.doe@example.com",
        "call 07911 123457",
        "Mr Smith",
        "customer CUST-001234",
    ],
)
def test_look_alikes_are_not_the_subject(text):
    assert subject_spans(text) == []


def test_subject_absorbs_an_overlapping_finding():
    # An unknown address that carries the subject's name is redacted whole, as SUBJECT.
    text = "my other email is jane.doe@work.example"
    entities = default_engine().find(text, SUBJECT)
    assert [(e.type, text[e.start : e.end]) for e in entities] == [("SUBJECT", "jane.doe@work.example")]


def test_generic_detection_still_runs_with_a_subject():
    text = "Jane Doe, card 4111 1111 1111 1111, other phone +33 6 12 34 56 78"
    entities = default_engine().find(text, SUBJECT)
    assert [e.type for e in entities] == ["SUBJECT", "CREDIT_CARD", "PHONE"]


def test_repr_never_shows_values():
    assert "jane" not in repr(SUBJECT).lower()
    assert "7911" not in repr(SUBJECT)


def test_empty_subject_matches_nothing():
    assert default_engine().find("Jane Doe", KnownSubject()) == []


@pytest.mark.parametrize(
    ("name", "text", "spelling"),
    [
        # "s Doe" (an initial and the family name) starts first; "Doe, Søren" must not be skipped.
        ("Søren Doe", "Yes it's Doe, Søren, my email is below", "Doe, Søren"),
        # "de Jane" (a family word and the given name) starts first; "Jane de Vries" must not be skipped.
        ("Jane de Vries", "La cuenta está a nombre de Jane de Vries", "Jane de Vries"),
    ],
)
def test_a_name_spelling_starting_inside_another_is_masked_whole(name, text, spelling):
    spans = subject_spans(text, KnownSubject(names=[name]))
    assert any(spelling in span for span in spans), spans
