"""Issue 20: phone numbers given the way callers and forms give them, and postcodes that look alike.

Seven digits said after "the number is" in a caller's turn are the caller's line, as five or six
are; "Teléfono de contacto:" is a label as "Contact phone:" is; a "+" and a country code under a
phone label is a phone number even when too short for that country's plan (mistyped or cut off).
A Brazilian CEP (five digits, a hyphen, three) in an address is a postcode, not a phone number.
"""

from __future__ import annotations

import pytest

from shared.pii import default_engine


def _found(text: str) -> list[tuple[str, str]]:
    return [(e.type, text[e.start : e.end]) for e in default_engine().find(text)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Anrufer: also die Nummer ist drei zwei eins, zwei drei vier fünf, danke", "drei zwei eins, zwei drei vier fünf"),
        ("Caller: so the number is six four one, two three four five, thanks", "six four one, two three four five"),
    ],
)
def test_seven_spoken_digits_after_the_number_is_in_a_callers_turn_are_a_phone(text: str, value: str) -> None:
    assert _found(text) == [("PHONE", value)]


@pytest.mark.parametrize(
    "text",
    [
        "Agent: the order number is three two one, two three four five, thanks",
        "the number is three two one two three four five",  # not in a speaker's turn: too weak for seven
    ],
)
def test_seven_spoken_digits_as_a_reference_or_outside_a_turn_are_not(text: str) -> None:
    assert _found(text) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Teléfono de contacto: 711/2345", "711/2345"),
        ("Contacto: 711 2345", "711 2345"),
        ("Telefone de contato: 711 2345", "711 2345"),
    ],
)
def test_a_contact_label_is_a_phone_label_in_spanish_and_portuguese(text: str, value: str) -> None:
    assert _found(text) == [("PHONE", value)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Phone: +98  9604", "+98  9604"),
        ("Tel.: +98 9604", "+98 9604"),
        ("my number is +33 6123", "+33 6123"),
    ],
)
def test_a_plus_and_country_code_under_a_phone_label_is_a_phone_even_when_short(text: str, value: str) -> None:
    entities = default_engine().find(text)
    assert [(e.type, text[e.start : e.end]) for e in entities] == [("PHONE", value)]
    assert not entities[0].validated


@pytest.mark.parametrize(
    "text",
    [
        "the temperature rose +98 9604 times",
        "Score: +98 9604",
        "Order: +98 9604",
        "call me, the ticket is +12 3456",
    ],
)
def test_a_short_plus_number_without_a_strong_phone_cue_is_not(text: str) -> None:
    assert _found(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Rua Augusta 123, 05663-781 São Paulo",
        "Endereço: Avenida Paulista, 1000, Bela Vista, São Paulo - SP, 05663-781",
        "Av. Brasil, 500\nJardim América\n01430-001 Rio de Janeiro / RJ",
        "Travessa das Flores, 77, CEP 05663-781, Curitiba",
    ],
)
def test_a_brazilian_postcode_in_an_address_is_not_a_phone(text: str) -> None:
    assert _found(text) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("call me on 05663-7811", "05663-7811"),
        ("Phone: 05663 781", "05663 781"),
    ],
)
def test_a_phone_number_near_the_postcode_shape_is_still_a_phone(text: str, value: str) -> None:
    assert _found(text) == [("PHONE", value)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("contact details: kate@example.com / +353  1807  123  456", "+353  1807  123  456"),
        ("Phone: +353  1807  123  456", "+353  1807  123  456"),
    ],
)
def test_a_number_grouped_with_double_spaces_throughout_is_one_number(text: str, value: str) -> None:
    assert _found(text)[-1] == ("PHONE", value)


def test_two_numbers_run_together_are_still_cut_at_the_strong_separator() -> None:
    text = "Phone: 0161 496 0000 / 020 7946 0958"
    assert _found(text) == [("PHONE", "0161 496 0000"), ("PHONE", "020 7946 0958")]


def test_the_number_after_an_address_written_with_at_and_dot_in_brackets_is_read_with_the_list() -> None:
    text = "contact details: psoares [at] almeida [dot] pt / 00351 798 123 456"
    assert _found(text)[-1] == ("PHONE", "00351 798 123 456")


def test_a_reference_after_an_address_with_dot_in_brackets_is_not_a_phone() -> None:
    text = "order details: psoares [at] almeida [dot] pt / 2023 4598 1234"
    assert [t for t, _ in _found(text)] == ["EMAIL"]


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("Customer: 676340375325", "676340375325", "CREDIT_CARD"),  # Luhn-valid Maestro, no country's number
        ("Caller: 501800000009", "501800000009", "CREDIT_CARD"),
        ("Caller: 639171234567", "639171234567", "PHONE"),  # +63 917 123 4567, a Philippine mobile
        ("Caller: 2025550143", "2025550143", "PHONE"),
    ],
)
def test_twelve_or_ten_digits_that_are_all_of_a_callers_turn(text: str, value: str, kind: str) -> None:
    assert _found(text) == [(kind, value)]


@pytest.mark.parametrize(
    "text",
    [
        "Agent: order 676340375325",
        "Caller: 676340375326",  # fails Luhn: not a card, and no country's number
        "Caller: the order is 2025550143, thanks",
    ],
)
def test_the_same_digits_as_a_reference_or_failing_the_checks_are_not(text: str) -> None:
    assert _found(text) == []


def test_four_digits_read_back_one_at_a_time_are_a_short_number() -> None:
    text = "agent: let me read that back, 7, 0, 5, 2, is that correct? caller: yes"
    assert _found(text) == [("PHONE", "7, 0, 5, 2")]


@pytest.mark.parametrize(
    "text",
    [
        "agent: can you read me the PIN, 7, 0, 5, 2?",
        "agent: confirm your order number 7 0 5 2 please",
        "caller: I have 7, 0, 5, 2 of them",
    ],
)
def test_four_digits_one_at_a_time_without_a_read_back_are_not(text: str) -> None:
    assert _found(text) == []


def test_a_longer_number_read_back_holding_the_subjects_digits_is_a_phone() -> None:
    from shared.pii import KnownSubject

    text = "conseiller : je répète, 0-9-6-1-2-3-4-5-6-7-8, c'est bien ça ? appelant : oui"
    found = default_engine().find(text, KnownSubject(phones=["+33 6 12 34 56 78"]))
    assert [(e.type, text[e.start : e.end]) for e in found] == [("PHONE", "0-9-6-1-2-3-4-5-6-7-8")]


@pytest.mark.parametrize(
    "text",
    ["call (+44) 020 7946 0958 please", "call +44 20 7946 0958 now", "call 020 7946 0958 now"],
)
def test_the_subjects_own_number_in_any_format_stays_the_subjects(text: str) -> None:
    from shared.pii import KnownSubject

    found = default_engine().find(text, KnownSubject(phones=["+44 20 7946 0958"]))
    assert [e.type for e in found] == ["SUBJECT"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("pls call me back +91\u00a01761123456789 thx", "+91\u00a01761123456789"),  # not a mistyped card
        ("You can call me on (1) 300 02 3456 between 1:20 am and 5:41 pm.", "(1) 300 02 3456"),  # not an SSN
        ("if I'm out, my partner Sr. Benicio Fonseca is on 043/0123", "043/0123"),  # "Sr." a title
    ],
)
def test_numbers_after_a_country_code_or_a_title_are_phones(text: str, value: str) -> None:
    assert _found(text) == [("PHONE", value)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("my SSN is 300 02 3456", ("US_SSN", "300 02 3456")),
        ("Order: +91 4111111111111111", ("CREDIT_CARD", "4111111111111111")),
    ],
)
def test_an_ssn_or_a_card_without_a_country_code_before_it_stays_one(text: str, value: tuple[str, str]) -> None:
    assert _found(text) == [value]


def test_a_reference_is_on_a_number_is_still_a_reference() -> None:
    assert _found("the ticket is on 043/0123") == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("appelant : alors c'est neuf sept un un deux trois", "neuf sept un un deux trois"),
        ("caller: so it's four nine two one eight three", "four nine two one eight three"),
    ],
)
def test_six_digits_dictated_as_a_whole_turn_are_a_phone(text: str, value: str) -> None:
    entities = default_engine().find(text)
    assert [(e.type, text[e.start : e.end]) for e in entities] == [("PHONE", value)]
    assert not entities[0].validated


@pytest.mark.parametrize(
    "text",
    [
        "agent: your PIN please\ncaller: so it's four nine two one eight three",
        "agent: what's the code? caller: so it's four nine two one eight three",
        "caller: seven five zero one one",  # five digits: more often a postcode
        "caller: I have four nine two one eight three of them",
    ],
)
def test_six_digits_after_a_pin_or_code_question_or_inside_a_sentence_are_not(text: str) -> None:
    assert _found(text) == []
