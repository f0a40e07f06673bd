"""Issue 20: short numbers read back, local numbers a caller rang from, and the look-alikes.

A small country's number (Niue, Saint Helena: five or six digits) read back one digit at a time
after "let me read that back" is a phone number; the same run after "confirm your order number" or
"read me the PIN", or followed by a currency, is not. "I tried ringing you from 641 2345": the line a
caller rang from is the caller's own, seven digits or not. Postcodes after "código postal", a
tracking number after "tracking says", a country code read as an SSN's first digits, a card number
glued to a Japanese word for "card", a Ukrainian address spoken with "dot укр".
"""

from __future__ import annotations

import pytest

from shared.pii import default_engine


def _found(text: str) -> list[tuple[str, str]]:
    return [(e.type, text[e.start : e.end]) for e in default_engine().find(text)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("agent: let me read that back, 2 0 1 2 3 4, is that correct? caller: yes", "2 0 1 2 3 4"),
        ("agente: le repito, 5 - 4 - 2 - 0 - 1 - 1, ¿correcto? cliente: sí", "5 - 4 - 2 - 0 - 1 - 1"),
        ("conseiller : je répète, 3, 1, 2, 3, 4, c'est bien ça ? appelant : oui", "3, 1, 2, 3, 4"),
        ("Agent: ich wiederhole: 5-1-5-2-3, stimmt das? Anrufer: ja", "5-1-5-2-3"),
        ("agent: let me read that back, 1 - 2 - 0 - 1 - 2 - 3 - 4 - 5 - 6 - 7 - 8 - 9, is that correct?",
         "1 - 2 - 0 - 1 - 2 - 3 - 4 - 5 - 6 - 7 - 8 - 9"),
    ],
)
def test_a_short_number_read_back_digit_by_digit_is_masked_and_not_an_identifier(text: str, value: str) -> None:
    entities = default_engine().find(text)
    assert [(e.type, text[e.start : e.end]) for e in entities] == [("PHONE", value)]
    assert not entities[0].validated


@pytest.mark.parametrize(
    "text",
    [
        "agent: confirm your order number 1 2 3 4 5 please",
        "let me read back the PIN 1 2 3 4 5",
        "read that back: 1 2 3 4 5 6 EUR",
        "agent: the ticket, 2 0 1 2 3 4, is that correct?",
        "my order 2 0 1 2 3 4 arrived",
    ],
)
def test_the_same_short_runs_as_references_codes_or_amounts_are_not_masked(text: str) -> None:
    assert _found(text) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("I tried ringing you from 6412345 but nobody picked up", "6412345"),
        ("I tried ringing you from 1201 234 but nobody picked up", "1201 234"),
        ("I tried ringing you from 250/1234 but nobody picked up", "250/1234"),
        ("I'm calling from 5005.003123 about my bill", "5005.003123"),
        ("agent: confirming your number three one oh ... two two three four. caller: yep",
         "three one oh ... two two three four"),
    ],
)
def test_the_line_a_caller_rang_from_or_an_agent_confirms_is_a_phone(text: str, value: str) -> None:
    assert _found(text) == [("PHONE", value)]


@pytest.mark.parametrize(
    "text",
    [
        "Call 555-0134 for the branch",
        "I'm calling about invoice 6412345 from last month",
        "calling from order 6412345",
    ],
)
def test_a_call_verb_without_from_or_with_a_reference_stays_weak(text: str) -> None:
    assert _found(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "envío 9400 0822 4885 6309 0583 59, código postal 04707-8786",
        "tracking says 091830117629, delivery to 38783",
    ],
)
def test_postcodes_and_tracking_numbers_are_not_phones(text: str) -> None:
    assert [kind for kind, _ in _found(text)] in ([], ["CREDIT_CARD"])
    assert "PHONE" not in [kind for kind, _ in _found(text)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("whatsapp me: +886\u00a070\u00a01234\u00a05678", "+886\u00a070\u00a01234\u00a05678"),
        ("Teléfono de contacto: +672\u00a010\u00a06609", "+672\u00a010\u00a06609"),
    ],
)
def test_a_country_code_is_not_an_ssns_first_digits(text: str, value: str) -> None:
    assert _found(text) == [("PHONE", value)]


def test_a_card_number_glued_to_the_japanese_word_for_card_is_a_card() -> None:
    text = "カード番号3501-2310-8726-9998で支払いました"
    assert _found(text) == [("CREDIT_CARD", "3501-2310-8726-9998")]
    assert _found("注文番号3507843304188746で") == []


def test_a_ukrainian_address_spoken_with_dot_ukr_is_an_email() -> None:
    text = "caller: email is habelkoleonid at savenko dot укр"
    assert _found(text) == [("EMAIL", "habelkoleonid at savenko dot укр")]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("call me on 22 345 please", "22 345"),
        ("my number is 12345", "12345"),
        ("Phone: 23456", "23456"),
    ],
)
def test_five_or_six_written_digits_after_a_strong_phone_cue_are_masked(text: str, value: str) -> None:
    assert _found(text) == [("PHONE", value)]


@pytest.mark.parametrize(
    "text",
    [
        "my order number is 12345",
        "call me about order 12345",
        "call me at 1430",
        "call me on 12345 EUR",
        "zip 12345",
        "I live at 12345 Main St, call me",
        "call 12345 for the branch",
    ],
)
def test_five_written_digits_without_a_strong_cue_or_as_a_reference_are_not(text: str) -> None:
    assert _found(text) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Phone: 23456 first thing tomorrow", "23456"),
        ("call me on 22345, Mrs Smith", "22345"),
        ("let me read that back: 2 0 1 2 3 4 first", "2 0 1 2 3 4"),
        ("Tel: 22345 (eurostar desk)", "22345"),
    ],
)
def test_a_word_that_merely_holds_a_currency_code_is_no_amount(text: str, value: str) -> None:
    """"first" and "Mrs" hold "rs", "eurostar" holds "eur": only a currency named whole makes an amount (these
    short numbers were left in clear while the check read any word's letters)."""
    assert _found(text) == [("PHONE", value)]


@pytest.mark.parametrize(
    "text",
    ["call me on 12345 dollars", "read that back: 1 2 3 4 5 euros", "my number is 12345 Rs", "call me on 12345 $"],
)
def test_a_short_number_next_to_a_currency_is_an_amount(text: str) -> None:
    assert _found(text) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("cliente: apunte, ocho nueve ... tres nueve", "ocho nueve ... tres nueve"),
        ("Anrufer: also die Nummer ist sechs zwei acht drei neun, danke", "sechs zwei acht drei neun"),
        ("caller: um you can reach me at plus four two zero two four one two three four five six seven eight nine",
         "plus four two zero two four one two three four five six seven eight nine"),
    ],
)
def test_short_numbers_dictated_in_a_turn_and_plus_numbers_are_phones(text: str, value: str) -> None:
    assert _found(text) == [("PHONE", value)]


@pytest.mark.parametrize(
    "text",
    [
        "caller: my order number is one two three four five",
        "caller: the PIN is one two three four",
        "the number is five four three two one",
        "caller: I have one two three four five items",
        "cliente: apunte, el pedido ocho nueve tres nueve",
    ],
)
def test_short_spoken_references_codes_and_counts_are_not(text: str) -> None:
    assert _found(text) == []


def test_a_dotted_number_after_tel_is_a_phone_not_an_ip_address() -> None:
    assert _found("For questions: tel. 37.123.45.67\n") == [("PHONE", "37.123.45.67")]
    assert _found("blocked IP 37.123.45.67 again") == [("IP_ADDRESS", "37.123.45.67")]


def test_the_number_after_a_spoken_address_in_a_list_of_contact_details_is_a_phone() -> None:
    text = "contact details: karinschmidt at toft dot biz / 15123456"
    assert _found(text) == [("EMAIL", "karinschmidt at toft dot biz"), ("PHONE", "15123456")]


def test_a_subjects_number_inside_a_longer_read_back_does_not_leave_the_rest_in_clear() -> None:
    from shared.pii import KnownSubject

    text = "conseiller : je répète, 0-9-6-1-2-3-4-5-6-7-8, c'est bien ça ? appelant : oui"
    found = default_engine().find(text, KnownSubject(phones=["+33 6 12 34 56 78"]))
    assert [text[e.start : e.end] for e in found] == ["0-9-6-1-2-3-4-5-6-7-8"]
