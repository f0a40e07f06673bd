"""Text from outside (typed in the console, sent by the platform, written in Redis) reaches an operator's
terminal as text: never as rich markup, never as a control sequence the terminal would act on; and free text
is kept on one line, without control characters, where a person types it (``shared.free_text``)."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console
from rich.table import Table

from services.terminal_text import cell, markup, visible
from shared.free_text import one_line


def rendered(*renderables: object) -> str:
    """What a colour terminal is sent, less the console's own colour codes (SGR): any other escape stays."""
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=200, color_system="standard", highlight=False)
    for item in renderables:
        console.print(item)
    return re.sub(r"\x1b\[[0-9;]*m", "", buf.getvalue())


def test_plain_text_is_unchanged():
    assert visible("T-1 litigation 42, Art. 17(3)(e) — é ✓") == "T-1 litigation 42, Art. 17(3)(e) — é ✓"


@pytest.mark.parametrize(("raw", "shown"), [
    ("a\x1b[2Jb", "a\\x1b[2Jb"),            # C0: ESC (clear screen)
    ("a\rb\nc\td\x00", "a\\x0db\\x0ac\\x09d\\x00"),  # C0: carriage return, newline, tab, NUL
    ("a\x7fb", "a\\x7fb"),                   # DEL
    ("a\x9b2Jb", "a\\x9b2Jb"),              # C1: CSI in one byte
    ("a\x9d0;t\x9cb", "a\\x9d0;t\\x9cb"),   # C1: OSC ... ST
    ("a\u202eb\u202ac", "a\\u202eb\\u202ac"),  # bidi override and its pop
    ("a\u2066b\u2069c", "a\\u2066b\\u2069c"),  # bidi isolates
    ("a\u200bb", "a\\u200bb"),              # zero width space (Cf)
    ("a\u2028b", "a\\u2028b"),              # line separator
    ("a\ud800b", "a\\ud800b"),              # a lone surrogate would not even encode to stdout
])
def test_control_characters_are_shown_not_acted_on(raw, shown):
    assert visible(raw) == shown


def test_markup_is_text():
    assert rendered(f"[red]refused[/red] {markup('T-2[/b]')}").endswith("T-2[/b]\n")  # no MarkupError
    link = rendered(markup("[link=https://evil.example]case file[/link]"))
    assert "\x1b]8" not in link and "[link=https://evil.example]case file[/link]" in link
    # a value ending in a backslash does not escape the tag after it
    ending = markup("backslash \\")
    assert rendered(f"[red]{ending}[/red] after").endswith("backslash \\ after\n")


def test_a_cell_is_text_with_its_controls_shown():
    table = Table("reason")
    table.add_row(cell("litigation \x1b[2J\x1b]0;PWNED\x1b\\ [link=https://evil.example]case[/link] [/b]"))
    out = rendered(table)
    assert "\x1b[2J" not in out and "\x1b]0;" not in out and "\x1b]8" not in out
    assert "\\x1b[2J" in out and "[link=https://evil.example]case[/link] [/b]" in out


def test_non_text_values_are_shown_too():
    assert visible(None) == "None" and visible(3) == "3" and markup(["[b]"]) == "['\\[b]']"


@pytest.mark.parametrize(("typed", "kept"), [
    ("litigation 42", "litigation 42"),
    ("line one\nline two\r\nthree\tfour", "line one line two  three four"),  # whitespace controls: a space
    ("litigation \x1b[2J\x1b]0;PWNED\x07 x", "litigation [2J]0;PWNED x"),   # other controls: gone
    ("a\x9b2Jb", "a2Jb"),
    ("invoice \u202etxt.exe", "invoice txt.exe"),
    ("a\u200bb\u2066c\u2069", "abc"),
    ("a\u2028b", "a b"),
    ("caf\u00e9 \u00a0ok", "caf\u00e9 \u00a0ok"),  # letters and no-break spaces stay
])
def test_free_text_is_one_line_without_controls(typed, kept):
    assert one_line(typed) == kept
