"""Issue 20: the forms real transcripts take, for every type.

Full-width digits and odd spaces, values glued to Japanese or Chinese text, obfuscated addresses,
and speech-to-text output where digits are words ("oh seven seven double oh ...") in the languages
the contact centre serves. The engine reads a normalised copy and masks the original characters.
"""

from __future__ import annotations

import pytest

from shared.pii import default_engine
from shared.pii.normalise import matching_copy
from shared.pii.spoken import find_spoken_numbers, may_hold_spoken_number


def _wide(text: str) -> str:
    """``text`` in full-width forms, as a Japanese input method types it (U+3000 for a space)."""
    return "".join("\u3000" if char == " " else chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in text)


def _found(text: str) -> list[tuple[str, str]]:
    return [(e.type, text[e.start : e.end]) for e in default_engine().find(text)]


# --------------------------------------------------------------------------------------------
# The matching copy
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "copy"),
    [
        ("\uff10\uff17\uff17\uff10\uff10 \uff19\uff10\uff10\uff11\uff12\uff13", "07700 900123"),  # full-width digits
        ("jane\uff20example\uff0ecom", "jane@example.com"),
        ("a\u00a0b\u2009c\u202fd\u3000e\u200bf", "a b c d e f"),  # the spaces people's tools insert
        ("0161\u2011496\u20130000", "0161-496-0000"),  # non-breaking hyphen, en dash
        ("\u0660\u0661\u0662\u0663", "0123"),  # Arabic-Indic digits
        ("電話番号は090-1234-5678です", "φ    090-1234-5678  "),
        ("メールはjane@example.comです", "\u2709   jane@example.com  "),  # "e-mail" becomes the address cue
        ("Zoë écrit à zoë@example.fr", "Zoë écrit à zoë@example.fr"),  # nothing to change
        ("plain ascii", "plain ascii"),
    ],
)
def test_matching_copy(text, copy):
    assert matching_copy(text) == copy
    assert len(matching_copy(text)) == len(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_wide("TEL:") + " " + _wide("020 7946 0958"), [("PHONE", _wide("020 7946 0958"))]),
        ("mail: " + _wide("jane@example.com"), [("EMAIL", _wide("jane@example.com"))]),
        ("カード" + _wide("4111 1111 1111 1111") + "です", [("CREDIT_CARD", _wide("4111 1111 1111 1111"))]),
        ("電話番号は090-1234-5678です", [("PHONE", "090-1234-5678")]),
        ("携帯09012345678までお願いします", [("PHONE", "09012345678")]),
        ("我的电话是+86 138 0013 8000谢谢", [("PHONE", "+86 138 0013 8000")]),
        ("メールはjane@example.comです", [("EMAIL", "jane@example.com")]),
        ("口座はGB82WEST12345698765432です", [("IBAN", "GB82WEST12345698765432")]),
        ("SSN\u00a0078\u00a005\u00a01120", [("US_SSN", "078\u00a005\u00a01120")]),
        ("card 4111.1111.1111.1111", [("CREDIT_CARD", "4111.1111.1111.1111")]),
        ("SSN 078.05.1120", [("US_SSN", "078.05.1120")]),
        ("version 078.05.1120", []),  # dotted nine digits are an SSN only after "SSN"
        ("tel 020/7946/0958", [("PHONE", "020/7946/0958")]),
    ],
)
def test_unusual_characters_and_glued_values_are_masked_in_the_original(text, expected):
    assert _found(text) == expected


def test_glued_numbers_that_are_not_personal_data_stay_out():
    assert _found("注文番号は2024-03-15に発送") == []  # a date
    assert _found("合計は¥12,345,678です") == []  # an amount


# --------------------------------------------------------------------------------------------
# Obfuscated email addresses
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "email me at jane [at] example [dot] com",
        "jane(at)example(dot)com",
        "jane {at} example {dot} com",
        "jane<at>example<dot>com",
        "jane [@] example.com",
        "jane(@)example.com",
        "jane-doe [at] example [.] com",
        "my email is jane at example dot com",
        "my email is jane dot doe at example dot co dot uk",
        "mail: jane AT example DOT com",
        "mi correo es jane arroba example punto com",
        "jane @ example . com",
        "email is j a n e at example dot com",  # spelled letter by letter
        "my email: j a n e dot d o e at e x a m p l e dot com",
        # an agent reading it back: a local part no sentence has needs no "email" in the clause
        "Agent: so that's jane dot doe at example dot com",
        "Agent: so that is j a n e at example dot com",
        "Agent: to confirm: jane at example dot com",
    ],
)
def test_obfuscated_addresses_are_masked(text):
    assert [kind for kind, _ in _found(text)] == ["EMAIL"]
    redacted = default_engine().redact(text)[0]
    assert redacted.endswith("<EMAIL>")
    assert not any(part in redacted for part in ("jane", "j a n e", "example", "e x a m", "d o e"))


@pytest.mark.parametrize(
    "text",
    [
        "I bought it at amazon dot com",
        "meet me (at) noon",
        "x <at> y",
        "the grades were a b c at the school dot com",
        "she works at example dot com",
    ],
)
def test_ordinary_text_with_at_and_dot_is_no_address(text):
    assert _found(text) == []


# --------------------------------------------------------------------------------------------
# Spoken digits
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "digits", "plus"),
    [
        ("oh seven seven double oh nine double four one two three", "07700944123", False),
        ("plus four four seven seven double oh nine oh oh one two three", "447700900123", True),
        ("triple five, oh one, double nine", "5550199", False),
        ("one eight hundred five five five oh one nine nine", "18005550199", False),
        ("twenty-one thirty-four fifty-six seventy-eight", "21345678", False),
        ("zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit", "0612345678", False),
        ("quatre-vingt-dix-neuf quatre-vingts soixante et onze dix-sept", "99807117", False),
        ("null eins sieben eins, einundzwanzig, dreiundvierzig, fünf sechs", "0171214356", False),
        ("seis doce treinta y cuatro cincuenta y seis setenta y ocho", "612345678", False),
        ("tre quattro sette, ventuno, trentadue, cinque", "3472132" + "5", False),
        ("nul zes een twee drie vier vijf zes zeven acht", "0612345678", False),
        ("nove um um, dois três, quatro cinco, seis sete", "911234567", False),
        ("oh seven 7 double oh, 900 one two three", "07700900123", False),  # words and digits mixed
        ("one one one dash five five five dash oh one two three", "1115550123", False),  # "dash" said
    ],
)
def test_spoken_numbers_become_digits(text, digits, plus):
    assert may_hold_spoken_number(text.lower())
    [number] = find_spoken_numbers(text)
    assert (number.digits, number.plus) == (digits, plus)
    assert (number.start, number.end) == (0, len(text))


@pytest.mark.parametrize(
    "text",
    [
        "I have one or two questions about three things",
        "one of the two parcels arrived, the other one did not",
        "the 3 of us and 2 kids",
    ],
)
def test_ordinary_counting_is_no_spoken_number(text):
    assert find_spoken_numbers(text) == []
    assert _found(text) == []


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("my card is four one one one, one one one one, one one one one, one one one one",
         "CREDIT_CARD", "four one one one, one one one one, one one one one, one one one one"),
        ("card four one one one one one one one one one one one one one one one expiry oh four two seven",
         "CREDIT_CARD", "four one one one one one one one one one one one one one one one"),
        ("the number on the card is four one one one, one one one one, one one one one, one one one one, oh four two seven",
         "CREDIT_CARD", "four one one one, one one one one, one one one one, one one one one"),
        ("my social security number is oh seven eight, oh five, one one two oh", "US_SSN",
         "oh seven eight, oh five, one one two oh"),
        ("SSN: zero seven eight zero five one one two zero", "US_SSN", "zero seven eight zero five one one two zero"),
        ("my number is oh two oh, seven nine four six, oh nine five eight", "PHONE",
         "oh two oh, seven nine four six, oh nine five eight"),
        ("call me on one one one, five five five, oh one two three", "PHONE", "one one one, five five five, oh one two three"),
        ("plus one, one one one, five five five, oh one two three", "PHONE",
         "plus one, one one one, five five five, oh one two three"),
        ("mon numéro c'est zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit", "PHONE",
         "zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit"),
        ("meine Nummer ist null drei null, eins zwei drei vier fünf sechs sieben", "PHONE",
         "null drei null, eins zwei drei vier fünf sechs sieben"),
        ("llámame al seis doce treinta y cuatro cincuenta y seis setenta y ocho", "PHONE",
         "seis doce treinta y cuatro cincuenta y seis setenta y ocho"),
    ],
)
def test_spoken_cards_ssns_and_phones_are_masked(text, kind, value):
    assert _found(text) == [(kind, value)]


@pytest.mark.parametrize(
    "text",
    [
        "my order number is one two three four five six seven eight",
        "the ticket is four one one one, one one one one, one one one one, one one one one",
        "the code is one two three four five six seven eight nine",
        "I counted one two three four five six seven eight nine sheep",  # no SSN words, no phone words
        "four one one one, one one one one, one one one one, one one one two",  # fails the Luhn check
    ],
)
def test_spoken_references_and_non_numbers_stay_out(text):
    assert _found(text) == []


def test_a_spoken_phone_number_the_plan_rejects_is_never_an_identifier():
    text = "call me on one one one, five five five, oh one two three"
    [entity] = default_engine().find(text)
    assert not entity.validated


def test_a_spoken_number_the_plan_accepts_is_validated():
    text = "plus four four, two oh, seven nine four six, oh nine five eight"
    [entity] = default_engine().find(text)
    assert (entity.type, entity.validated) == ("PHONE", True)


@pytest.mark.parametrize(
    ("text", "phones"),
    [
        ("Tel.0612345678", ["0612345678"]),  # glued to its label by the label's dot
        ("Mob.+44 20 7946 0958", ["+44 20 7946 0958"]),
        ("file.0612345678", []),  # glued to some other word: part of a name
        ("1.0612345678", []),  # a decimal
    ],
)
def test_a_number_glued_to_a_label_by_a_dot(text, phones):
    assert [value for kind, value in _found(text) if kind == "PHONE"] == phones
