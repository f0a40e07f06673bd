"""Which records may hold a value: an inverted index that narrows every search to a few candidates.

The matching rules (`matching`) stay the single definition of "holds": the index only has to return a
*superset* of the records that match, and callers check each candidate with the real rule. That keeps it
simple and safe under change:

* keys: a phone-like value is looked up as "tel:" + its digits; any other value as the words (``\\w+`` runs)
  of its normalised form. A record is filed under the words of every string it holds, under "tel:" + digits
  of every phone-like string, and under every phone number found inside its texts. Whole-value equality,
  word-bounded text containment and the analytics address-part rule all imply that every key of the value
  is a key of the record, so intersecting the postings of the value's keys never loses a match.
* add-only: when a record changes, its new strings are filed as well; stale postings just yield candidates
  that fail the check.
* common keys: a key filed under more than `cap` records ("example", "tel:" + the org's own number, words
  of the message templates) stops being tracked; a value made only of common keys answers None, which
  means "cannot narrow: check everything" (correct, just slower).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .matching import _PHONE_IN_TEXT, digits, is_phone_like, normalized

_WORD = re.compile(r"\w+")
_DIGIT = re.compile(r"\d")
_CACHE_MAX = 100_000
_phone_like = is_phone_like.__wrapped__  # uncached: building the index must not flush the runtime caches


def value_keys(value: str) -> list[str] | None:
    """The keys every holder of `value` is filed under; None when the value has none (cannot narrow)."""
    if not value or not value.strip():
        return None
    if is_phone_like(value):
        return ["tel:" + digits(value)]
    return _WORD.findall(normalized(value)) or None


def stored_keys(text: str, out: set[str]) -> None:
    """Add the keys a record holding `text` is filed under to `out`."""
    out.update(_WORD.findall(text.lower()))
    if _DIGIT.search(text):
        if _phone_like(text):
            out.add("tel:" + digits(text))
        for m in _PHONE_IN_TEXT.finditer(text):
            out.add("tel:" + digits(m.group(0)))


class ValueIndex:
    """Key -> ids of the records filed under it (one index per kind of record)."""

    def __init__(self, cap: int = 5000) -> None:
        self.cap = cap
        self.postings: dict[str, set[str]] = {}
        self.common: set[str] = set()
        self._cache: dict[str, frozenset[str]] = {}

    def add(self, doc_id: str, fields: Iterable[str | None], texts: Iterable[str | None] = ()) -> None:
        """File `doc_id` under the keys of every string it holds.

        `fields` are short values that repeat across records (addresses, names, ids): their keys are cached.
        `texts` are free texts, tokenised each time.
        """
        keys: set[str] = set()
        cache = self._cache
        for text in set(fields):
            if not text:
                continue
            found = cache.get(text)
            if found is None:
                fresh: set[str] = set()
                stored_keys(text, fresh)
                found = frozenset(fresh)
                if len(cache) >= _CACHE_MAX:
                    cache.clear()
                cache[text] = found
            keys |= found
        for text in texts:
            if text:
                stored_keys(text, keys)
        keys -= self.common
        postings, cap = self.postings, self.cap
        for key in keys:
            posting = postings.get(key)
            if posting is None:
                postings[key] = {doc_id}
                continue
            posting.add(doc_id)
            if len(posting) > cap:
                del postings[key]
                self.common.add(key)

    def candidates(self, value: str) -> set[str] | None:
        """Ids of every record that may hold `value` (a superset), or None when the index cannot narrow."""
        keys = value_keys(value)
        if not keys:
            return None
        tracked = [k for k in dict.fromkeys(keys) if k not in self.common]
        if not tracked:
            return None
        sets = []
        for key in tracked:
            posting = self.postings.get(key)
            if not posting:
                return set()
            sets.append(posting)
        sets.sort(key=len)
        out = set(sets[0])
        for other in sets[1:]:
            out &= other
            if not out:
                break
        return out

    def candidates_any(self, values: Iterable[str]) -> set[str] | None:
        """Union of `candidates` over several values; None as soon as one of them cannot be narrowed."""
        out: set[str] = set()
        for value in values:
            found = self.candidates(value)
            if found is None:
                return None
            out |= found
        return out
