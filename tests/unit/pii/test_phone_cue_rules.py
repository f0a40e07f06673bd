"""Phone and card rules for the forms contact-centre transcripts take (issue 20, second pass).

Each positive case is a number the numbering plan rejects (or a card outside the issuer table),
masked because of the words around it; each negative case puts the same digits where they are
an order number, an amount or a reference, and they stay in clear.
"""

from __future__ import annotations

import pytest

from shared.pii import CREDIT_CARD, PHONE, default_engine, phone_identifier


def _found(text: str) -> list[tuple[str, str]]:
    return [(e.type, text[e.start : e.end]) for e in default_engine().find(text)]


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        # "is on": the line a person answers, whoever the person is.
        ("if I'm out, my partner Andrea is on 730.1234", "730.1234"),
        ("my husband is on 4446444", "4446444"),
        ("she's on 1800.12.3452", "1800.12.3452"),
        # The next item of a list of contact details, after an email address.
        ("contact details: jane(at)example.net / 8012 3456", "8012 3456"),
        ("Contact: jane@example.com; 3123955452", "3123955452"),
        # "contact number", "the best number": a person's line.
        ("please update my contact number to 2351234.", "2351234"),
        ("agent: I have 2202.3456 on file, is that still the best number?", "2202.3456"),
        ("agent: I have 247/1233 on file, is that still the best number?", "247/1233"),
        # An agent reading back, a caller dictating: the caller's own number.
        ("agente: le repito, 2 - 1 - 1 - 2 - 3 - 4 - 5, ¿correcto?", "2 - 1 - 1 - 2 - 3 - 4 - 5"),
        ("cliente: apunte, dos cero cero uno dos tres cuatro", "dos cero cero uno dos tres cuatro"),
        ("notez : sept trois zéro un deux trois quatre", "sept trois zéro un deux trois quatre"),
        # German formal "Sie" between the verb and the number.
        ("Rufen Sie mich bitte unter (0860) 12 345 60 89 zurück", "(0860) 12 345 60 89"),
        # The exit code 00 is not one of the number's at most 15 digits.
        ("can you text me at 0091 1866 123 456 789 when it ships?", "0091 1866 123 456 789"),
        # A country code followed by a double space is not a number of its own.
        ("call me on +82  99-1234-5678 please", "+82  99-1234-5678"),
        # Card-shaped, failing the card checks, but read back where a phone number is.
        ("agent: let me read that back, 7 9 6 1 1 2 3 4 5 6 7 8 9, is that correct?", "7 9 6 1 1 2 3 4 5 6 7 8 9"),
        ("agent: I have 7861123456789 on file, is that still the best number?", "7861123456789"),
        # Short numbers said as words after "my number is", "call me back on".
        ("caller: yeah my number is two double one, two three", "two double one, two three"),
        ("caller: call me back on two two, nine two, three four please", "two two, nine two, three four"),
        # A caller's turn that is nothing but a dictated number.
        ("appelant : alors c'est sept zéro sept ... deux deux trois ... quatre cinq six",
         "sept zéro sept ... deux deux trois ... quatre cinq six"),
        ("cliente: pues es tres ocho cero cuatro dos tres cuatro", "tres ocho cero cuatro dos tres cuatro"),
        # After "+" and a country code, "21.12.34" is the rest of the number (New Caledonia), not a date.
        ("caller: call me back on +687 21.12.34 please", "+687 21.12.34"),
    ],
)
def test_phone_in_context_is_masked_and_never_an_identifier(text: str, phone: str) -> None:
    entities = [e for e in default_engine().find(text) if e.type == PHONE]
    assert [text[e.start : e.end] for e in entities] == [phone]
    assert all(phone_identifier(text, e) is None for e in entities)


@pytest.mark.parametrize(
    "text",
    [
        "my order is on 730.1234",
        "the parcel is on 4446444 in the tracker",
        "Order: jane@example.com; 3123955452",
        "invoice total 2351234.",
        "apunte, pedido dos cero cero uno dos tres cuatro",
        "caller: my order number is two double one, two three",
        "caller: order one two three four five six seven eight",
        "caller: so it's one two three four five",
        "tracking 0091 1866 123 456 789",
        "paid 7861123456789 EUR on 2024-03-15",
        "card number 4111 1111 1111 1112 please",  # a mistyped card is not a phone number
    ],
)
def test_the_same_digits_as_a_reference_or_amount_stay_in_clear(text: str) -> None:
    assert [kind for kind, _ in _found(text) if kind == PHONE] == []


@pytest.mark.parametrize(
    ("text", "card"),
    [
        # InstaPayment (637-639, 16 digits).
        ("paid with 6390 1237 7777 7777 yesterday", "6390 1237 7777 7777"),
        # Outside the issuer table, but its expiry follows, or it is "the long number on the front".
        ("the card: 0604 1237 7777 7772 and it expires next year", "0604 1237 7777 7772"),
        ("it's 3507 1237 7777 7774, expiry 04/27", "3507 1237 7777 7774"),
        ("caller: the long number on the front is oh six zero four ... one two three seven ... seven seven seven seven"
         " ... seven seven seven two", "oh six zero four ... one two three seven ... seven seven seven seven"
         " ... seven seven seven two"),
        ("caller: it's three five oh seven, one two three seven, seven seven seven seven, seven seven seven four and it"
         " expires next year", "three five oh seven, one two three seven, seven seven seven seven, seven seven seven four"),
    ],
)
def test_cards_in_card_context(text: str, card: str) -> None:
    assert _found(text) == [(CREDIT_CARD, card)]


@pytest.mark.parametrize(
    "text",
    [
        "order 6390 1237 7777 7777",
        "the number is 0604 1237 7777 7772",
        "the long number on the front of the parcel is 0604 1237 7777 7772",
    ],
)
def test_card_digits_without_card_context_are_no_card(text: str) -> None:
    assert [kind for kind, _ in _found(text) if kind == CREDIT_CARD] == []


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("please send the invoice to 07700 900123", True),
        ("please send the invoice to oh seven seven double oh nine double oh one two three", True),
        ("invoice 07700 900123", False),
        ("invoice oh seven seven double oh nine double oh one two three", False),
    ],
)
def test_written_and_spoken_numbers_share_one_reference_rule(text: str, masked: bool) -> None:
    # A reference word names the number only when it stands right before it ("invoice 0770..."),
    # not when it is the object of another verb ("send the invoice to 0770...").
    assert bool([kind for kind, _ in _found(text) if kind == PHONE]) is masked


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Tel: 32.12.34.56", PHONE),  # a Danish number written with dots
        ("my number is 22.33.44.55", PHONE),
        ("agent: I have 32.12.34.56 on file, is that still the best number?", PHONE),
        ("the server is 22.33.44.55", "IP_ADDRESS"),
        ("my IP is 22.33.44.55", "IP_ADDRESS"),
        ("reach the host at 192.168.1.20", "IP_ADDRESS"),
    ],
)
def test_eight_dotted_digits_after_a_phone_word_are_a_phone_number(text: str, kind: str) -> None:
    assert [found for found, _ in _found(text)] == [kind]


@pytest.mark.parametrize(
    "text",
    [
        "Agent: Ich habe 2202.3456 hinterlegt, ist das noch die beste Nummer?",
        "Mi chiami al 730 1234",
    ],
)
def test_a_persons_line_in_other_languages(text: str) -> None:
    assert [kind for kind, _ in _found(text)] == [PHONE]


def test_a_date_after_an_international_number_stays_a_date() -> None:
    assert _found("+44 20 7946 0958 on 21.12.24") == [(PHONE, "+44 20 7946 0958")]


@pytest.mark.parametrize(
    ("text", "card"),
    [
        ("my card is 676340377776", "676340377776"),  # a compact 12-digit Maestro said to be a card
        ("paid with 6390-0621-7777 yesterday", "6390-0621-7777"),  # what a payment is made with
        ("Kreditkarte 4000000000006", "4000000000006"),  # an EAN-13 check digit too, but said to be a card
        # Read back: Luhn-valid, more digits than a phone number has, outside the issuer table.
        ("agent: let me read that back, 3591 8857 7777 7775, is that correct?", "3591 8857 7777 7775"),
        ("caller: it's 3591 8857 7777 7775", "3591 8857 7777 7775"),
    ],
)
def test_cards_said_to_be_cards(text: str, card: str) -> None:
    assert _found(text) == [(CREDIT_CARD, card)]


@pytest.mark.parametrize(
    "text",
    ["order 676340377776", "shipment 3591 8857 7777 7775, is that correct?", "the reference is 3591 8857 7777 7775",
     "barcode 4000000000006", "Gift card 6066 4388 2891 7658 has no balance", "loyalty card: 4111 1111 1111 1111"],
)
def test_the_same_digits_as_references_are_no_card(text: str) -> None:
    assert [kind for kind, _ in _found(text) if kind == CREDIT_CARD] == []


def test_a_payment_card_after_another_card_word_is_still_a_card() -> None:
    assert _found("my gift card is empty, so visa 4111 1111 1111 1111") == [(CREDIT_CARD, "4111 1111 1111 1111")]
