"""The detection engine: all detectors, one pass each, overlaps resolved, spans typed.

``PiiEngine.find`` answers *where* personal data is; ``redact`` replaces each finding with a
token naming its type (``<EMAIL>``, ``<PHONE>``...). ``scrub`` is the one-call form for log lines
and error texts. The engine holds no per-call state and compiles nothing per call; one instance
serves every thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Final
from urllib.parse import unquote

from shared.pii import detectors, spoken
from shared.pii.entities import (
    CREDIT_CARD,
    EMAIL,
    IBAN,
    IP_ADDRESS,
    PHONE,
    SUBJECT,
    US_SSN,
    Entity,
    EntityType,
)
from shared.pii.normalise import matching_copy
from shared.pii.subject import KnownSubject

DEFAULT_REGIONS: Final[tuple[str, ...]] = ("GB", "US", "DE", "FR", "ES", "IT", "NL", "IE", "AU", "IN", "BR")

# Which finding wins when two overlap. A subject's identifier absorbs anything it touches.
_PRIORITY: Final[dict[EntityType, int]] = {
    SUBJECT: 100,
    EMAIL: 90,
    IBAN: 85,
    CREDIT_CARD: 80,
    US_SSN: 70,
    IP_ADDRESS: 60,
    PHONE: 50,
}
_ASCII_DIGITS: Final = "0123456789"
_SPOKEN_KINDS: Final[dict[str, EntityType]] = {"PHONE": PHONE, "CREDIT_CARD": CREDIT_CARD, "US_SSN": US_SSN}

Found = tuple[int, int, EntityType]


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


class PiiEngine:
    """Finds emails, phone numbers, payment cards, IBANs, IP addresses, US SSNs and a subject's data."""

    def __init__(self, *, default_regions: Sequence[str] = DEFAULT_REGIONS) -> None:
        self.default_regions = tuple(default_regions)
        self._phones = detectors.PhoneFinder(self.default_regions)

    def find(self, text: str, subject: KnownSubject | None = None) -> list[Entity]:
        """Non-overlapping findings sorted by position; offsets index into ``text``.

        The detectors read :func:`~shared.pii.normalise.matching_copy` of ``text`` (full-width
        digits made ASCII, CJK letters made spaces; same length), so the spans they return mask the
        original characters.
        """
        if not text:
            return []
        original = text
        text = matching_copy(text)
        found: list[Found] = []
        if subject is not None:
            found += [(s, e, SUBJECT) for s, e in subject.find(original)]
            if text is not original:
                found += [(s, e, SUBJECT) for s, e in subject.find(text)]
        # Phone numbers the numbering plan rejects, masked on their shape and context alone.
        shaped: list[tuple[int, int]] = []
        found += [(s, e, EMAIL) for s, e in detectors.find_emails(text)]
        lowered = text.lower()
        if detectors.may_hold_spoken_email(lowered):
            found += [(s, e, EMAIL) for s, e in detectors.find_spoken_emails(text)]
        # Cheap gates: each detector needs at least this many ASCII digits in the text.
        digits = sum(map(text.count, _ASCII_DIGITS))
        if digits >= 4:
            # Shapes that failed their checksum (a mistyped IBAN or card) are no one's phone number.
            rejected: list[tuple[int, int]] = []
            if len(text) >= 15:
                found += [(s, e, IBAN) for s, e in detectors.find_ibans(text, rejected)]
            if digits >= 12:
                found += [
                    (s, e, CREDIT_CARD)
                    for s, e in detectors.find_cards(text, rejected)
                    if not any(s < r_end and r_start < e for r_start, r_end in rejected)
                ]
            if digits >= 9:
                found += [(s, e, US_SSN) for s, e in detectors.find_us_ssns(text, lowered)]
            found += [(s, e, IP_ADDRESS) for s, e in detectors.find_ip_addresses(text)]
            # Not the subject's spans: a subject's number inside a longer one ("1 - 2 - 0 - 1 - ..." read back)
            # must not cut the rest off; the subject's span grows over the whole number (_resolve).
            taken = [(s, e) for s, e, kind in found if kind != SUBJECT] + rejected
            if digits >= 7:
                found += [(s, e, PHONE) for s, e in self._phones.find(text, taken, shaped)]
            if digits >= 4:  # four to six read back one at a time, five or six written
                short = detectors.find_short_numbers(text, lowered, taken)
                found += [(s, e, PHONE) for s, e in short]
                shaped += short
        if spoken.may_hold_spoken_number(lowered):
            for start, end, kind, validated in detectors.find_spoken(text, self._phones):
                found.append((start, end, _SPOKEN_KINDS[kind]))
                if not validated:
                    shaped.append((start, end))
        unvalidated = set(shaped)
        return [
            Entity(kind, start, end, validated=not (kind == PHONE and (start, end) in unvalidated))
            for start, end, kind in _resolve(found, text)
        ]

    def redact(self, text: str, subject: KnownSubject | None = None) -> tuple[str, list[Entity]]:
        """``text`` with every finding replaced by its token, and the findings (offsets into ``text``)."""
        entities = self.find(text, subject)
        if not entities:
            return text, entities
        parts: list[str] = []
        cursor = 0
        for entity in entities:
            parts.append(text[cursor : entity.start])
            parts.append(entity.token())
            cursor = entity.end
        parts.append(text[cursor:])
        return "".join(parts), entities


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _resolve(found: list[Found], text: str) -> list[Found]:
    """Keep the strongest of overlapping findings; a subject's span grows over what it touches."""
    if len(found) <= 1:
        return found
    generic = [f for f in found if f[2] != SUBJECT]
    subjects = _merge([(s, e) for s, e, kind in found if kind == SUBJECT])
    while subjects:
        grown = _merge(subjects + [(s, e) for s, e, _ in generic if any(_overlaps(s, e, a, b) for a, b in subjects)])
        if grown == subjects:
            break
        subjects = grown
    result: list[Found] = [(s, e, _grown_kind(text, s, e, found)) for s, e in subjects]
    accepted: list[Found] = []
    for start, end, kind in sorted(generic, key=lambda f: (-_PRIORITY[f[2]], f[0] - f[1], f[0])):
        if any(_overlaps(start, end, s, e) for s, e, _ in result) or any(_overlaps(start, end, s, e) for s, e, _ in accepted):
            continue
        accepted.append((start, end, kind))
    return sorted(result + accepted)


def _grown_kind(text: str, start: int, end: int, found: list[Found]) -> EntityType:
    """SUBJECT, unless the span is a longer phone number that merely holds the subject's digits.

    "je répète, 0-9-6-1-2-..." holding the subject's "6 12 34 56 78" is another number read back:
    masked whole, as a phone number, not as the subject's own value.
    """
    inner = [(s, e) for s, e, kind in found if kind == SUBJECT and start <= s and e <= end]
    if not inner or any(s == start and e == end for s, e in inner):
        return SUBJECT
    if not any(s == start and e == end and kind == PHONE for s, e, kind in found):
        return SUBJECT
    # More digits than the subject's: not "(+44) 020 ..." around the subject's "+44) 020 ...".
    subject_digits = max(sum(map(str.isdigit, text[s:e])) for s, e in inner)
    return PHONE if sum(map(str.isdigit, text[start:end])) > subject_digits else SUBJECT


@lru_cache(maxsize=1)
def default_engine() -> PiiEngine:
    """The process-wide engine with the default phone regions."""
    return PiiEngine()


def scrub(text: str) -> str:
    """``text`` with personal data replaced by type tokens (default engine, no subject).

    Percent-encoded text (a URL's query string: ``searchValue=jane%40example.com``) is decoded first,
    so an encoded address or ``%2B44...`` number is found like a plain one.
    """
    if not text:
        return text
    if "%" in text:
        text = unquote(text)
    return default_engine().redact(text)[0]
