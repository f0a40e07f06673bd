"""How the simulated platform compares personal data values.

One place for the rules so search, GDPR application and `/_sim/find` agree: emails and names compare
case-insensitively, phone numbers compare by their digits (so "tel:+44 7911 123456", "+447911123456" and
"+44 7911-123456" are one number), and values inside free text are found on word boundaries.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable

_PHONE_CHARS = re.compile(r"^(tel:)?\+?[\d\s().-]{6,}$", re.IGNORECASE)
# A phone-like run inside text: optional +, digits with common separators, ending on a digit.
_PHONE_IN_TEXT = re.compile(r"(?:tel:)?\+?\d[\d\s().-]{5,}\d", re.IGNORECASE)


_NON_DIGITS = re.compile(r"\D+")


def digits(value: str) -> str:
    """Only the (decimal) digits of a value."""
    return _NON_DIGITS.sub("", value)


@functools.lru_cache(maxsize=65536)
def is_phone_like(value: str) -> bool:
    """True for values that look like a phone number (with or without tel: and separators)."""
    return bool(_PHONE_CHARS.match(value.strip())) and len(digits(value)) >= 6


def strip_tel(value: str) -> str:
    """Drop a leading "tel:" the way the platform prints ANI/DNIS."""
    v = value.strip()
    return v[4:] if v.lower().startswith("tel:") else v


@functools.lru_cache(maxsize=65536)
def normalized(value: str) -> str:
    """Comparison key: "tel:" + digits for phone-like values, else trimmed lower case without "tel:"."""
    if is_phone_like(value):
        return "tel:" + digits(value)
    return strip_tel(value).strip().lower()


def same_value(stored: str | None, wanted: str | None) -> bool:
    """Whole-value equality: digits for phones, case-insensitive otherwise."""
    if not stored or not wanted:
        return False
    return normalized(stored) == normalized(wanted)


@functools.lru_cache(maxsize=65536)
def phones_in_text(text: str) -> frozenset[str]:
    """Digits of every phone-like run in a text (cached: transcripts are scanned for many values)."""
    return frozenset(digits(m.group(0)) for m in _PHONE_IN_TEXT.finditer(text))


@functools.lru_cache(maxsize=4096)
def _text_pattern(value: str) -> re.Pattern[str]:
    """Regex finding a non-phone value inside text on word boundaries, case-insensitively."""
    return re.compile(r"(?<![\w.+-])" + re.escape(value.strip()) + r"(?![\w-]|\.\w)", re.IGNORECASE)


def text_contains(text: str | None, value: str) -> bool:
    """True when `value` occurs in `text` (phones found in any common formatting)."""
    if not text or not value.strip():
        return False
    if is_phone_like(value):
        return digits(value) in phones_in_text(text)
    return bool(_text_pattern(value).search(text))


def text_replace(text: str, value: str, replacement: str | Callable[[str], str]) -> str:
    """Replace every occurrence of `value` in `text` (same rules as `text_contains`)."""
    if not text or not value.strip():
        return text

    def repl(m: re.Match[str]) -> str:
        return replacement(m.group(0)) if callable(replacement) else replacement

    if is_phone_like(value):
        want = digits(value)

        def phone_repl(m: re.Match[str]) -> str:
            return repl(m) if digits(m.group(0)) == want else m.group(0)

        return _PHONE_IN_TEXT.sub(phone_repl, text)
    return _text_pattern(value).sub(repl, text)


def anonymised(value: str) -> str:
    """The stable token that replaces an erased value (same input, same token, no way back)."""
    key = digits(value) if is_phone_like(value) else value.strip().lower()
    return "anon-" + hashlib.sha256(key.encode()).hexdigest()[:12]
