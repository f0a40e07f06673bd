"""The independent redaction corpus's phone numbers: the numbering plan's own examples for every
region and type, mutated, written in the plan's formats and variants, read back or spoken.

See ``bench/_redaction_corpus_independent.py`` for what the corpus is and how it is split.
"""

from __future__ import annotations

import random
import re
import string
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberFormat, PhoneNumberType

# ------------------------------------------------------------------------------------------------
# Phone numbers: the plan's examples, mutated, in the plan's formats
# ------------------------------------------------------------------------------------------------

PHONE_TYPES = tuple(v for k, v in sorted(vars(PhoneNumberType).items()) if k.isupper())
TYPE_NAMES = {v: k for k, v in vars(PhoneNumberType).items() if k.isupper()}


@lru_cache(maxsize=1)
def example_numbers() -> tuple[tuple[str, str, PhoneNumber], ...]:
    """(region, type name, number) for every example the library ships, once per region and number
    (a region's fixed and mobile example are often one number; regions sharing a plan keep theirs)."""
    seen: set[tuple[str, int | None, str]] = set()
    out = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for number_type in PHONE_TYPES:
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is None:
                continue
            key = (region, example.country_code, phonenumbers.national_significant_number(example))
            if key not in seen:
                seen.add(key)
                out.append((region, TYPE_NAMES[number_type], example))
    return tuple(out)


# Ranges set aside for fiction: NSN prefixes, completed with random digits to the length given.
FICTIONAL = {
    "GB": [(p, 10) for p in ("7700900", "2079460", "1134960", "1144960", "1154960", "1164960", "1174960", "1214960",
                             "1314960", "1414960", "1514960", "1614960", "1914980", "1632960", "3069990", "8081570")],
    "FR": [(p, 9) for p in ("19900", "26191", "35301", "46571", "53649", "63998")],
    "AU": [("491570", 9), ("25550", 9), ("35550", 9), ("75550", 9), ("85550", 9)],
    "DE": [("3023125", 10), ("6990009", 10), ("4066969", 10), ("2214710", 10), ("8999998", 10)],
}

FICTIONAL_REGIONS = ("US", "CA", *FICTIONAL)


def make_number(country_code: int, nsn: str) -> PhoneNumber:
    number = PhoneNumber(country_code=country_code, national_number=int(nsn))
    zeros = len(nsn) - len(nsn.lstrip("0"))
    if zeros:
        number.italian_leading_zero = True
        if zeros > 1:
            number.number_of_leading_zeros = zeros
    return number


def random_digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def mutate(region: str, example: PhoneNumber, rng: random.Random, how: str | None = None) -> tuple[str, PhoneNumber]:
    """(how, number): the example itself, one digit off, a fictional range or an unassigned area code."""
    code = example.country_code
    assert code is not None, "every example the plan ships carries a country code"
    nsn = phonenumbers.national_significant_number(example)
    how = how or rng.choices(("example", "digit_off", "fictional", "unassigned_area"), weights=(3, 3, 2, 2))[0]
    if how == "fictional":
        if code == 1 and len(nsn) == 10:
            return how, make_number(code, nsn[:3] + "55501" + random_digits(rng, 2))
        if region in FICTIONAL:
            prefix, length = rng.choice(FICTIONAL[region])
            return how, make_number(code, prefix + random_digits(rng, length - len(prefix)))
        how = "digit_off"
    if how == "unassigned_area":
        if code == 1 and len(nsn) == 10:
            return how, make_number(code, f"{rng.randint(2, 9)}9{rng.randrange(10)}" + nsn[3:])
        for _ in range(30):
            # A leading 0 only where the plan's numbers have one (elsewhere "00" reads as a dialling prefix).
            lead = "0" if nsn[0] == "0" else rng.choice("123456789")
            candidate = make_number(code, lead + random_digits(rng, 1) + nsn[2:]) if len(nsn) > 4 else None
            if candidate is not None and not phonenumbers.is_valid_number(candidate) \
                    and phonenumbers.is_possible_number(candidate):
                return how, candidate
        how = "digit_off"
    if how == "digit_off" and len(nsn) > 2:
        position = rng.randrange(1, len(nsn))
        replacement = rng.choice([d for d in string.digits if d != nsn[position]])
        return how, make_number(code, nsn[:position] + replacement + nsn[position + 1 :])
    return "example", example


def _chunks(digits: str) -> list[str]:
    """Groups of three, the last of four when three would leave one digit alone."""
    groups = re.findall(r"\d{1,3}", digits)
    if len(groups) > 1 and len(groups[-1]) == 1:
        groups[-2:] = [groups[-2][:2], groups[-2][2:] + groups[-1]]
    return groups


FULLWIDTH = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "0123456789+-()"})  # to U+FF10..
WRITTEN_STYLES = ("national", "international", "e164", "national_compact", "dots", "dashes", "parentheses", "slash",
                  "intl_00", "nbsp", "double_space")
INTERNATIONAL_ONLY = ("international", "e164", "dashes", "intl_00", "nbsp", "double_space")


def write_phone(number: PhoneNumber, style: str) -> str:
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    groups = re.findall(r"\d+", national)
    if len(groups) == 1:
        groups = _chunks(groups[0])
    if style == "national":
        return national
    if style == "international":
        return international
    if style == "e164":
        return e164
    if style == "national_compact":
        return "".join(groups)
    if style == "dots":
        return ".".join(groups)
    if style == "dashes":
        return "+" + "-".join(re.findall(r"\d+", international))
    if style == "parentheses":
        return f"({groups[0]}) " + " ".join(groups[1:]) if len(groups) > 1 else f"({groups[0]})"
    if style == "slash":
        return f"{groups[0]}/" + "".join(groups[1:]) if len(groups) > 1 else groups[0]
    if style == "intl_00":
        return "00" + international[1:]
    if style == "nbsp":
        return international.replace(" ", "\u00a0")
    if style == "double_space":
        return international.replace(" ", "  ")
    if style == "fullwidth":
        return e164.translate(FULLWIDTH)
    raise ValueError(style)


def national_digit_count(number: PhoneNumber) -> int:
    return len(re.sub(r"\D", "", phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)))


# ------------------------------------------------------------------------------------------------
# Spoken digits
# ------------------------------------------------------------------------------------------------

DIGIT_WORDS = {
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    "de": ["null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"],
    "fr": ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"],
    "es": ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"],
}
PLUS_WORD = {"en": "plus", "de": "plus", "fr": "plus", "es": "más"}


def speak_digits(digits: str, language: str, rng: random.Random) -> str:
    """Digits as a speech-to-text engine writes them: words, English "oh", "double" and "triple"."""
    words = DIGIT_WORDS[language]
    out: list[str] = []
    index = 0
    while index < len(digits):
        digit = digits[index]
        run = len(digits[index:]) - len(digits[index:].lstrip(digit))
        word = "oh" if language == "en" and digit == "0" and rng.random() < 0.6 else words[int(digit)]
        if language == "en" and run >= 3 and rng.random() < 0.4:
            out.append(f"triple {word}")
            index += 3
        elif language == "en" and run >= 2 and rng.random() < 0.5:
            out.append(f"double {word}")
            index += 2
        else:
            out.append(word)
            index += 1
    return " ".join(out)


def speak_groups(groups: list[str], language: str, rng: random.Random) -> str:
    pause = rng.choice([", ", " ", " ... "])
    return pause.join(speak_digits(g, language, rng) for g in groups if g)


def speak_phone(number: PhoneNumber, language: str, rng: random.Random) -> str:
    if rng.random() < 0.3:
        parts = re.findall(r"\d+", phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL))
        return f"{PLUS_WORD[language]} " + speak_groups(parts, language, rng)
    groups = re.findall(r"\d+", phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
    return speak_groups(groups if len(groups) > 1 else _chunks(groups[0]), language, rng)


def read_back(digits: str, rng: random.Random) -> str:
    """An agent repeating a number one digit at a time."""
    return rng.choice(["-", " ", " - ", ", "]).join(digits)
