"""Masking personal data in text this system writes (logs, audit details, errors).

A first, deliberately simple engine: emails, phone-like digit runs and the subject's known
values. The full detector set (cards, IBANs, validated phones, spellings) replaces it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# A + and 8+ digits, or 9+ digits with common separators: catches E.164 and most typed numbers.
_PHONE = re.compile(r"(?:\+|\b)\d(?:[\s().\-]?\d){7,14}\b")


def find_emails(text: str) -> list[str]:
    return [m.group(0).lower() for m in _EMAIL.finditer(text)]


def scrub_text(text: str, known_values: Iterable[str] = ()) -> str:
    """Replace personal data with a token naming its type."""
    for value in sorted((v for v in known_values if v), key=len, reverse=True):
        text = re.sub(re.escape(value), "<SUBJECT>", text, flags=re.IGNORECASE)
    text = _EMAIL.sub("<EMAIL>", text)
    return _PHONE.sub("<PHONE>", text)
