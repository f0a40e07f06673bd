"""Free text a person types (a hold's reason, why a request is rejected) as it may be kept: on one line and
without control characters.

It is stored, hash-chained into the audit log, sent on to whoever submitted a request and printed to
operators' terminals: an escape sequence, a bidi override or a line break in it would act there instead of
reading as text. Whitespace controls (tab, line breaks, U+2028/U+2029) become a plain space, so words stay
apart; every other control, format or surrogate character is dropped.
"""

from __future__ import annotations

import unicodedata
from typing import Final

#: Characters that separate words: each becomes one plain space.
_SPACES: Final = frozenset("\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u2028\u2029")
#: Unicode categories dropped: controls (C0, DEL, C1), format characters (bidi overrides and isolates,
#: zero-width characters) and lone surrogates.
_DROPPED: Final = frozenset({"Cc", "Cf", "Cs"})


def one_line(text: str) -> str:
    """``text`` with whitespace controls as spaces and other control and format characters removed."""
    if text.isprintable():  # the usual case: nothing to do
        return text
    return "".join(" " if c in _SPACES else "" if unicodedata.category(c) in _DROPPED else c for c in text)
