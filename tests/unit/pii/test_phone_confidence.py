"""Issue 20: two confidences for phone numbers.

A number the numbering plan validates is masked wherever it stands (and may become an identifier);
a phone-SHAPED number the plan rejects (fictional ranges, unassigned area codes, a typo) is masked
when the words around it say it is a phone number, or when it is written with ``+`` and a country
code, and never becomes an identifier. The same digits as an order number, a date or an amount
stay in clear.
"""

from __future__ import annotations

import pytest

from shared.pii import PHONE, Entity, default_engine, phone_identifier
from shared.pii.detectors import PhoneFinder
from shared.pii.engine import DEFAULT_REGIONS

_FINDER = PhoneFinder(DEFAULT_REGIONS)


def _phones(text: str) -> list[tuple[str, bool]]:
    return [(text[e.start : e.end], e.validated) for e in default_engine().find(text) if e.type == PHONE]


# Each case: the message and the phone number in it, which no default region's plan accepts.
SHAPED_IN_CONTEXT = [
    # North American national formats, area code 111 unassigned
    ("call me on (111) 555-0199", "(111) 555-0199"),
    ("Phone: 111-555-0123", "111-555-0123"),
    ("my number is 111.555.0123", "111.555.0123"),
    ("text me at 1115550123", "1115550123"),
    ("You can reach me tomorrow morning on 111 555 0123", "111 555 0123"),
    ("Tel. 111/555 0123", "111/555 0123"),
    ("landline: 111  555  0123", "111  555  0123"),  # double spaces
    ("mobile\u00a0111\u00a0555\u00a00123", "111\u00a0555\u00a00123"),  # non-breaking spaces
    ("my cell's 111-555-0123", "111-555-0123"),
    ("Phone #: 111-555-0123", "111-555-0123"),  # "#" after a phone word is no reference
    ("111-555-0123 is my mobile", "111-555-0123"),  # the cue after the number
    ("111 555 0123 (mobile)", "111 555 0123"),
    # international, with and without "+", grouped and parenthesised
    ("call me on +1 (111) 555-0199", "+1 (111) 555-0199"),
    ("please ring 001 111 555 0123", "001 111 555 0123"),
    ("my mobile is 0044 1632 960999", "0044 1632 960999"),
    ("call back on +49 0000 00000", "+49 0000 00000"),
    # the languages the contact centre serves
    ("rappelez-moi au 111 555 0123", "111 555 0123"),
    ("mein Handy: 111 555 0123", "111 555 0123"),
    ("meine Telefonnummer lautet 111 555 0123", "111 555 0123"),
    ("llámame al 111 555 0123", "111 555 0123"),
    ("il mio cellulare è 111 555 0123", "111 555 0123"),
    ("bel me op 111 555 0123", "111 555 0123"),
    ("o meu telemóvel é 111 555 0123", "111 555 0123"),
    # an agent reading it back
    ("Agent: let me read that back: 111-555-0123.", "111-555-0123"),
    ("Agent: just to confirm, 111 555 0123?", "111 555 0123"),
    # seven digits when given as the writer's own
    ("call me on 111-0134", "111-0134"),
    ("Tel: 111-0134", "111-0134"),  # or under a phone label
]


@pytest.mark.parametrize(("text", "number"), SHAPED_IN_CONTEXT)
def test_phone_shaped_number_in_a_phone_context_is_masked(text, number):
    assert not _FINDER.valid(number), "the case must be one the numbering plan rejects"
    assert _phones(text) == [(number, False)]
    assert number not in default_engine().redact(text)[0]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("+1 111 555 0123", "+1 111 555 0123"),
        ("+44 7700 900999", "+44 7700 900999"),
        ("+1 (111) 555-0199 anytime", "+1 (111) 555-0199"),
        ("Kontakt +49 0000 00000", "+49 0000 00000"),
    ],
)
def test_plus_and_country_code_need_no_context(text, number):
    assert _phones(text) == [(number, False)]


@pytest.mark.parametrize(
    "text",
    [
        "111 555 0123",  # no context, no "+": the plan says no, nothing else says yes
        "the reference 1115550123 is closed",
        "+1 555 0100",  # "+1" then seven digits: not how a North American number is written
        "the temperature rose by +12345678",
        "price +1.234.567",
        "+999 1234 5678",  # no country has the code 999
        "Call 111-0134 for the local branch",  # seven digits, an office's line
    ],
)
def test_without_context_or_country_code_nothing_is_masked(text):
    assert _phones(text) == []


# The same digits as the phone numbers above, as things that are not phone numbers.
@pytest.mark.parametrize(
    "text",
    [
        "call me about order 111-555-0123",
        "call me about order #11155501",
        "please call, the invoice is 1115550123",
        "Order 1115550123, call me",
        "call me re ticket 1115550123",
        "ring me about tracking number 1115550123",
        "my account number is 1115550123",
        "call me, my booking ref is 111 555 0123",
        "llámame sobre el pedido 111 555 0123",
        "rappelez-moi pour la commande 111 555 0123",
        "ruf mich wegen Rechnung 111 555 0123 an",
        "1115550123 is my order number",
        # dates, times, amounts, versions
        "call me on 15/03/2024",
        "call me on 15.03.2024 at 14:30",
        "call me at 14:30:15 on 2024-03-15",
        "call me about the $1,115,550 payment",
        "call me about the 1.115.550 € payment",
        "call me about the 1 115 550 EUR refund",
        "phone firmware version 1.11.555.0123",
        # postcodes, IBAN and card fragments
        "call me, zip 11155",
        "phone me, postcode 1115550",
        "call me, the IBAN ends 5501 2345 99",
        "call me, card ending 1111 2222 333",
    ],
)
def test_references_dates_amounts_and_fragments_stay_out(text):
    assert _phones(text) == []


def test_a_reference_word_nearer_than_the_phone_word_wins():
    assert _phones("call me about the invoice, it is 1115550123") == []
    assert _phones("invoice or call me on 111 555 0123") == [("111 555 0123", False)]


def test_the_numbering_plan_path_is_unchanged():
    text = "call +44 20 7946 0958"
    assert _phones(text) == [("+44 20 7946 0958", True)]


# --------------------------------------------------------------------------------------------
# Identity: only what the plan validates, in E.164
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("call me on +44 20 7946 0958", "+442079460958"),
        ("call me on 0044 20 7946 0958", "+442079460958"),
        ("call me on +44 (0)20 7946 0958", "+442079460958"),
        ("Phone: " + "".join(chr(ord(c) + 0xFEE0) if c != " " else c for c in "+44 20 7946 0958"), "+442079460958"),
    ],
)
def test_a_validated_international_number_becomes_an_e164_identifier(text, e164):
    [entity] = default_engine().find(text)
    assert entity.validated
    assert phone_identifier(text, entity) == e164


@pytest.mark.parametrize(
    "text",
    [
        "call me on +1 (111) 555-0199",
        "call me on +44 7700 900999",
        "call me on 0044 1632 960999",
        "my number is 111 555 0123",
    ],
)
def test_an_invalid_number_is_masked_but_never_an_identifier(text):
    [entity] = default_engine().find(text)
    assert (entity.type, entity.validated) == (PHONE, False)
    assert phone_identifier(text, entity) is None
    # Even a caller that forgets to check ``validated`` gets nothing: the plan is asked again.
    assert phone_identifier(text, Entity(PHONE, entity.start, entity.end)) is None


def test_a_national_number_is_no_identifier_its_region_would_be_a_guess():
    text = "call me on 020 7946 0958"
    [entity] = default_engine().find(text)
    assert entity.validated
    assert phone_identifier(text, entity) is None


def test_only_phone_findings_become_phone_identifiers():
    text = "mail jane@example.com"
    [entity] = default_engine().find(text)
    assert phone_identifier(text, entity) is None
