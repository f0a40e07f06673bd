"""Issue 20: values read back and dictated with pauses, and the card formats still in circulation.

An agent confirming a number reads it one digit at a time ("4, 2, 2, 2, ..."); speech-to-text writes
a caller's pauses as an ellipsis ("four one ... seven seven"); a caller's address is read back with
"so that's ..."; old 13-digit Visa, 15-digit JCB and 12-digit Maestro numbers are still quoted.
Each must be masked, and the look-alikes (product barcodes, the tail of a mistyped card, a plain
"at ... dot com" in a sentence) must not.
"""

from __future__ import annotations

import pytest

from shared.pii import default_engine


def _found(text: str) -> list[tuple[str, str]]:
    return [(e.type, text[e.start : e.end]) for e in default_engine().find(text)]


# --------------------------------------------------------------------------------------------
# Pauses written as an ellipsis
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("caller: my social security number is one two three ... four five ... six seven eight nine",
         "one two three ... four five ... six seven eight nine", "US_SSN"),
        ("caller: the card is four one one one ... one one one one ... one one one one ... one one one one",
         "four one one one ... one one one one ... one one one one ... one one one one", "CREDIT_CARD"),
        ("caller: you can call me on plus four four … seven seven double oh … nine double oh … one two three",
         "plus four four … seven seven double oh … nine double oh … one two three", "PHONE"),
        ("Anrufer: meine Nummer ist null eins fünf eins ... zwei drei vier ... fünf sechs sieben acht",
         "null eins fünf eins ... zwei drei vier ... fünf sechs sieben acht", "PHONE"),
    ],
)
def test_a_number_dictated_with_pauses_is_one_number(text: str, value: str, kind: str) -> None:
    assert _found(text) == [(kind, value)]


def test_number_words_in_separate_sentences_stay_apart() -> None:
    # Two short counts in separate sentences are not one seven-digit phone number.
    assert _found("We have two three-seat sofas. Then four five six chairs, call me about it.") == []


# --------------------------------------------------------------------------------------------
# Read back one digit at a time
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    ["1 2 3 4 5 6 7 8 9", "1-2-3-4-5-6-7-8-9", "1 - 2 - 3 - 4 - 5 - 6 - 7 - 8 - 9", "1, 2, 3, 4, 5, 6, 7, 8, 9"],
)
def test_an_ssn_read_back_digit_by_digit_is_an_ssn_not_a_phone(number: str) -> None:
    assert _found(f"agent: the social security number we have on file is {number}, correct?") == [("US_SSN", number)]


def test_nine_digits_read_back_without_an_ssn_word_are_not_an_ssn() -> None:
    assert all(kind != "US_SSN" for kind, _ in _found("agent: the booking we have is 1 2 3 4 5 6 7 8 9, correct?"))


def test_a_card_read_back_with_commas_is_a_card() -> None:
    number = ", ".join("4111111111111111")
    assert _found(f"agent: and the card, {number}? caller: yes") == [("CREDIT_CARD", number)]


# --------------------------------------------------------------------------------------------
# Card formats still in circulation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "4222222222222",  # Visa's published 13-digit test number
        "4222 2222 2222 2",
        "180000000000002",  # JCB's 15-digit range issued through partners (1800...)
        "2131 0000 0000 001",
        "2131 000000 00001",
        "5018 0000 0009",  # Maestro, 12 digits, grouped 4-4-4
    ],
)
def test_card_formats_still_in_circulation_are_cards(number: str) -> None:
    assert _found(f"I paid with my card {number} yesterday") == [("CREDIT_CARD", number)]


def test_a_product_barcode_is_not_a_13_digit_visa() -> None:
    # Luhn-valid and starting with 4 like a 13-digit Visa, but its EAN-13 check digit holds.
    assert _found("Barcode 4000000000006 on the box") == []


def test_the_tail_of_a_mistyped_card_is_not_a_12_digit_maestro() -> None:
    assert all(kind != "CREDIT_CARD" for kind, _ in _found("the card 4653 5018 0000 0009 is declined"))


# --------------------------------------------------------------------------------------------
# Addresses read back
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("agent: so that's jdoe at example dot com? caller: yes", "jdoe at example dot com"),
        ("caller: my email is olena at ukrnet dot ua", "olena at ukrnet dot ua"),  # any country's domain
        ("caller: write to minjun at naver dot co dot kr", "minjun at naver dot co dot kr"),
    ],
)
def test_an_address_read_back_or_dictated_is_an_email(text: str, value: str) -> None:
    assert _found(text) == [("EMAIL", value)]


@pytest.mark.parametrize(
    "text",
    ["I bought it at amazon dot com yesterday", "that's the one I saw at work dot com"],
)
def test_at_and_dot_in_a_sentence_are_not_an_address(text: str) -> None:
    assert _found(text) == []


# --------------------------------------------------------------------------------------------
# Phone numbers read back, and glued to Chinese text
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("agent: let me read that back, 0, 7, 7, 0, 0, 9, 0, 0, 1, 2, 3, is that right?", "0, 7, 7, 0, 0, 9, 0, 0, 1, 2, 3"),
        # Numbers no default region's plan accepts: only the read-back makes them a phone number.
        ("conseiller : je répète, 2-2-0-1-5-3-4-9, c'est bien ça ?", "2-2-0-1-5-3-4-9"),
        ("agente: le repito, 2 2 1 2 3 4 5 6, ¿correcto?", "2 2 1 2 3 4 5 6"),
    ],
)
def test_a_phone_number_read_back_digit_by_digit_is_masked(text: str, value: str) -> None:
    assert _found(text) == [("PHONE", value)]


def test_digits_listed_with_commas_outside_a_phone_context_are_not_a_phone() -> None:
    assert _found("we sold 1, 2, 3, 4, 5, 6, 7, 8 units this week") == []


def test_a_number_glued_before_a_chinese_word_for_contact_is_masked() -> None:
    # "Please dial +86 131 2345 6789 to contact me", typed without spaces on a Chinese keyboard.
    text = "请拨打\uff0b\uff18\uff16\uff11\uff13\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19联系我"
    assert _found(text) == [("PHONE", text[3:17])]


def test_a_service_request_number_is_a_reference() -> None:
    assert _found("your service request is SR 0807 4720, call us if anything changes") == []


# --------------------------------------------------------------------------------------------
# Phone numbers abroad, order numbers in Chinese/Japanese, a number confirmed as still current
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("please update my number to +55 800 62 3456, thanks", "+55 800 62 3456"),  # Brazil, 3-2-4 like an SSN
        ("you can reach my husband on 0055 500 12 3456", "0055 500 12 3456"),
    ],
)
def test_ssn_shaped_digits_after_a_country_code_are_a_phone_number(text: str, value: str) -> None:
    assert _found(text) == [("PHONE", value)]


@pytest.mark.parametrize(
    "text",
    [
        "订单号402-8765432-1098，金额£63.68",  # Chinese: "order number ..., amount ..."  # noqa: RUF001
        "注文番号250-1234567-8901は発送済みです",  # Japanese: "order number ... has shipped"
        "追跡番号1234 5678 9012を確認してください",  # Japanese: "please check tracking number ..."
    ],
)
def test_an_order_number_glued_to_chinese_or_japanese_is_not_a_phone(text: str) -> None:
    assert _found(text) == []


def test_a_number_on_file_confirmed_as_the_best_number_is_a_phone() -> None:
    text = "agent: I have 61234567 on file, is that still the best number to reach you?"
    assert _found(text) == [("PHONE", "61234567")]


def test_a_12_digit_maestro_said_whole_is_a_card() -> None:
    text = "caller: the long number on the card is five oh one eight ... oh oh oh oh ... oh oh oh nine"
    assert _found(text) == [("CREDIT_CARD", "five oh one eight ... oh oh oh oh ... oh oh oh nine")]


# --------------------------------------------------------------------------------------------
# Phone contexts people write, and a postcode that looks like a number
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("hey, the best number to get me is 1234 567 890", "1234 567 890"),
        ("I tried ringing you from (31) 98 76 54 but nobody answered", "(31) 98 76 54"),
        ("Puede contactarme en (555) 0123 cuando quiera", "(555) 0123"),  # "you can contact me on"
        ("whatsapp me: 5555 0123", "5555 0123"),
        ("landline 1234.567.890, thanks", "1234.567.890"),
    ],
)
def test_a_number_given_as_the_writers_own_line_is_masked(text: str, value: str) -> None:
    assert _found(text) == [("PHONE", value)]


def test_digits_grouped_from_four_without_a_phone_context_stay_an_account() -> None:
    assert _found("account 2105 6548 11 is closed") == []


@pytest.mark.parametrize(
    "text",
    ["Ship to 1 Main St, San Francisco, CA 61794-3153", "Calle Reforma 12, Querétaro, QRO 61794-3153"],
)
def test_a_zip_plus_four_after_its_state_is_a_postcode_not_a_phone(text: str) -> None:
    assert _found(text) == []


# --------------------------------------------------------------------------------------------
# A card whose issuer range our table does not list
# --------------------------------------------------------------------------------------------

# Luhn-valid, 16 digits, starting 3509: no range in the engine's issuer table.
_UNLISTED = "3509123456789015"


@pytest.mark.parametrize(
    "written",
    [" - ".join(_UNLISTED), " ".join(_UNLISTED), "3509 1234 5678 9015"],
)
def test_a_luhn_valid_number_said_to_be_a_card_is_a_card_whatever_its_issuer(written: str) -> None:
    assert _found(f"agent: and the card, {written}? caller: yes") == [("CREDIT_CARD", written)]


def test_a_spoken_number_said_to_be_a_card_is_a_card_whatever_its_issuer() -> None:
    said = "three five zero nine ... one two three four ... five six seven eight ... nine zero one five"
    assert _found(f"caller: my card number is {said}") == [("CREDIT_CARD", said)]


@pytest.mark.parametrize(
    "text",
    [f"the gift card {_UNLISTED} has no balance", "loyalty card 3509 1234 5678 9015 added", "card 3509 1234 5678 9016"],
)
def test_gift_cards_and_numbers_failing_luhn_are_not_cards(text: str) -> None:
    assert all(kind != "CREDIT_CARD" for kind, _ in _found(text))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # Numbers no default region's plan accepts: only the words make them a phone number.
        ("if I'm out, my husband is on 81 23 45 67", "81 23 45 67"),
        ("she's on 59 87 65 43 after six", "59 87 65 43"),
        ("I'm on 2299 8877 all day", "2299 8877"),
    ],
)
def test_someone_being_on_a_number_is_a_phone_context(text: str, value: str) -> None:
    assert _found(text) == [("PHONE", value)]


def test_a_date_after_is_on_stays_a_date() -> None:
    assert _found("the meeting is on 12.03.2025 at 10:30") == []


def test_a_spanish_speaker_saying_mas_for_plus_gives_an_international_number() -> None:
    said = "más tres cuatro ... seis uno dos ... tres cuatro cinco ... seis siete ocho"  # +34 612 345 678
    assert _found(f"cliente: mi número es {said}") == [("PHONE", said)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("邮箱：wangfang at example dot cn", "wangfang at example dot cn"),  # Chinese "mailbox:"  # noqa: RUF001
        ("メールはtaro at example dot jpです", "taro at example dot jp"),  # Japanese "my e-mail is ..."
    ],
)
def test_an_address_spelled_out_after_a_chinese_or_japanese_word_for_email_is_an_email(text: str, value: str) -> None:
    assert _found(text) == [("EMAIL", value)]


def test_at_and_dot_after_other_chinese_words_are_not_an_address() -> None:
    assert _found("我在北京 at home dot cn") == []  # "I am in Beijing"
