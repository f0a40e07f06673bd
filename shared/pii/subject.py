"""The data subject's own identifiers, found however they were typed or transcribed.

A :class:`KnownSubject` is built once per erasure request from what is known about the person
(emails, phone numbers in E.164, names, other identifiers such as a customer number) and
compiles its patterns at construction. Matching is forgiving where people are:

* emails: any case, spaces around ``@`` and ``.``, and the spoken forms "jane dot doe at example
  dot com" / "jane(at)example(dot)com";
* phones: compared by digits whatever the separators, with ``+44``, ``0044``, ``+44 (0)``, the
  national trunk prefix (``07700 900123``) or the national number alone;
* names: case, extra spaces, hyphens or dots between parts, diacritics ("Zoë" = "Zoe",
  "Müller" = "Mueller" = "MULLER"), "Doe, Jane", "J. Doe", "Mr Doe", middle names dropped;
* other identifiers: case and separators ("AB-1234-X" = "ab 1234 x").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import combinations
from typing import Final

import phonenumbers

Span = tuple[int, int]

_DOT_WORDS: Final = r"(?:dot|punkt|point|punto|punt)"
_DOT: Final = (
    rf"(?:[ \t]*\.[ \t]*|[ \t]+{_DOT_WORDS}[ \t]+|[ \t]*[\[({{<][ \t]*(?:{_DOT_WORDS}|\.)[ \t]*[\])}}>][ \t]*)"
)
_AT: Final = (
    r"(?:[ \t]*@[ \t]*|[ \t]+(?:at|arroba|arobase|chez|[äa]t|apenstaartje|klammeraffe|chiocciola)[ \t]+"
    r"|[ \t]*[\[({<][ \t]*(?:at|arroba|arobase|@)[ \t]*[\])}>][ \t]*)"
)
_PHONE_SEP: Final = r"[ \t\u00a0\-./()]*"
_ID_SEP: Final = r"[ \t\u00a0\-./_]*"
_WORD_SEP: Final = r"[ \t\u00a0\-_.]*"
_PART_SEP: Final = r"[ \t\u00a0\-'\u2019]?"
_TITLES: Final = (
    r"mr|mrs|ms|miss|mx|dr|prof|sir|madam|herr|frau|hr|fr|m|mme|mlle|monsieur|madame|sr|sra|srta|senor|senora"
    r"|don|dona|dhr|mevr|mw|sig|sigra|signor|signora"
)
_MIN_IDENTIFIER_CHARS: Final = 4
# Scripts written without spaces between words (kana, CJK ideographs, hangul).
_SPACELESS_NAME: Final = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _fold_char(char: str) -> str:
    lowered = char.lower()
    if len(lowered) != 1:
        return char
    base = unicodedata.normalize("NFKD", lowered)[0]
    return base if len(base) == 1 else lowered


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    # Latin (Vietnamese "Nguyễn" included), Greek and Cyrillic: a name in capitals ("ΦΩΤΕΙΝΌΣ", "ИВАН")
    # or without its diacritics is the same name.
    for first, last in ((0x41, 0x250), (0x370, 0x400), (0x400, 0x530), (0x1E00, 0x1F00)):
        for code in range(first, last):
            folded = _fold_char(chr(code))
            if folded != chr(code):
                table[code] = folded
    for special, plain in (
        ("ø", "o"), ("Ø", "o"), ("ł", "l"), ("Ł", "l"), ("đ", "d"), ("Đ", "d"), ("\u2019", "'"), ("\u03c2", "\u03c3"),
    ):
        table[ord(special)] = plain
    return table


def fold(text: str) -> str:
    """Lower-case Latin, Greek and Cyrillic letters and strip their diacritics, one character for one."""
    return text.translate(_fold_table())


def _word_variants(word: str) -> list[str]:
    """Spellings of one folded name word: as given, German transliteration both ways."""
    variants = {fold(word)}
    transliterated = word.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    variants.add(fold(transliterated))
    plain = fold(word)
    for pair, vowel in (("ae", "a"), ("oe", "o"), ("ue", "u")):
        plain = plain.replace(pair, vowel)
    variants.add(plain)
    return sorted(variants, key=len, reverse=True)


def _word_pattern(word: str) -> str:
    alternatives = []
    for variant in _word_variants(word):
        parts = [p for p in re.split(r"[\s\-'\u2019.]+", variant) if p]
        escaped = [re.sub("ss|ß", "(?:ss|ß)", re.escape(p)) for p in parts]
        alternatives.append(_PART_SEP.join(escaped))
    return "(?:" + "|".join(dict.fromkeys(alternatives)) + ")"


def _name_words(name: str) -> list[str]:
    """``"Doe, Jane"`` and ``"Jane Doe"`` both give ``["Jane", "Doe"]``."""
    if "," in name:
        family, _, given = name.partition(",")
        name = f"{given} {family}"
    return [w for w in re.split(r"\s+", name.strip()) if w.strip("-'\u2019.")]


def _name_patterns(name: str) -> tuple[list[str], list[str]]:
    """Regex alternatives for a name over folded text: (plain forms, title + family forms)."""
    words = _name_words(name)
    if not words:
        return [], []
    if len(words) == 1:
        return [_word_pattern(words[0])], []
    # Family names split at hyphens too: "Müller-García" is also "Sr. García" or "José Müller".
    family_words = [part for word in words[1:] for part in re.split(r"-+", word) if part]
    given, family = _word_pattern(words[0]), [_word_pattern(w) for w in family_words]
    patterns = [given, *family]
    initial = re.escape(fold(words[0])[0])
    family_forms: list[str] = []
    for size in range(len(family), 0, -1):
        for chosen in combinations(family, size):
            family_forms.append(_WORD_SEP.join(chosen))
    plain: list[str] = []
    # "García López, María José": after the comma, the given name may carry its middle names.
    middle = rf"(?:[ \t\-]+(?:{'|'.join(family)})){{0,{len(family)}}}"
    for fam in family_forms:
        plain.append(f"{given}{_WORD_SEP}(?:[a-z]\\.?{_WORD_SEP})?{fam}")
        plain.append(f"{fam}[ \t]*(?:,[ \t]*{given}{middle}|{given})")
        plain.append(f"{initial}(?:\\.[ \t]*|[ \t]+){fam}")
    if len(family) > 1:
        # "Jane Ann Doe" as "Jane Ann" is still the subject's name; first names alone are not matched.
        plain.append(_WORD_SEP.join(patterns))
    titled = [f"(?:{_TITLES})\\.?[ \t]+({fam})" for fam in family_forms]
    return plain, titled


def _name_keys(name: str) -> set[str]:
    """Substrings (folded) one of which every spelling of the name matched here contains."""
    keys: set[str] = set()
    words = _name_words(name)
    family_words = [part for word in words[1:] for part in re.split(r"-+", word) if part] or words
    for word in family_words:
        for variant in _word_variants(word):
            pieces = [p for p in re.split(r"[\s\-'\u2019.]+", variant) if p]
            if pieces:
                longest = max(pieces, key=len)
                keys.add(longest)
                if "ss" in longest or "ß" in longest:
                    keys.add(longest.replace("ss", "ß"))
                    keys.add(longest.replace("ß", "ss"))
    return keys


def _email_pattern(email: str) -> str | None:
    local, at, domain = email.strip().lower().partition("@")
    if not at or not local or "." not in domain:
        return None
    local_pattern = _DOT.join(re.escape(p) for p in local.split(".") if p)
    domain_pattern = _DOT.join(re.escape(p) for p in domain.split(".") if p)
    return f"(?<![\\w.+\\-]){local_pattern}{_AT}{domain_pattern}(?![\\w\\-])"


def _phone_pattern(phone: str, default_region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(phone, default_region)
    except phonenumbers.NumberParseException:
        return None
    code = str(number.country_code)
    national = phonenumbers.national_significant_number(number)
    if len(national) < 6:
        return None
    region = phonenumbers.region_code_for_number(number)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region) if region else None
    trunk = (metadata.national_prefix if metadata is not None else None) or ""
    sep = _PHONE_SEP
    code_pattern = sep.join(code)
    national_pattern = sep.join(national)
    international = f"(?:\\+|\\b00){sep}{code_pattern}{sep}(?:\\(?0\\)?{sep})?"
    trunk_pattern = f"|{sep.join(trunk)}{sep}" if trunk else ""
    return f"(?<![\\d+])(?:{international}{trunk_pattern})?\\(?{national_pattern}(?!\\d)"


def _identifier_pattern(value: str) -> str | None:
    chars = [c for c in value.strip().lower() if c.isalnum()]
    if len(chars) < _MIN_IDENTIFIER_CHARS:
        return None
    return "(?<![^\\W_])" + _ID_SEP.join(re.escape(c) for c in chars) + "(?![^\\W_])"


def _compile(alternatives: Iterable[str], flags: int = 0) -> re.Pattern[str] | None:
    unique = list(dict.fromkeys(a for a in alternatives if a))
    if not unique:
        return None
    return re.compile("|".join(f"(?:{a})" for a in unique), flags)


def _overlapping(pattern: re.Pattern[str], text: str) -> list[Span]:
    """The text every match of ``pattern`` covers, overlapping matches merged into one span.

    One spelling of a name may start inside another: in "it's Doe, Søren" the initial form "s Doe"
    starts first, and ``finditer`` would then skip "Doe, Søren"; in "a nombre de Jane de Vries",
    "de Jane" hides "Jane de Vries".
    """
    spans: list[Span] = []
    position = 0
    while (match := pattern.search(text, position)) is not None:
        start, end = match.span()
        if spans and start < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
        position = start + 1
    return spans


class KnownSubject:
    """What is known about one data subject, compiled into matchers once."""

    def __init__(
        self,
        *,
        emails: Sequence[str] = (),
        phones: Sequence[str] = (),
        names: Sequence[str] = (),
        identifiers: Sequence[str] = (),
        default_region: str | None = None,
    ) -> None:
        self.emails = tuple(e for e in emails if e)
        self.phones = tuple(p for p in phones if p)
        self.names = tuple(n for n in names if n)
        self.identifiers = tuple(i for i in identifiers if i)
        # Each matcher has a cheap pre-check so that text without any trace of the subject costs
        # a few substring tests, not a large alternation run at every position.
        self._emails = _compile((_email_pattern(e) or "" for e in self.emails), re.IGNORECASE)
        self._email_keys = tuple({p for e in self.emails for p in re.split(r"[@.]", e.lower()) if len(p) >= 2})
        self._phones = _compile((_phone_pattern(p, default_region) or "" for p in self.phones), re.IGNORECASE)
        self._identifiers = _compile((_identifier_pattern(i) or "" for i in self.identifiers), re.IGNORECASE)
        plain: list[str] = []
        titled: list[str] = []
        keys: set[str] = set()
        for name in self.names:
            forms, title_forms = _name_patterns(name)
            plain += forms
            titled += title_forms
            keys |= _name_keys(name)
        self._name_keys = tuple(keys)
        boundary_before, boundary_after = "(?<![^\\W\\d_])", "(?![^\\W\\d_])"
        # Chinese and Japanese names stand glued to the words around them ("私は中川 零です").
        spaceless = [
            p
            for name in self.names
            if _SPACELESS_NAME.search(name) and len("".join(_name_words(name))) >= 2
            for p in _name_patterns(name)[0]
        ]
        self._names = _compile(
            [f"{boundary_before}(?:{p}){boundary_after}" for p in plain if p not in spaceless] + spaceless
        )
        self._titled = _compile(f"{boundary_before}{t}{boundary_after}" for t in titled)

    def __repr__(self) -> str:
        # Never the values themselves: this object ends up in logs and tracebacks.
        return (
            f"KnownSubject(emails={len(self.emails)}, phones={len(self.phones)}, names={len(self.names)}, "
            f"identifiers={len(self.identifiers)})"
        )

    def find(self, text: str) -> list[Span]:
        """Spans of ``text`` holding one of this subject's identifiers."""
        spans: list[Span] = []
        lowered = text.lower()
        if self._emails is not None and any(key in lowered for key in self._email_keys):
            spans.extend(m.span() for m in self._emails.finditer(text))
        if self._phones is not None and sum(map(text.count, "0123456789")) >= 6:
            spans.extend(m.span() for m in self._phones.finditer(text))
        if self._identifiers is not None:
            spans.extend(m.span() for m in self._identifiers.finditer(text))
        if self._names is not None or self._titled is not None:
            folded = fold(text)
            if not any(key in folded for key in self._name_keys):
                return spans
            if self._names is not None:
                spans.extend(_overlapping(self._names, folded))
            if self._titled is not None:
                for match in self._titled.finditer(folded):
                    group = next(i for i in range(1, (match.lastindex or 0) + 1) if match.group(i) is not None)
                    spans.append(match.span(group))
        return spans
