"""Each detector through the engine: positives with exact spans, hard negatives with none."""

import itertools

import pytest

from shared.pii import PiiEngine, default_engine

POSITIVES = [
    # (text, type, the exact span text)
    ("my email is jane.doe@example.com.", "EMAIL", "jane.doe@example.com"),
    ("Mail: J.Smith+news@mail.example.co.uk, thanks", "EMAIL", "J.Smith+news@mail.example.co.uk"),
    ("<zoe@example.org>", "EMAIL", "zoe@example.org"),
    ("my email is jane dot doe at gmail dot com", "EMAIL", "jane dot doe at gmail dot com"),
    ("write to jane.doe(at)example(dot)com", "EMAIL", "jane.doe(at)example(dot)com"),
    ("mi correo es ana punto lopez arroba gmail punto com", "EMAIL", "ana punto lopez arroba gmail punto com"),
    ("call +44 20 7946 0958 now", "PHONE", "+44 20 7946 0958"),
    ("ring 0161 496 0000", "PHONE", "0161 496 0000"),
    ("or +33 (0)6 12 34 56 78", "PHONE", "+33 (0)6 12 34 56 78"),
    ("mobile 06.12.34.56.78", "PHONE", "06.12.34.56.78"),
    ("US office (202) 555-0143", "PHONE", "(202) 555-0143"),
    ("Büro 030/12345678", "PHONE", "030/12345678"),
    ("Handy 0151 23456789", "PHONE", "0151 23456789"),
    ("Mi número es 612 34 56 78", "PHONE", "612 34 56 78"),
    ("tel:+4930123456", "PHONE", "+4930123456"),
    ("0049 30 123456 please", "PHONE", "0049 30 123456"),
    ("WhatsApp +91 98765 43210", "PHONE", "+91 98765 43210"),
    ("+55 11 91234-5678 is mine", "PHONE", "+55 11 91234-5678"),
    ("llámeme al 612345678", "PHONE", "612345678"),
    ("it's 0 7 9 1 1 1 2 3 4 5 6", "PHONE", "0 7 9 1 1 1 2 3 4 5 6"),
    ("+44 07911 123456", "PHONE", "+44 07911 123456"),
    ("card 4111 1111 1111 1111, exp 04/27", "CREDIT_CARD", "4111 1111 1111 1111"),
    ("card 4111-1111-1111-1111", "CREDIT_CARD", "4111-1111-1111-1111"),
    ("amex 3782 822463 10005", "CREDIT_CARD", "3782 822463 10005"),
    ("it's 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 ok", "CREDIT_CARD", "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"),
    ("5555555555554444", "CREDIT_CARD", "5555555555554444"),
    ("IBAN GB82 WEST 1234 5698 7654 32 please", "IBAN", "GB82 WEST 1234 5698 7654 32"),
    ("iban de89370400440532013000.", "IBAN", "de89370400440532013000"),
    ("from 203.0.113.195:8080", "IP_ADDRESS", "203.0.113.195"),
    ("subnet 10.0.0.0/8", "IP_ADDRESS", "10.0.0.0"),
    ("update from 10.0.0.1 failed", "IP_ADDRESS", "10.0.0.1"),
    ("v6 2001:db8::8a2e:370:7334 ok", "IP_ADDRESS", "2001:db8::8a2e:370:7334"),
    ("[fe80::1%eth0]:443", "IP_ADDRESS", "fe80::1%eth0"),
    ("SSN 078-05-1120", "US_SSN", "078-05-1120"),
    ("my social is 219 09 9999", "US_SSN", "219 09 9999"),
    ("social security number: 219099999", "US_SSN", "219099999"),
    ("SSN#123-45-6789", "US_SSN", "123-45-6789"),
]


@pytest.mark.parametrize(("text", "kind", "span"), POSITIVES)
def test_positive(text, kind, span):
    entities = default_engine().find(text)
    found = [(e.type, text[e.start : e.end]) for e in entities]
    assert (kind, span) in found, found


HARD_NEGATIVES = [
    "order #100234567 has shipped",
    "Your order number is 100234567",
    "Bestellnummer: 4711223344",
    "commande n° 2024-55812",
    "placed on 2024-03-15 at 14:30:00",
    "due 15/03/2024 or 03/15/2024 or 15.03.2024",
    "at 14:30:00.123",
    "running v2.10.3",
    "version 1.2.3.4 is out",
    "upgraded to 4.2.0.1",
    "the version is 1.2.3.4",
    "firmware 10.4.12.1234",
    "total €1,234.56",
    "amount $ 12 345 678",
    "1.234,56 EUR",
    "12 345 678 €",
    "card 4111 1111 1111 1112 was declined",
    "random 1234 5678 9012 3456",
    "tracking 9400 1000 0000 0000 0000 00",
    "Tracking 1Z999AA10123456784",
    "parcel AB123456789GB",
    "IBAN DE89 3704 0044 0532 0130 01 is wrong",
    "SSN 000-12-3456 or 666-12-3456 or 912-12-3456",
    "call 555-1234",
    "ext 4521",
    "PIN 1234",
    "logo@2x.png",
    "I bought it at amazon.com",
    "MAC 00:1A:2B:3C:4D:5E",
    "std::vector<int>",
    "Request id 550e8400-e29b-41d4-a716-446655440000",
    "Barcode 4006381333931",
    "ISBN 978-3-16-148410-0",
    "session=2023-45988",
    "Transaction 48213377112 settled",
    "room 511-4856",
]


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_hard_negative(text):
    assert default_engine().find(text) == []


def test_offsets_index_the_input():
    text = "Zoë: zoë@example.com, +44 20 7946 0958 — IBAN GB82WEST12345698765432"
    entities = default_engine().find(text)
    assert [(e.type, text[e.start : e.end]) for e in entities] == [
        ("EMAIL", "zoë@example.com"),
        ("PHONE", "+44 20 7946 0958"),
        ("IBAN", "GB82WEST12345698765432"),
    ]


def test_results_are_sorted_and_do_not_overlap():
    text = "4111 1111 1111 1111 0161 496 0000 jane@example.com 10.0.0.1 123-45-6789"
    entities = default_engine().find(text)
    assert [e.type for e in entities] == ["CREDIT_CARD", "PHONE", "EMAIL", "IP_ADDRESS", "US_SSN"]
    for a, b in itertools.pairwise(entities):
        assert a.end <= b.start


def test_two_numbers_run_together_are_split():
    text = "numbers 0161 496 0000 / 020 7946 0958"
    spans = [text[e.start : e.end] for e in default_engine().find(text)]
    assert spans == ["0161 496 0000", "020 7946 0958"]


def test_phone_regions_are_configurable():
    text = "Rufen Sie 030 12345678 an"
    # Masked either way (a phone word stands before it); validated, so an identifier, only in DE.
    assert [(e.type, e.validated) for e in PiiEngine(default_regions=("US",)).find(text)] == [("PHONE", False)]
    assert [(e.type, e.validated) for e in PiiEngine(default_regions=("DE",)).find(text)] == [("PHONE", True)]


def test_empty_and_plain_text():
    assert default_engine().find("") == []
    assert default_engine().find("Thanks, have a lovely day!") == []


@pytest.mark.parametrize(
    ("text", "card"),
    [
        ("card 4111 1111 1111 1111 04/27", "4111 1111 1111 1111"),  # the expiry runs into the number
        ("Visa 4242 4242 4242 4242 12 thanks", "4242 4242 4242 4242"),
        ("amex 3782 822463 10005 12/26", "3782 822463 10005"),
    ],
)
def test_card_followed_by_a_short_number_is_still_found(text, card):
    # The run "4111 1111 1111 1111 04" is card-shaped (4-4-4-4-2) but no card; the card inside it is.
    found = [(e.type, text[e.start : e.end]) for e in default_engine().find(text)]
    assert ("CREDIT_CARD", card) in found


def test_mistyped_card_followed_by_a_short_number_is_still_nobodys_phone():
    assert default_engine().find("card 4111 1111 1111 1112 04/27") == []


def test_phone_number_then_card_number_on_one_line_are_both_found():
    # 27 digits in one run: the card candidate used to stop at 25 digits, inside the card.
    text = "call 0161 496 0000 4111 1111 1111 1111"
    assert _found_types(text) == [("PHONE", "0161 496 0000"), ("CREDIT_CARD", "4111 1111 1111 1111")]


def _found_types(text):
    return [(e.type, text[e.start : e.end]) for e in default_engine().find(text)]


@pytest.mark.parametrize(("first", "second"), [
    ("4111 1111 1111 1111", "5500 0000 0000 0004"),
    ("3782 822463 10005", "4242 4242 4242 4242"),
])
def test_two_cards_written_one_after_the_other_are_both_found(first, second):
    """One digit run holding two cards: finding the first must not swallow the start of the second."""
    text = f"cards {first} {second} thanks"
    found = [(e.type, text[e.start : e.end]) for e in default_engine().find(text)]
    assert found == [("CREDIT_CARD", first), ("CREDIT_CARD", second)]
