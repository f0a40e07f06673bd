"""The detection engine: all detectors, one pass each, overlaps resolved, spans typed.

``PiiEngine.find`` answers *where* personal data is; ``redact`` replaces each finding with a
token naming its type (``<EMAIL>``, ``<PHONE>``...). ``scrub`` is the one-call form for log lines
and error texts. The engine holds no per-call state and compiles nothing per call; one instance
serves every thread.
"""

from __future__ import annotations

import re
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
_ASCII_DIGIT_BYTES: Final = b"0123456789"
# The text's UTF-8 bytes as the gates read them: ASCII digits "0", ASCII letters "a", the rest as they are.
_SHAPE: Final = bytes(
    48 if 48 <= byte <= 57 else 97 if 65 <= byte <= 90 or 97 <= byte <= 122 else byte for byte in range(256)
)
# What the card and SSN patterns allow between digits (" ", "-", ".", ", ", U+00A0 as its two bytes).
_DIGIT_SEPARATORS: Final = b" -.,\xc2\xa0"
# A decimal digit of another script: ``\d`` matches it, the byte gates do not see it.
_OTHER_DECIMAL: Final = re.compile(r"[^\D0-9]")
_SPOKEN_KINDS: Final[dict[str, EntityType]] = {"PHONE": PHONE, "CREDIT_CARD": CREDIT_CARD, "US_SSN": US_SSN}

Found = tuple[int, int, EntityType]


def _ssn_shaped(shape: bytes) -> bool:
    """What the written SSN pattern needs: nine digits together, or 3-2-4 with one separator twice."""
    return b"000000000" in shape or b"000-00-0000" in shape or b"000 00 0000" in shape or b"000.00.0000" in shape


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


class PiiEngine:
    """Finds emails, phone numbers, payment cards, IBANs, IP addresses, US SSNs and a subject's data."""

    def __init__(self, *, default_regions: Sequence[str] = DEFAULT_REGIONS) -> None:
        self.default_regions = tuple(default_regions)
        self._phones = detectors.PhoneFinder(self.default_regions)

    def warm(self) -> None:
        """Compile now what the first phone number would compile (for a timed run; never needed otherwise)."""
        self._phones.warm()

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
        if "@" in text:
            for s, e in detectors.find_emails(text):
                found.append((s, e, EMAIL))
        lowered = text.lower()
        words = lowered.split()  # read by both spoken gates
        if detectors.may_hold_spoken_email(lowered, words):
            for s, e in detectors.find_spoken_emails(text):
                found.append((s, e, EMAIL))
        # Cheap gates: each detector needs at least this many ASCII digits in the text. Counted on
        # the UTF-8 bytes (one C call; no other character's bytes fall in "0"-"9").
        raw = text.encode("utf-8", "surrogatepass")
        digits = len(raw) - len(raw.translate(None, _ASCII_DIGIT_BYTES))
        if digits >= 4:
            # Shapes that failed their checksum (a mistyped IBAN or card) are no one's phone number.
            rejected: list[tuple[int, int]] = []
            # What the IBAN, card, SSN and IPv4 patterns need somewhere, looked for with byte searches
            # instead of a scan each. Their ``\d`` also matches other scripts' digits: a text holding
            # one (the matching copy turns the common ones to ASCII) is scanned whatever it holds.
            shape = raw.translate(_SHAPE)
            unusual_digits = not text.isascii() and _OTHER_DECIMAL.search(text) is not None
            if len(text) >= 15 and (unusual_digits or b"aa00" in shape):  # two letters, two digits
                for s, e in detectors.find_ibans(text, rejected):
                    found.append((s, e, IBAN))
            if digits >= 9:
                # The separators the card and SSN patterns allow dropped: a candidate's digits stand together.
                compact = raw.translate(_SHAPE, _DIGIT_SEPARATORS)
                if digits >= 12 and (unusual_digits or b"000000000000" in compact):
                    for s, e in detectors.find_cards(text, rejected):
                        clear = True
                        for r_start, r_end in rejected:
                            if s < r_end and r_start < e:
                                clear = False
                                break
                        if clear:
                            found.append((s, e, CREDIT_CARD))
                if unusual_digits or (
                    b"000000000" in compact and (_ssn_shaped(shape) or detectors.ssn_hinted(lowered))
                ):
                    for s, e in detectors.find_us_ssns(text, lowered):
                        found.append((s, e, US_SSN))
            # IPv4 needs a digit before a dot three times; IPv6 what find_ip_addresses asks of it.
            if unusual_digits or shape.count(b"0.") >= 3 or "::" in text or text.count(":") >= 4:
                for s, e in detectors.find_ip_addresses(text):
                    found.append((s, e, IP_ADDRESS))
            # Not the subject's spans: a subject's number inside a longer one ("1 - 2 - 0 - 1 - ..." read back)
            # must not cut the rest off; the subject's span grows over the whole number (_resolve).
            taken: list[tuple[int, int]] = []
            for s, e, kind in found:
                if kind != SUBJECT:
                    taken.append((s, e))
            taken += rejected
            if digits >= 7:
                for s, e in self._phones.find(text, taken, shaped):
                    found.append((s, e, PHONE))
            # Four to six read back one at a time, five or six written.
            short = detectors.find_short_numbers(text, lowered, taken)
            for s, e in short:
                found.append((s, e, PHONE))
            shaped += short
        if spoken.may_hold_spoken_number(lowered, words):
            for start, end, said, validated in detectors.find_spoken(text, self._phones):
                found.append((start, end, _SPOKEN_KINDS[said]))
                if not validated:
                    shaped.append((start, end))
        if not found:
            return []
        if len(found) == 1:
            start, end, kind = found[0]
            return [Entity(kind, start, end, validated=not (kind == PHONE and (start, end) in shaped))]
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
    so an encoded address or ``%2B44...`` number is found like a plain one; encoded twice or more
    (``jane%2540example.com``, a URL inside a URL) it is decoded until it stops changing (at most four times).
    """
    if not text:
        return text
    for _ in range(4):
        if "%" not in text:
            break
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return default_engine().redact(text)[0]
