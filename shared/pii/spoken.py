"""Numbers read out loud: "oh seven seven double oh nine ..." as a speech-to-text transcript writes them.

A caller dictating a card, an SSN or a phone number produces digit words, not digits. This module
finds runs of number words (and digits) and turns each into the digit string it says, with the
span of text it came from; the detectors then judge those digits like written ones. It knows the
digit words of English, French, German, Spanish, Italian, Dutch and Portuguese, "oh" for zero,
"double"/"triple" (and their translations), two-digit numbers ("twenty-one", "soixante-dix-huit",
"einundzwanzig", "treinta y cuatro") and "hundred" ("one eight hundred").

A cheap word count gates the work: text with fewer than three number words is never scanned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

_UNITS: Final[dict[str, int]] = {
    # English ("oh"/"o" for zero is English usage)
    "zero": 0, "oh": 0, "o": 0, "nought": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9,
    # French
    "zéro": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8, "neuf": 9,
    # German
    "null": 0, "eins": 1, "ein": 1, "zwei": 2, "zwo": 2, "drei": 3, "vier": 4, "fünf": 5, "fuenf": 5, "sechs": 6,
    "sieben": 7, "acht": 8, "neun": 9,
    # Spanish
    "cero": 0, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9,
    # Italian
    "due": 2, "tre": 3, "quattro": 4, "cinque": 5, "sei": 6, "sette": 7, "otto": 8, "nove": 9,
    # Dutch
    "nul": 0, "een": 1, "één": 1, "twee": 2, "drie": 3, "vijf": 5, "zes": 6, "zeven": 7, "negen": 9,
    # Portuguese
    "um": 1, "uma": 1, "dois": 2, "duas": 2, "três": 3, "quatro": 4, "sete": 7, "oito": 8,
}
_TEENS: Final[dict[str, int]] = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
    "zehn": 10, "elf": 11, "zwölf": 12, "zwoelf": 12, "dreizehn": 13, "vierzehn": 14, "fünfzehn": 15, "fuenfzehn": 15,
    "sechzehn": 16, "siebzehn": 17, "achtzehn": 18, "neunzehn": 19,
    "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14, "dieciséis": 16, "dieciseis": 16,
    "diecisiete": 17, "dieciocho": 18, "diecinueve": 19,
    "dieci": 10, "undici": 11, "dodici": 12, "tredici": 13, "quattordici": 14, "quindici": 15, "sedici": 16,
    "diciassette": 17, "diciotto": 18, "diciannove": 19,
    "tien": 10, "twaalf": 12, "dertien": 13, "veertien": 14, "vijftien": 15, "zestien": 16, "zeventien": 17,
    "achttien": 18, "negentien": 19,
    "dez": 10, "doze": 12, "treze": 13, "catorze": 14, "dezasseis": 16, "dezesseis": 16, "dezassete": 17,
    "dezessete": 17, "dezoito": 18, "dezanove": 19, "dezenove": 19,
}
_TENS: Final[dict[str, int]] = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "vingt": 20, "vingts": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60, "septante": 70,
    "huitante": 80, "octante": 80, "nonante": 90,
    "zwanzig": 20, "dreißig": 30, "dreissig": 30, "vierzig": 40, "fünfzig": 50, "fuenfzig": 50, "sechzig": 60,
    "siebzig": 70, "achtzig": 80, "neunzig": 90,
    "veinte": 20, "treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80,
    "noventa": 90,
    "venti": 20, "trenta": 30, "quaranta": 40, "cinquanta": 50, "sessanta": 60, "settanta": 70, "ottanta": 80,
    "novanta": 90,
    "twintig": 20, "dertig": 30, "veertig": 40, "vijftig": 50, "zestig": 60, "zeventig": 70, "tachtig": 80,
    "negentig": 90,
    "vinte": 20, "trinta": 30, "quarenta": 40, "cinquenta": 50, "sessenta": 60, "oitenta": 80,
}
_REPEATS: Final[dict[str, int]] = {
    "double": 2, "triple": 3, "treble": 3, "doble": 2, "doppel": 2, "doppio": 2, "dubbel": 2, "duplo": 2,
    "triplo": 3, "dreifach": 3,
}
_AND: Final = frozenset({"and", "et", "y", "e"})
# Separators a speech-to-text engine writes as words: "five five five dash oh one nine nine".
_SAID_SEPARATORS: Final = frozenset(
    {"dash", "hyphen", "tiret", "strich", "bindestrich", "guion", "guión", "trattino", "streepje"}
)
_HUNDRED: Final = frozenset({"hundred"})
_PLUS: Final = frozenset({"plus", "più", "mais", "más"})  # "más treinta y cuatro ...": Spanish
# A unit word's digit as text; "quatre" left out ("quatre-vingt" is 80).
_UNIT_DIGITS: Final[dict[str, str]] = {word: str(value) for word, value in _UNITS.items() if word != "quatre"}


def _compounds() -> dict[str, int]:
    """Two-digit numbers written as one word: "einundzwanzig", "eenentwintig", "ventuno", "veintidós"."""
    words: dict[str, int] = {}
    german_units = {"ein": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "fuenf": 5, "sechs": 6, "sieben": 7,
                    "acht": 8, "neun": 9}
    german_tens = {k: v for k, v in _TENS.items() if k.endswith(("zig", "ßig", "ssig"))}
    for unit, u in german_units.items():
        for tens, t in german_tens.items():
            words[f"{unit}und{tens}"] = t + u
    dutch_units = {"een": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7, "acht": 8, "negen": 9}
    dutch_tens = {"twintig": 20, "dertig": 30, "veertig": 40, "vijftig": 50, "zestig": 60, "zeventig": 70,
                  "tachtig": 80, "negentig": 90}
    for unit, u in dutch_units.items():
        for tens, t in dutch_tens.items():
            words[f"{unit}en{tens}"] = t + u
            words[f"{unit}ën{tens}"] = t + u
    italian_units = {"uno": 1, "due": 2, "tre": 3, "tré": 3, "quattro": 4, "cinque": 5, "sei": 6, "sette": 7,
                     "otto": 8, "nove": 9}
    italian_tens = {"venti": 20, "trenta": 30, "quaranta": 40, "cinquanta": 50, "sessanta": 60, "settanta": 70,
                    "ottanta": 80, "novanta": 90}
    for tens, t in italian_tens.items():
        for unit, u in italian_units.items():
            stem = tens[:-1] if unit[0] in "uo" else tens
            words[f"{stem}{unit}"] = t + u
    spanish = {"veintiuno": 21, "veintiún": 21, "veintidós": 22, "veintidos": 22, "veintitrés": 23, "veintitres": 23,
               "veinticuatro": 24, "veinticinco": 25, "veintiséis": 26, "veintiseis": 26, "veintisiete": 27,
               "veintiocho": 28, "veintinueve": 29}
    words.update(spanish)
    return words


_TWO_DIGITS: Final[dict[str, int]] = {**_TEENS, **_compounds()}
_ALL_WORDS: Final = frozenset(
    [*_UNITS, *_TWO_DIGITS, *_TENS, *_REPEATS, *_AND, *_HUNDRED, *_PLUS, *_SAID_SEPARATORS]
)
def _hyphenated() -> list[str]:
    """"twenty-one", "trente-quatre", "soixante-dix-huit", "quatre-vingt-douze": one word to a plain split."""
    english_tens = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
    english_units = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
    french_tens = ("vingt", "trente", "quarante", "cinquante", "soixante", "quatre-vingt")
    french_units = ("et-un", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf")
    french_teens = ("dix", "onze", "douze", "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit", "dix-neuf")
    words = [f"{t}-{u}" for t in english_tens for u in english_units]
    words += [f"{t}-{u}" for t in french_tens for u in french_units]
    words += [f"{t}-{teen}" for t in ("soixante", "quatre-vingt") for teen in french_teens]
    words += ["soixante-et-onze", "quatre-vingt", "quatre-vingts", "dix-sept", "dix-huit", "dix-neuf"]
    return words


# Words that count towards the gate: not "and", "o", "e"... which ordinary text is full of.
_GATE_WORDS: Final = frozenset([*_UNITS, *_TWO_DIGITS, *_TENS, *_REPEATS, *_hyphenated()]) - {
    "o", "un", "une", "ein", "een", "um", "uma"
}
_GATE_MIN: Final = 3


_TOKEN_SPLIT: Final = re.compile(r"([^\W\d_]+|\d+)")
_RUN_SEPARATORS: Final = " ,.-\u2026"
# Speech-to-text writes a pause between groups as an ellipsis: "four one ... seven seven", so a
# gap of up to five separator characters (" ... ", " …, ") still joins two groups of one number.
_MAX_GAP: Final = 5
_MAX_DIGIT_GROUP: Final = 6


@dataclass(frozen=True, slots=True)
class SpokenNumber:
    """``text[start:end]`` says the digits ``digits`` (``plus`` when read with a leading "plus")."""

    start: int
    end: int
    digits: str
    plus: bool
    # (end of a word, digits said up to there), word by word.
    boundaries: tuple[tuple[int, int], ...] = ()

    def prefix(self, length: int) -> tuple[int, int] | None:
        """The span saying the first ``length`` digits, when a word ends exactly there."""
        for end, count in self.boundaries:
            if count == length:
                return (self.start, end)
        return None


def may_hold_spoken_number(lowered: str, words: list[str] | None = None) -> bool:
    """Cheap test on the lower-cased text: three or more number words.

    Most text has none: a plain split and a set test (both in C) answer for it (``words`` is
    ``lowered.split()`` when the caller has it). A run of three or more number words has at least
    one not glued to a comma or a hyphen.
    """
    if _GATE_WORDS.isdisjoint(lowered.split() if words is None else words):
        return False
    words = lowered.replace(",", " ").replace("-", " ").replace(".", " ").split()
    return sum(map(_GATE_WORDS.__contains__, words)) >= _GATE_MIN


def find_spoken_numbers(text: str, min_digits: int = 7) -> list[SpokenNumber]:
    """Runs of number words in ``text`` and the digits they say (at least ``min_digits`` of them).

    A run is two or more number words (or digit groups of up to six) joined by one to five of
    " ,.-…" (a pause written as an ellipsis included). One pass over the words with a dictionary
    lookup each: no alternation of hundreds of words tried at every character.
    """
    numbers: list[SpokenNumber] = []
    run: list[tuple[int, int, str]] = []
    said = False  # the run holds a number word, not only digit groups
    # ASCII text lower-cases character for character: one call for the whole text instead of one a word.
    source = text.lower() if text.isascii() else text
    lower_each = source is text
    # The words and, between them, what separates them: [gap, word, gap, word, ..., gap]. Offsets are
    # summed from their lengths, and the gap before a word is at hand for the run test.
    parts = _TOKEN_SPLIT.split(source)
    end = len(parts[0])
    for index in range(1, len(parts), 2):
        word = parts[index]
        start = end
        end = start + len(word)
        if lower_each:
            word = word.lower()
        if word in _ALL_WORDS:
            is_word = True
        elif word.isdigit() and len(word) <= _MAX_DIGIT_GROUP:
            is_word = False
        else:
            if run:  # most words end no run: nothing to do for them
                if len(run) >= 2 and said:
                    numbers.extend(_convert(run, min_digits))
                run = []
                said = False
            end += len(parts[index + 1])
            continue
        # A run's last token is always the word just before (any other word ends the run).
        if run and not _joined_by(parts[index - 1]):
            if len(run) >= 2 and said:
                numbers.extend(_convert(run, min_digits))
            run = []
            said = False
        run.append((start, end, word))
        # A word of _ALL_WORDS is never all digits.
        said = said or is_word
        end += len(parts[index + 1])
    if len(run) >= 2 and said:
        numbers.extend(_convert(run, min_digits))
    return numbers


def _joined_by(gap: str) -> bool:
    """Two tokens with ``gap`` between them belong to one run: one to five of " ,.-…" and nothing else."""
    return gap == " " or (1 <= len(gap) <= _MAX_GAP and not gap.strip(_RUN_SEPARATORS))


def _two_digit_after_tens(tokens: list[tuple[int, int, str]], index: int, tens: int) -> tuple[int, int]:
    """The value of a tens word at ``index`` with what completes it, and the index after it."""
    after = index + 1
    word = tokens[after][2] if after < len(tokens) else ""
    if word in _AND and after + 1 < len(tokens):
        nxt = tokens[after + 1][2]
        if _UNITS.get(nxt, 0) >= 1 and nxt not in ("o", "oh"):
            return tens + _UNITS[nxt], after + 2
        if tens in (60, 80) and nxt == "onze":
            return tens + 11, after + 2  # "soixante et onze"
        return tens, after
    if tens in (60, 80) and word in ("dix", "onze", "douze", "treize", "quatorze", "quinze", "seize"):
        # "soixante-dix-huit", "quatre-vingt-douze"
        value = _TEENS[word]
        if word == "dix" and after + 1 < len(tokens) and _UNITS.get(tokens[after + 1][2], 0) >= 7:
            return tens + 10 + _UNITS[tokens[after + 1][2]], after + 2
        return tens + value, after + 1
    if _UNITS.get(word, 0) >= 1 and word not in ("o", "oh"):
        return tens + _UNITS[word], after + 1
    return tens, after


def _convert(tokens: list[tuple[int, int, str]], min_digits: int = 0) -> list[SpokenNumber]:
    """Digits said by a run of tokens; a word that cannot continue a number ends one and starts the next.

    Numbers of fewer than ``min_digits`` digits are dropped before they are built.
    """
    numbers: list[SpokenNumber] = []
    digits: list[str] = []
    boundaries: list[tuple[int, int]] = []
    start = -1
    plus = False
    count = 0  # digits said so far in the current number
    index = 0
    length = len(tokens)
    token_start = -1  # set with each token; always bound for a compiled build
    while index <= length:
        said: str | None = None
        following = index + 1
        if index < length:
            token_start, _, word = tokens[index]
            # The commonest tokens first: a digit word not before "hundred", or a group of digits
            # (neither is a "plus", a said separator or a repeat word, tested first below).
            unit = _UNIT_DIGITS.get(word)
            if unit is not None and (following >= length or tokens[following][2] not in _HUNDRED):
                said = unit
            elif word.isdigit():
                said = word
            else:
                if word in _PLUS and not digits:
                    start, plus = token_start, True
                    index += 1
                    continue
                if word in _SAID_SEPARATORS and digits and following < length:
                    index += 1  # "dash" between groups: neither a digit nor the end of the number
                    continue
                said, following = _said(tokens, index, word)
        if said is None:
            # The number ends here (or the run does).
            if digits and count >= min_digits:  # ``count`` is len("".join(digits))
                numbers.append(SpokenNumber(start, boundaries[-1][0], "".join(digits), plus, tuple(boundaries)))
            digits, boundaries, start, plus, count = [], [], -1, False, 0
            index += 1
            continue
        if start < 0:
            start = token_start
        digits.append(said)
        count += len(said)
        boundaries.append((tokens[following - 1][1], count))
        index = following
    return numbers


def _said(tokens: list[tuple[int, int, str]], index: int, word: str) -> tuple[str | None, int]:
    """The digits the word at ``index`` says with the words completing it, and the index after them."""
    following = index + 1
    length = len(tokens)
    if word in _REPEATS and following < length and tokens[following][2] in _UNITS:
        return str(_UNITS[tokens[following][2]]) * _REPEATS[word], following + 1
    if word in _REPEATS and following < length and tokens[following][2].isdigit() and len(tokens[following][2]) == 1:
        return tokens[following][2] * _REPEATS[word], following + 1
    if word == "quatre" and following < length and tokens[following][2] in ("vingt", "vingts"):
        value, following = _two_digit_after_tens(tokens, following, 80)
        return str(value), following
    if word in _UNITS:
        if following < length and tokens[following][2] in _HUNDRED:
            rest, after = (0, following + 1)
            if after < length and tokens[after][2] in _TENS:
                rest, after = _two_digit_after_tens(tokens, after, _TENS[tokens[after][2]])
            elif after < length and tokens[after][2] in _TWO_DIGITS:
                rest, after = _TWO_DIGITS[tokens[after][2]], after + 1
            return f"{_UNITS[word]}{rest:02d}", after
        return str(_UNITS[word]), following
    if word == "dix" and following < length and _UNITS.get(tokens[following][2], 0) >= 7:
        return str(10 + _UNITS[tokens[following][2]]), following + 1  # "dix-sept"
    if word in _TWO_DIGITS:
        return str(_TWO_DIGITS[word]), following
    if word in _TENS:
        value, following = _two_digit_after_tens(tokens, index, _TENS[word])
        return str(value), following
    return None, following
