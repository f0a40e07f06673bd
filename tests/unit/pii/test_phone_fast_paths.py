"""The phone finder's faster scans and validity shortcuts answer exactly as the slower forms they replace."""

from __future__ import annotations

import random
import re

import phonenumbers
from phonenumbers import PhoneNumberType

from shared.pii import detectors
from shared.pii.engine import DEFAULT_REGIONS
from shared.pii.normalise import PHONE_MARK

# The candidate patterns as they were written before their first character came first.
_CAND_BEFORE = re.compile(
    r"(?<![\w,+\-/])(?<![\d.]\.)(?:\+|\((?=[ ]?\+?\d))?[ \u00a0]?\d(?:[ \u00a0\-./()+]{0,4}\d){6,}"
    rf"(?!(?!{PHONE_MARK})\w)"
)
_BEFORE = {
    "_SHORT_PLUS": re.compile(r"(?<![\w+])\+\d(?:[ \u00a0\-.]{0,2}\d){3,5}(?![\w]|[ \-./:,]?\d)"),
    "_PHONE_ONE_BY_ONE": re.compile(r"(?<![\w,+\-/.])\d(?:,[ ]\d){6,14}(?![\w]|,[ ]?\d)"),
    "_SHORT_ONE_BY_ONE": re.compile(
        r"(?<![\w,+\-/.])\d(?P<sep>[ ]-[ ]|-|[ ]|,[ ])\d(?:(?P=sep)\d){2,4}(?![\w]|(?P=sep)\d)"
    ),
    "_SHORT_WRITTEN": re.compile(r"(?<![\w,+\-/.:])\d(?:[ \-.]?\d){4,5}(?![\w]|[ \-./:,]?\d)"),
}
_ALPHABET = [*"0123456789012345678901234567890123456789 ++(())--..//,,:a\u00a0\n\t#x_", PHONE_MARK, "\u0663", ", "]


def test_candidate_scans_find_what_the_lookbehind_first_patterns_found() -> None:
    rng = random.Random(11)
    texts = ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 30))) for _ in range(40000)]
    found = 0
    for text in texts:
        expected = [m.span() for m in _CAND_BEFORE.finditer(text)]
        assert [m.span() for m in detectors._PHONE_CAND.finditer(text)] == expected, text
        for name, before in _BEFORE.items():
            now = getattr(detectors, name)
            assert [m.span() for m in now.finditer(text)] == [m.span() for m in before.finditer(text)], (name, text)
        found += bool(expected)
    assert found > 5000


def _variants(rng: random.Random) -> list[str]:
    """Example numbers of every region, national and international, one digit changed, dropped or added."""
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None or metadata is None:
                continue
            nsn = phonenumbers.national_significant_number(example)
            for base in (nsn, (metadata.national_prefix or "") + nsn, f"{example.country_code}{nsn}"):
                digits = list(base)
                index = rng.randrange(len(digits))
                choice = rng.randrange(3)
                if choice == 0:
                    digits[index] = str(rng.randrange(10))
                elif choice == 1:
                    del digits[index]
                else:
                    digits.insert(index, str(rng.randrange(10)))
                for number in (base, "".join(digits)):
                    numbers += [number, "+" + number, f"+{example.country_code}{number}"]
    return numbers


def test_numbers_left_out_of_phonenumbers_parse_are_ones_it_rejects() -> None:
    # Where the fast path says no, parse is skipped only where it can only say no too.
    rng = random.Random(3)
    skipped = 0
    for candidate in _variants(rng):
        digits = candidate.lstrip("+")
        if not 7 <= len(digits) <= 15:
            continue
        if candidate.startswith("+"):
            if not detectors._fast_valid_international(digits) and not detectors._parse_may_accept_international(digits):
                skipped += 1
                assert not detectors._international_valid(digits), candidate
            continue
        for region in DEFAULT_REGIONS:
            if detectors._fast_valid_in_region(digits, region) or detectors._parse_may_accept_national(digits, region):
                continue
            skipped += 1
            try:
                valid = phonenumbers.is_valid_number(phonenumbers.parse(digits, region))
            except phonenumbers.NumberParseException:
                valid = False
            assert not valid, (candidate, region)
    assert skipped > 3000


def test_merged_national_rules_answer_as_each_region_does() -> None:
    rng = random.Random(5)
    regions = tuple(DEFAULT_REGIONS)
    valid = 0
    for candidate in _variants(rng):
        digits = candidate.lstrip("+")
        expected = any(detectors._fast_valid_in_region(digits, region) for region in regions)
        assert detectors._fast_valid_national(digits, regions) is expected, digits
        valid += expected
    assert valid > 300


# The short-number gate's words as they were listed before being grouped by first letter.
_GATE_BEFORE = re.compile(
    r"read|rep|rép|confirm|wiederhol|ripet|herhaal|bevestig|apunt|anot|notez|notier|segna|noteer|jot"
    r"|call|ring|phone|tel|mobil|mob|cell|fax|landline|number|nummer|num[eé]ro|número|reach|text|whatsapp|handy"
    r"|portable|m[oó]vil|llam|chiam|bel|lig|contact|joindre|gsm|φ"
)


def test_short_number_gate_passes_the_texts_the_word_list_passed() -> None:
    rng = random.Random(9)
    words = [*re.findall(r"[a-zéóúφ]+", _GATE_BEFORE.pattern), "numero", "número", "movil", "móvil"]
    passed = 0
    for _ in range(60000):
        word = rng.choice(words)
        start = rng.randrange(len(word))
        noise = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzéóú φ") for _ in range(rng.randint(0, 4)))
        text = rng.choice((word[start:] + noise, noise + word[: rng.randint(1, len(word))], noise + word[start:]))
        expected = _GATE_BEFORE.search(text) is not None
        assert (detectors._SHORT_NUMBER_GATE.search(text) is not None) is expected, text
        passed += expected
    assert passed > 10000


def test_currency_word_pattern_matches_where_the_plain_alternation_did() -> None:
    # Case-insensitive, outside ASCII too: the long s matches "s", the dotless i and the capital I
    # with a dot match "i", the Kelvin sign matches "k".
    plain = re.compile("(?i)" + "|".join(detectors._CURRENCY_WORD_LIST))
    rng = random.Random(4)
    letters = "eurEURsd\u017fSD\u0131i\u0130Igbpchfaldnrobck \u212a\u00e9\u20ac"
    found = 0
    for _ in range(100000):
        text = "".join(rng.choice(letters) for _ in range(rng.randint(1, 12)))
        expected = plain.search(text) is not None
        assert (detectors._CURRENCY_WORD.search(text) is not None) is expected, text
        found += expected
    assert found > 3000


def test_version_pattern_finds_what_it_found_without_its_first_letter_class() -> None:
    before = re.compile(r"(?i:\bv|\bversion[ ]?|\bver\.?[ ]?|\brelease[ ]?|\bbuild[ ]?|\bfirmware[ ]?)\d+(?:\.\d+){1,4}")
    pieces = [
        "v1.2", "V2.0.1", "version 1.2.3", "Version1.2", "ver. 3.4", "VER 1.2.3.4.5.6", "release 2.1", "build 10.4",
        "Firmware 3.4.5", "\u017f", "\u0131", "\u0130", "\u212a", "\u00e9", "x", "1", ".", " ", "2.3", "av1.2", "v", "b",
    ]
    rng = random.Random(6)
    found = 0
    for _ in range(30000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        expected = [m.span() for m in before.finditer(text)]
        assert [m.span() for m in detectors._VERSIONS.finditer(text)] == expected, text
        found += bool(expected)
    assert found > 10000

