"""Values from outside the code (tickets, reasons typed in the console, platform ids, anything read from
Redis) as the CLI prints them: as text, whatever they hold.

rich reads ``[...]`` as markup (a ``[/b]`` in a ticket made ``erasure status`` fail with MarkupError, a
``[link=...]`` made a hyperlink), and neither rich nor ``print`` stops control characters: ESC, C1 and bidi
controls would clear the screen, set the title, add hyperlinks or reorder what the operator reads. Every
value the CLI did not write itself goes through one of these before it is printed.
"""

from __future__ import annotations

import unicodedata
from typing import Final

from rich.markup import escape
from rich.text import Text

#: Shown as an escape instead of passed to the terminal: controls (C0, DEL, C1), format characters (bidi
#: overrides and isolates, zero-width characters), lone surrogates (they cannot even be encoded), and the
#: line and paragraph separators.
_SHOWN_ESCAPED: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: object) -> str:
    """``value`` as text with every control or format character shown as its escape (ESC as ``\\x1b``,
    U+202E as ``\\u202e``): for plain ``print``, and under ``markup`` and ``cell``."""
    text = str(value)
    if text.isprintable():  # the usual case: nothing to escape
        return text
    return "".join(_escaped(c) if unicodedata.category(c) in _SHOWN_ESCAPED else c for c in text)


def markup(value: object) -> str:
    """``value`` for a rich format string (``err.print(f"[red]refused[/red] {markup(x)}")``): visible, and
    its brackets escaped so rich shows them instead of reading them as tags."""
    return escape(visible(value))


def cell(value: object) -> Text:
    """``value`` as a table cell: rich ``Text``, never parsed as markup or emoji codes."""
    return Text(visible(value))
