"""The phone context: what the words around a number say it is (shared/pii/context.py)."""

from __future__ import annotations

import pytest

from shared.pii import context


def _at(text: str, number: str = "1115550123") -> tuple[int, int]:
    start = text.index(number)
    return start, start + len(number)


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("call me on 1115550123", "strong"),
        ("my number is 1115550123", "strong"),
        ("my cell's 1115550123", "strong"),
        ("rappelez-moi au 1115550123", "strong"),
        ("llámame al 1115550123", "strong"),
        ("mein Handy ist 1115550123", "strong"),
        ("Phone: 1115550123", "strong"),  # a label
        ("Tel. 1115550123", "strong"),
        ("Number: 1115550123", "phone"),  # a bare label
        ("phone #: 1115550123", "phone"),
        ("Call 1115550123 for the branch", "phone"),
        ("order 1115550123", "reference"),
        ("order number 1115550123", "reference"),
        ("# 1115550123", "reference"),
        ("call me about order 1115550123", "reference"),  # the nearer word wins
        ("n° de commande 1115550123", "reference"),
        ("account number 1115550123", "none"),  # a number word that is nobody's phone
        ("I counted 1115550123", "none"),
        ("1115550123", "none"),
        ("below 1115550123", "none"),  # "bel" (Dutch) is a whole word, not a prefix
        ("area code 1115550123", "phone"),  # a phone number's own code, not a reference
        ("my area code is 1115550123", "strong"),
        ("zip code 1115550123", "reference"),
        ("Vorwahl 1115550123", "phone"),
    ],
)
def test_words_before(text, verdict):
    assert context.phone_context_before(text, _at(text)[0]) == verdict


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("1115550123 is my number", "strong"),
        ("1115550123 ist meine Nummer", "strong"),
        ("1115550123 (mobile)", "strong"),
        ("1115550123, call anytime", "phone"),
        ("1115550123 is my order number", "none"),
        ("1115550123 was the booking", "none"),
        ("1115550123", "none"),
    ],
)
def test_words_after(text, verdict):
    assert context.phone_context_after(text, _at(text)[1]) == verdict


def test_words_before_take_precedence():
    text = "order 1115550123 is my number"
    assert context.phone_context(text, *_at(text)) == "reference"
    text = "see 1115550123 is my number"
    assert context.phone_context(text, *_at(text)) == "strong"


def test_words_after_read_words_only():
    assert context.words_after("1 is my, (mobile) 2 x", 1) == ["is", "my", "mobile"]
    assert context.words_after("", 0) == []
