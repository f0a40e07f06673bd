"""The detectors' cheap per-message gates skip only work that would have found nothing; faster scans read the same.

Each gate is checked against the ungated scan over a few hundred generated messages built from
the pieces the gated patterns look for (dates, times, amounts, versions, ZIP+4 codes, currency
words in any case, non-ASCII look-alikes such as the long s that matches "s" case-insensitively).
"""

from __future__ import annotations

import random
import re

from shared.pii import context, detectors

_PIECES = (
    "2024-03-15", "15/03/2024", "3.4.2024", "14:30", "09:15:22", "€12.50", "$ 1,200", "1 200 EUR", "12 euros",
    "Rs. 4,500", "R$ 300", "USD 99", "45 cents", "version 1.2.3", "v2.0.1", "build 10.4.1", "CA 94105-1234",
    "0161 496 0000", "+44 20 7946 0958", "06 12 34 56 78", "202.555.0143", "555-0134", "order 48213377", "call me",
    "Recent", "PERCENT", "Europe", "yours", "hours", "franco", "Pounds", "DOLLAR", "r\u017f 12", "R\u017f. 4,500", "\u017fent",
    "電話 090-1234-5678", "Zoë", "-", "/", ".", ":", ",", " ", "  ", "and", "the", "4111 1111 1111 1111", "12",
)


def _messages(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 9))) for _ in range(count)]


def _ungated_blockers(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Every blocker pattern run over the window, whatever the text holds."""
    spans = [m.span() for m in detectors._DATES.finditer(text, start, end)]
    spans += [m.span() for m in detectors._TIMES.finditer(text, start, end)]
    spans += [m.span() for m in detectors._AMOUNTS.finditer(text, start, end)]
    spans += [m.span() for m in detectors._VERSIONS.finditer(text, start, end)]
    spans += [m.span(1) for m in detectors._ZIP_PLUS_FOUR.finditer(text, start, end)]
    return sorted(spans)


def test_blocker_gates_skip_only_windows_without_blockers() -> None:
    windows = 0
    blocked = 0
    for text in _messages(600, 20):
        gates = detectors._BlockerGates(text)
        # The phone finder's windows (16 characters either side of each candidate), and the whole text.
        bounds = [(max(0, m.start() - 16), min(len(text), m.end() + 16)) for m in detectors._PHONE_CAND.finditer(text)]
        for start, end in [*bounds, (0, len(text))]:
            expected = _ungated_blockers(text, start, end)
            assert sorted(detectors._blockers_in(text, start, end, gates)) == expected, (text, start, end)
            windows += 1
            blocked += bool(expected)
    assert windows > 1000 and blocked > 300  # the messages do exercise every gate


# The amount pattern as it was written before its digit run was made possessive (a faster scan).
_AMOUNTS_BACKTRACKING = re.compile(
    r"(?:[€$£¥₹]|\b(?:EUR|USD|GBP|CHF|AUD|BRL|INR|CAD)\b|R\$|\bRs\.?)[ \u00a0]?\d[\d .,'\u00a0\u202f]*\d"
    r"|(?<![\d.,])\d[\d .,'\u00a0\u202f]*\d[ \u00a0]?(?:[€$£¥₹]|(?i:EUR|USD|GBP|CHF|AUD|BRL|INR|CAD|euros?|dollars?|pounds?"
    r"|reais|rupees|francs?|cents?)\b)"
)
_AMOUNT_PIECES = (
    *"0123 .,'\u00a0\u202f€$£RsEUD", "EUR", "USD", " euro", "euros", "Rs.", "R$", "cent", "cents", "Dollars", "$", "12", "1 ",
)


def test_amounts_scan_finds_what_the_backtracking_pattern_found() -> None:
    rng = random.Random(7)
    texts = ["".join(rng.choice(_AMOUNT_PIECES) for _ in range(rng.randint(1, 20))) for _ in range(20000)]
    texts += _messages(600, 21)
    found = 0
    for text in texts:
        expected = [m.span() for m in _AMOUNTS_BACKTRACKING.finditer(text)]
        assert [m.span() for m in detectors._AMOUNTS.finditer(text)] == expected, text
        found += bool(expected)
    assert found > 3000  # amounts of every shape were there to find


def test_currency_words_match_case_insensitively_outside_ascii() -> None:
    # U+017F (long s) matches "s" in a case-insensitive pattern: non-ASCII text keeps the pattern itself.
    text = "paid R\u017f. 4,500 then 0161 496 0000"
    gates = detectors._BlockerGates(text)
    assert gates.currency(text, 0, len(text))
    assert detectors._blockers_in(text, 0, len(text), gates) == _ungated_blockers(text, 0, len(text))


def _words_before_reference(text: str, start: int, count: int) -> list[str]:
    """``context.words_before`` as first written (each character test repeated): the behaviour to keep."""
    separators = frozenset(" \t\u00a0\u3000:.-,()'\"&")
    words: list[str] = []
    index = start
    while len(words) < count and index > 0:
        while index > 0 and text[index - 1] in separators:
            index -= 1
        if index > 0 and text[index - 1] == "#":
            words.append("#")
            index -= 1
            continue
        word_end = index
        while index > 0 and (text[index - 1].isalpha() or text[index - 1] in "°º"):
            index -= 1
        if index == word_end:
            break
        words.append(text[index:word_end].lower())
    return words


def test_words_before_reads_what_it_always_read() -> None:
    rng = random.Random(7)
    alphabet = ["call", "Tel", "n°", "nº", "#", " ", "  ", ":", "-", ".", ",", "(", "'", "&", "7", "_", "/", "é", "電", "\u00a0"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        for start in range(len(text) + 1):
            count = rng.randint(1, 8)
            assert context.words_before(text, start, count) == _words_before_reference(text, start, count), (text, start)
