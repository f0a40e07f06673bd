"""Free text a person types (a hold's reason, why a request is rejected) as it may be kept: on one line and
without control characters.

It is stored, hash-chained into the audit log, sent on to whoever submitted a request and printed to
operators' terminals: an escape sequence, a bidi override or a line break in it would act there instead of
reading as text. Whitespace controls (tab, line breaks, U+2028/U+2029) become a plain space, so words stay
apart; every other control, format or surrogate character is dropped, but for the zero-width
(non-)joiner, which is part of the spelling of some scripts.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from shared.models import Subject
from shared.pii.engine import default_engine
from shared.pii.entities import SUBJECT
from shared.pii.subject import KnownSubject

SUBJECT_TOKEN: Final = f"<{SUBJECT}>"

#: Characters that separate words: each becomes one plain space.
_SPACES: Final = frozenset("\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u2028\u2029")
#: Unicode categories dropped: controls (C0, DEL, C1), format characters (bidi overrides and isolates,
#: zero-width characters) and lone surrogates.
_DROPPED: Final = frozenset({"Cc", "Cf", "Cs"})
#: Format characters kept: the zero-width non-joiner and joiner are part of how Persian, Indic scripts and
#: emoji sequences are written, and move nothing on a terminal.
_KEPT: Final = frozenset("\u200c\u200d")


def one_line(text: str) -> str:
    """``text`` with whitespace controls as spaces and other control and format characters removed."""
    if text.isprintable():  # the usual case: nothing to do
        return text
    return "".join(" " if c in _SPACES else "" if unicodedata.category(c) in _DROPPED and c not in _KEPT else c
                   for c in text)


#: A name's words this short ("Li", "Ng") are left to the whole-name match: alone they are too often other words.
_MIN_NAME_WORD = 3


def without_the_subject(text: str, identity: Subject) -> str:
    """``text`` (a reason a person typed) with the subject's own identifiers masked, names included, and each
    word of their names on its own too, in any case ("Marlowe v ACME", "R v MARLOWE").

    The transcript engine masks a name only whole, so that a surname which is also an ordinary word is not
    masked all over a transcript; a reason about one subject is short and kept after their record is scrubbed
    (its certificate, the request's reason), so here a surname alone is masked as well."""
    known = KnownSubject(emails=identity.emails, phones=identity.phones, names=identity.names)
    masked = default_engine().redact(text, known)[0]
    words = {w for name in identity.names for w in re.findall(r"\w+", name) if len(w) >= _MIN_NAME_WORD}
    if not words:
        return masked
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\b",
                         re.IGNORECASE)
    return pattern.sub(SUBJECT_TOKEN, masked)
