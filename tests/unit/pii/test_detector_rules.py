"""The detectors' rules one by one, through their public functions: what each finds and what it leaves.

test_detectors.py reads whole messages through the engine; here each rule of the detectors module
(context words, blockers, the card and IBAN scans, the spoken-address checks, the phone shapes)
gets the inputs that tell it apart, with the exact spans expected.
"""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from shared.pii import PiiEngine, default_engine, detectors
from shared.pii.engine import DEFAULT_REGIONS


def _texts(text: str, spans: list[tuple[int, int]]) -> list[str]:
    return [text[start:end] for start, end in spans]


def _found(text: str, engine: PiiEngine | None = None) -> list[tuple[str, str]]:
    return [(e.type, text[e.start : e.end]) for e in (engine or default_engine()).find(text)]


# --------------------------------------------------------------------------------------------
# Context words
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number", "count", "words"),
    [
        ("Your order number is 100234567", "100234567", 4, ["is", "number", "order", "your"]),
        ("a b c d e f 1", "1", 2, ["f", "e"]),
        ("order #123", "123", 4, ["#", "order"]),
        ("order#123", "123", 4, ["#", "order"]),
        ("#123", "123", 4, ["#"]),
        ("n° 12345", "12345", 4, ["n°"]),
        ("Ticket-Nr. 4711", "4711", 4, ["nr", "ticket"]),
        ("room 2 0161", "0161", 4, []),  # a digit ends the words
        ("", "", 4, []),
    ],
)
def test_words_before_a_number(text, number, count, words):
    assert detectors.words_before(text, text.index(number), count) == words


def test_words_before_read_nothing_after_the_start():
    text = " 5 #"
    assert detectors.words_before(text, 1) == []


def test_words_before_gives_four_words_unless_asked():
    assert detectors.words_before("a b c d e f 1", 12) == ["f", "e", "d", "c"]


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("see # 4711", True),
        ("Your order number is 4711", True),
        ("n° de commande 4711", True),
        ("call me on 4711", False),
        ("4711", False),
    ],
)
def test_introduced_as_reference(text, reference):
    assert detectors.introduced_as_reference(text, text.index("4711")) is reference


# --------------------------------------------------------------------------------------------
# Blockers: dates, times, amounts, versions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "blocked"),
    [
        ("2024-03-15", ["2024-03-15"]),
        ("at 14:30", ["14:30"]),
        ("2024-03-15 14:30:00", ["2024-03-15", "14:30:00"]),
        ("total €1,234.56", ["€1,234.56"]),
        ("1.234,56 EUR", ["1.234,56 EUR"]),
        ("paid 12 345 678 € on 15/03/2024", ["15/03/2024", "12 345 678 €"]),
        ("running v2.10.3", ["v2.10.3"]),
        ("version 1.2.3.4 since 2024-03-15", ["2024-03-15", "version 1.2.3.4"]),
        ("call 0161 496 0000", []),
    ],
)
def test_blockers_in_the_whole_text(text, blocked):
    assert _texts(text, detectors.find_blockers(text)) == blocked


@pytest.mark.parametrize(
    ("text", "start", "end", "blocked"),
    [
        ("ab 2024-03-15", 0, 3, []),
        ("ab 2024-03-15", 3, 13, ["2024-03-15"]),
        ("2024-03-15 ab", 10, 13, []),
        ("ab 14:30", 0, 3, []),
        ("14:30 ab", 5, 8, []),
        ("ab €1,234.56", 0, 3, []),
        ("€12 and 50 EUR", 4, 14, ["50 EUR"]),
        ("ab v2.10.3", 0, 3, []),
        ("v2.10.3 ab.", 7, 11, []),
        ("a:b 14:30", 0, 4, []),  # the window has a colon, the time is after it
        ("€ ab 12 EUR", 0, 4, []),
        (". v2.10.3", 0, 2, []),
    ],
)
def test_blockers_only_inside_the_window(text, start, end, blocked):
    assert _texts(text, detectors.find_blockers(text, start, end)) == blocked


# --------------------------------------------------------------------------------------------
# IBANs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ibans", "rejected"),
    [
        ("GB82WEST12345698765432", ["GB82WEST12345698765432"], []),
        ("XX12 3456 7890 1234 5678, GB82 WEST 1234 5698 7654 32", ["GB82 WEST 1234 5698 7654 32"], []),
        ("ref DE89370400440532013000123", [], []),  # runs on into more digits: not that IBAN
        ("DE8937040044053201300012 or GB82WEST12345698765432", ["GB82WEST12345698765432"], []),
        ("IBAN DE89 3704 0044 0532 0130 01 is wrong", [], ["DE89 3704 0044 0532 0130 01"]),
        ("iban de89 3704 0044 0532 0130 01 is wrong", [], []),  # lower case: too weak to hold back
        ("DE89 3704 0044 0532 0130 01 and DE89 3704 0044 0532 0130 00", ["DE89 3704 0044 0532 0130 00"],
         ["DE89 3704 0044 0532 0130 01"]),
    ],
)
def test_ibans_and_rejected_iban_shapes(text, ibans, rejected):
    held: list[tuple[int, int]] = []
    assert _texts(text, detectors.find_ibans(text, held)) == ibans
    assert _texts(text, held) == rejected
    assert _texts(text, detectors.find_ibans(text)) == ibans


# --------------------------------------------------------------------------------------------
# Payment cards
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lengths", "shaped"),
    [
        ((16,), True),
        ((13,), True),
        ((19,), True),
        ((12,), False),
        ((20,), False),
        ((1,) * 16, True),
        ((4, 4, 4, 4), True),
        ((4, 4, 4, 3), True),
        ((4, 4, 4, 1), True),  # 13 digits, grouped from four
        ((4, 4, 4, 4, 3), True),
        ((4, 6, 5), True),  # American Express
        ((4, 6, 4), True),  # Diners Club 14
        ((5, 6, 4), False),
        ((4, 7, 4), False),
        ((4, 4, 4, 5), False),
        ((4, 4, 1, 4), False),
        ((4, 5, 5, 1), False),
        ((5, 5, 4), False),
        ((5, 5, 5), False),
        ((4, 4, 4, 4, 4), False),  # 20 digits
        ((2, 2, 2, 2, 2, 2, 2, 2), False),
    ],
)
def test_card_shaped(lengths, shaped):
    assert detectors.card_shaped(lengths) is shaped


@pytest.mark.parametrize(
    ("text", "cards", "rejected"),
    [
        ("order 4111 1111 1111 1111, card 5555 5555 5555 4444", ["5555 5555 5555 4444"], []),
        ("4111 1111 1111 1111 and 5555 5555 5555 4444", ["4111 1111 1111 1111", "5555 5555 5555 4444"], []),
        ("4111 1111 1111 1111 or 5555 5555 5555 4444 04/27", ["4111 1111 1111 1111", "5555 5555 5555 4444"], []),
        ("4111 1111 1111 1112, 5555 5555 5555 4444", ["5555 5555 5555 4444"], ["4111 1111 1111 1112"]),
        ("0111 1111 1111 1112", [], []),  # a leading 0: more likely a phone number than a mistyped card
        ("ids 1234 56789012345678 and 4111 1111 1111 1111", ["4111 1111 1111 1111"], []),
        ("99 4111 1111 1111 1111 and 5", ["4111 1111 1111 1111"], []),  # the card ends the run
        ("4111 1111 1111 1111 12345", ["4111 1111 1111 1111"], []),  # the card starts the run
        ("9 9 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 9 9", ["4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"], []),  # read out one by one
        ("1234 4111 1111 1111 1111 5678", [], []),  # inside a longer number: part of that number
    ],
)
def test_cards_and_rejected_card_shapes(text, cards, rejected):
    held: list[tuple[int, int]] = []
    assert _texts(text, detectors.find_cards(text, held)) == cards
    assert _texts(text, held) == rejected
    assert _texts(text, detectors.find_cards(text)) == cards


# --------------------------------------------------------------------------------------------
# US SSNs and IP addresses
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ssns"),
    [
        ("000-12-3456 or 123-45-6789", ["123-45-6789"]),
        ("SSN 219099999", ["219099999"]),
        ("my number is 219099999", []),  # nine bare digits need "SSN" or "social security" before them
        ("219099999", []),
        ("order 123-45-6789", []),
        ("SSN for order 123-45-6789", []),
    ],
)
def test_us_ssns(text, ssns):
    assert _texts(text, detectors.find_us_ssns(text)) == ssns


@pytest.mark.parametrize(
    ("text", "addresses"),
    [
        ("host 2001:db8:0:0:8:800:200c:417a up", ["2001:db8:0:0:8:800:200c:417a"]),  # RFC 4291, no "::"
        ("the update is now at 10.0.0.1", ["10.0.0.1"]),  # "update" is too far back to make it a version
        ("updated to 10.0.0.1", []),
        ("at 10.0.0.1 and 10.0.0.2", ["10.0.0.1", "10.0.0.2"]),
        ("1.2.3", []),
        ("std::vector and a::b", []),
    ],
)
def test_ip_addresses(text, addresses):
    assert _texts(text, detectors.find_ip_addresses(text)) == addresses


# --------------------------------------------------------------------------------------------
# Email addresses, spoken or typed in disguise
# --------------------------------------------------------------------------------------------


def test_the_spoken_address_gate_stays_shut_for_ordinary_text():
    assert not detectors.may_hold_spoken_email("thanks, have a lovely day")
    assert not detectors.may_hold_spoken_email("i bought it at amazon.com")
    assert detectors.may_hold_spoken_email("jane dot doe at gmail dot com")
    assert detectors.may_hold_spoken_email("jane(at)gmail.com")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # "@" and bracketed "at" say "address" by themselves: no context needed.
        ("jane dot doe @ gmail dot com", ["jane dot doe @ gmail dot com"]),
        ("jane(at)gmail(dot)com", ["jane(at)gmail(dot)com"]),
        ("jane[at]gmail[dot]com", ["jane[at]gmail[dot]com"]),
        ("jane{at}gmail{dot}com", ["jane{at}gmail{dot}com"]),
        # "at" as a word only where the clause talks about an address, and never after a pronoun.
        ("jane at gmail dot com", []),
        ("email jane at example dot com", ["jane at example dot com"]),
        ("write jane at example dot com", ["jane at example dot com"]),
        ("I bought it at amazon dot com", []),
        ("send it at amazon dot com", []),
        ("email me, I bought it at amazon dot com", []),
        ("I bought it at amazon dot com; email me: jane at example dot com", ["jane at example dot com"]),
        # The clause's context counts up to 60 characters back.
        ("write to me, my address (the one I check each and every single day) is jane at example dot com",
         ["jane at example dot com"]),
    ],
)
def test_spoken_emails(text, found):
    assert _texts(text, detectors.find_spoken_emails(text)) == found


# --------------------------------------------------------------------------------------------
# Phone numbers
# --------------------------------------------------------------------------------------------

_FINDER = detectors.PhoneFinder(DEFAULT_REGIONS)


def _example_numbers() -> list[tuple[str, PhoneNumberType, phonenumbers.PhoneNumber]]:
    """libphonenumber's published example numbers for the default regions."""
    examples = []
    for region in DEFAULT_REGIONS:
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                examples.append((region, kind, number))
    return examples


_EXAMPLES = [pytest.param(number, id=f"{region}-{kind}") for region, kind, number in _example_numbers()]


@pytest.mark.parametrize("number", _EXAMPLES)
def test_example_numbers_are_valid_in_national_and_international_format(number):
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    assert _FINDER.valid(national)
    assert _FINDER.valid(international)
    assert _FINDER.valid("00" + international[1:])
    text = f"call {international} please"
    assert _texts(text, _FINDER.find(text, [])) == [international]


@pytest.mark.parametrize("number", _EXAMPLES)
def test_example_numbers_one_digit_short_or_long_are_judged_as_phonenumbers_judges_them(number):
    # The fast path may only ever say yes where phonenumbers says yes.
    detectors.clear_caches()
    nsn = phonenumbers.national_significant_number(number)
    code = str(number.country_code)
    for variant in (nsn[:-1], nsn[:-2], nsn + "0", nsn + "00"):
        candidate = f"+{code}{variant}"
        if len(code + variant) > 15:
            continue
        expected = phonenumbers.is_valid_number(phonenumbers.parse(candidate, None))
        assert _FINDER.valid(candidate) is expected, candidate


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        # libphonenumber's example numbers for non-geographic codes: no region, so only
        # phonenumbers' own parse can tell (the fast path knows regions only).
        ("satellite phone +881 6 1234 5678", "+881 6 1234 5678"),
        ("freephone +800 1234 5678", "+800 1234 5678"),
        # Niue's example fixed line: seven digits with the country code, the fewest accepted.
        ("call +683 7012", "+683 7012"),
        # The trunk 0 typed after the country code, in a region that rewrites numbers when
        # dropping its prefix (Argentina): the fast path cannot strip it, phonenumbers can.
        ("llamar al +54 011 2345-6789", "+54 011 2345-6789"),
        # A trunk 0 where the region has none (Spain): only the retry without the 0 accepts it.
        ("call +34 0612 34 56 78", "+34 0612 34 56 78"),
        # Italy keeps its leading 0 after the country code.
        ("chiama +39 06 1234 5678", "+39 06 1234 5678"),
    ],
)
def test_international_numbers_beyond_the_fast_path(text, phone):
    detectors.clear_caches()  # validity answers are cached per process: compute this one here
    assert _found(text) == [("PHONE", phone)]


def test_too_few_digits_after_a_plus_are_no_phone_number():
    assert _found("call +44 0 7 9") == []


@pytest.mark.parametrize(
    "text",
    [
        "call +1 0268 464 123",  # the trunk retry still has to give a valid number
        "call +999 1234 5678",  # no country has the code 999
        "call +39 0178 123 4567",  # in Italy the 0 belongs to the number: no retry without it
    ],
)
def test_international_numbers_the_plan_rejects_are_only_shaped(text):
    # After "call" they are still masked (issue 20), but never as numbers the plan validates.
    detectors.clear_caches()
    assert not _FINDER.valid(text[5:])
    [entity] = default_engine().find(text)
    assert (entity.type, text[entity.start :], entity.validated) == ("PHONE", text[5:], False)


@pytest.mark.parametrize(
    ("text", "phones"),
    [
        ("call 020  7946 0958", ["020  7946 0958"]),  # a double space inside a valid number
        ("call 0044 20  7946 0958", ["0044 20  7946 0958"]),
        ("ring 0161 496 0000 or 020 7946 0958", ["0161 496 0000", "020 7946 0958"]),
        ("numbers 0161 496 0000 / 020 7946 0958 / 0121 234 5678", ["0161 496 0000", "020 7946 0958", "0121 234 5678"]),
        ("fax 0161 496 0000  020 7946 0958", ["0161 496 0000", "020 7946 0958"]),
        ("ring 0161 496 0000  9", ["0161 496 0000"]),  # a stray digit after a double space: split off
        ("chiamami al 312 345 6789  2 volte", ["312 345 6789"]),  # the same at 11 digits
        ("0161 496 0000 / 020 7946 0958, room 12 / 5", ["0161 496 0000", "020 7946 0958"]),
        ("0044 20 7946 0958 / 0161 496 0000", ["0044 20 7946 0958", "0161 496 0000"]),
        ("Niue +683 7012 / +683 7290", ["+683 7012", "+683 7290"]),  # seven digits each, split apart
        ("0161 496 0000 /(+4930) 1234 5678", ["0161 496 0000", "(+4930) 1234 5678"]),
        ("tel 030 123456", ["030 123456"]),  # eight digits with the trunk 0
        ("tel 030 12345", ["030 12345"]),  # eight digits with the trunk 0: enough
        ("tel 030 1234", ["030 1234"]),  # seven: the plan rejects it, the "tel" label says phone (issue 20)
        ("call 030 1234 for the branch", []),  # seven after a verb that may be about anyone's line
        ("Telefon 030123456", ["030123456"]),
        ("llámeme al 612345678", ["612345678"]),
        ("612345678", ["612345678"]),  # a bare number that is the whole message
        ("612345678 ext 12", ["612345678"]),  # or that an extension follows
        ("(612345678).", ["612345678"]),
        ("you can reach me at 612345678", ["612345678"]),
        ("call me back later on 612345678", ["612345678"]),  # "call" five words back
        ("ring me back much later on 612345678", []),  # six words back: too far
        ("612345678 was the booking", []),
        ("the code was 612345678", []),
        ("mobile 06.12.34.56.78", ["06.12.34.56.78"]),
        ("ip 10.4.12.1234", []),  # dots only, fewer than ten digits: not a phone number
        ("see 612.34.56.78", []),
        ("tel 030 12.34.56", ["030 12.34.56"]),  # dots and a space: the dots-only rule does not apply
        ("call (0161 496 0000", ["0161 496 0000"]),  # an opening bracket without its closing one stays out
        ("US office (202) 555-0143 or (ask)", ["(202) 555-0143"]),
        ("+44 20 7946 0958 (work)", ["+44 20 7946 0958"]),
        ("call 2105 6548 11", []),  # grouped from four: an account, not a phone number
        ("call 123-45-6789", []),  # shaped like an SSN, not like a phone number
    ],
)
def test_phone_shapes(text, phones):
    assert [span for kind, span in _found(text) if kind == "PHONE"] == phones


@pytest.mark.parametrize(
    ("text", "phones"),
    [
        # Dates and times next to a number cut it, the number itself stays.
        ("on 2024-03-15 call 0161 496 0000", ["0161 496 0000"]),
        ("at 14:30 call 0161 496 0000", ["0161 496 0000"]),
        ("0161 496 0000 at 14:30", ["0161 496 0000"]),
        ("15/03/2024 0161 496 0000", ["0161 496 0000"]),
        ("0161 496 0000 14:30", ["0161 496 0000"]),
        ("2024-03-15", []),
        ("order 0161 496 0000", []),
    ],
)
def test_blockers_cut_phone_candidates(text, phones):
    assert _texts(text, _FINDER.find(text, [])) == phones


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("jane@example.com 15/03/2024 0161 496 0000", "0161 496 0000"),  # a finding before, a date inside
        ("call 0161 496 0000 room 12 jane@example.com", "0161 496 0000"),  # digits between it and a finding after
    ],
)
def test_findings_elsewhere_in_the_text_do_not_change_a_phone_number(text, phone):
    assert ("PHONE", phone) in _found(text)


def test_taken_spans_are_not_phones():
    text = "call 0161 496 0000 or 020 7946 0958"
    first = (text.index("0161"), text.index("0161") + len("0161 496 0000"))
    assert _texts(text, _FINDER.find(text, [first])) == ["020 7946 0958"]


def test_an_unknown_region_finds_no_national_numbers_but_still_international_ones():
    engine = PiiEngine(default_regions=("ZZ",))
    assert _found("siehe 030 12345678", PiiEngine()) == [("PHONE", "030 12345678")]
    assert _found("siehe 030 12345678", engine) == []
    # After a phone word it is still masked, on its shape alone (never an identifier).
    assert [(e.type, e.validated) for e in engine.find("Rufen Sie 030 12345678 an")] == [("PHONE", False)]
    assert _found("call +44 20 7946 0958", engine) == [("PHONE", "+44 20 7946 0958")]


def test_making_a_finder_compiles_no_rules_and_warm_compiles_those_sharing_a_country_code():
    # Every process that logs builds the default engine: one that never validates a number compiles nothing.
    detectors._region_rules.cache_clear()
    finder = detectors.PhoneFinder(("GB",))
    assert detectors._region_rules.cache_info().currsize == 0
    # +44 is GB, GG, IM and JE: warm() (a benchmark's) makes their rules ready before the first message.
    finder.warm()
    before = detectors._region_rules.cache_info()
    for region in ("GB", "GG", "IM", "JE"):
        detectors._region_rules(region)
    after = detectors._region_rules.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (4, 0)


def _all_example_numbers() -> list[tuple[str, phonenumbers.PhoneNumber]]:
    examples = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                examples.append((region, number))
    return examples


def test_the_fast_path_says_yes_by_itself_to_plain_valid_numbers():
    # phonenumbers.parse costs tens of microseconds; the fast path exists to answer the plain cases
    # without it. Every example number of every region, with its country code or (where the region
    # has one) its trunk prefix, must be answered there and then.
    missed = []
    for region, number in _all_example_numbers():
        nsn = phonenumbers.national_significant_number(number)
        if not detectors._fast_valid_international(f"{number.country_code}{nsn}"):
            missed.append(f"+{number.country_code} {nsn}")
        national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
        digits = "".join(char for char in national if char.isdigit())
        if region in DEFAULT_REGIONS and not detectors._fast_valid_in_region(digits, region):
            missed.append(f"{region} {national}")
    assert missed == []
