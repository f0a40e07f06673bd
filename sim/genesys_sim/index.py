"""Which records may hold a value: inverted indexes that narrow every search to a few candidates.

`ExactIndex` (at the end) files records under their whole normalised values, for records matched only by
equality (contacts, subject records, users). `ValueIndex` is for conversations, whose texts are searched
for values inside them:

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
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Protocol

from .matching import _PHONE_IN_TEXT, digits, is_phone_like, normalized, strip_tel

_WORD = re.compile(r"\w+")
_DIGIT = re.compile(r"\d")
_CACHE_MAX = 200_000
_SAMPLE = 2000
# Texts without digits or "@" (agent lines, most customer lines) recur across conversations: cache them.
_PLAIN_TEXT = re.compile(r"[^\d@]{0,200}")
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
        runs = _PHONE_IN_TEXT.findall(text)
        for run in runs:
            out.add("tel:" + digits(run))
        # A phone-like text's digits are those of its one run, unless it is too short to be a run.
        if not runs and _phone_like(text):
            out.add("tel:" + digits(text))


class Narrowing(Protocol):
    def candidates(self, value: str) -> set[str] | None: ...


def union_of_candidates(index: Narrowing, values: Iterable[str]) -> set[str] | None:
    """Union of ``index.candidates`` over several values; None as soon as one of them cannot be narrowed."""
    out: set[str] = set()
    for value in values:
        found = index.candidates(value)
        if found is None:
            return None
        out |= found
    return out


class KeyCache:
    """string -> its keys, for short strings that recur (shared by the indexes of one organisation, since
    contacts, subject records and conversations hold the same addresses, numbers and ids)."""

    def __init__(self, limit: int = _CACHE_MAX) -> None:
        self.limit = limit
        self.keys: dict[str, frozenset[str]] = {}

    def get(self, text: str) -> frozenset[str]:
        found = self.keys.get(text)
        if found is None:
            fresh: set[str] = set()
            stored_keys(text, fresh)
            found = frozenset(fresh)
            if len(self.keys) >= self.limit:
                self.keys.clear()
            self.keys[text] = found
        return found


class ValueIndex:
    """Key -> ids of the records filed under it (one index per kind of record)."""

    def __init__(self, cap: int = 10_000, cache: KeyCache | None = None) -> None:
        # `cache` may be shared with other indexes and with the seed (which files what it generates).
        self.cap = cap
        self.postings: dict[str, set[str]] = {}
        self.common: set[str] = set()
        self._cache = cache or KeyCache()

    def add(self, doc_id: str, fields: Iterable[str | None], texts: Iterable[str | None] = ()) -> None:
        """File `doc_id` under the keys of every string it holds.

        `fields` are short values that repeat across records (addresses, names, ids): their keys are cached.
        `texts` are free texts, tokenised each time.
        """
        keys: set[str] = set()
        cached = self._cache.keys.get
        for text in set(fields):
            if text:
                keys |= cached(text) or self._cache.get(text)
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

    def _keys(self, fields: Iterable[str | None], texts: Iterable[str | None]) -> set[str]:
        keys: set[str] = set()
        cache = self._cache
        cached = cache.keys.get
        for text in set(fields):
            if text:
                keys |= cached(text) or cache.get(text)
        for text in texts:
            if text:
                if _PLAIN_TEXT.fullmatch(text):
                    keys |= cached(text) or cache.get(text)  # lines without digits or addresses recur
                else:
                    stored_keys(text, keys)
        return keys

    def load(self, docs: list[tuple[str, list[str], list[str]]]) -> None:
        """`add` for many (doc id, fields, texts) at once, much faster (see `load_keys`)."""
        self.load_keys([(doc_id, self._keys(fields, texts)) for doc_id, fields, texts in docs])

    def load_keys(self, docs: list[tuple[str, set[str] | frozenset[str]]]) -> None:
        """File many documents whose keys are already known (a superset of what `stored_keys` gives).

        A sample of the documents first tells which keys are so frequent they will end up common (the
        organisation's own numbers, the agents, words of message templates); marking them common up front
        (always allowed: it only gives up narrowing on them) keeps them out of the grouping.
        """
        postings, common, cap = self.postings, self.common, self.cap
        if len(docs) > cap:
            sample = docs[:: max(1, len(docs) // _SAMPLE)]
            counts: Counter[str] = Counter()
            for _, keys in sample:
                counts.update(keys)
            threshold = cap * len(sample) / len(docs)
            common.update(k for k, n in counts.items() if n > threshold)
        grouped: dict[str, list[str]] = defaultdict(list)
        for doc_id, keys in docs:
            for key in keys - common:
                ids = grouped[key]
                ids.append(doc_id)
                if len(ids) > cap:
                    common.add(key)
        for key, ids in grouped.items():
            if key in common:
                postings.pop(key, None)
                continue
            posting = postings.get(key)
            if posting is None:
                posting = postings[key] = set(ids)
            else:
                posting.update(ids)
            if len(posting) > cap:
                del postings[key]
                common.add(key)

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
        return union_of_candidates(self, values)


class ExactIndex:
    """Whole-value index: normalised value -> ids of the records holding exactly that value.

    For records that are only ever matched by whole-value equality (`matching.same_value`): external
    contacts, GDPR subject records, users, the ground truth. Exact, and far smaller than word keys.
    """

    def __init__(self, shared: dict[str, str] | None = None) -> None:
        self.postings: dict[str, set[str]] = {}
        # value -> normalised value, shared between the indexes of one organisation while they are built
        self._normal = shared if shared is not None else {}

    def load(self, docs: Iterable[tuple[str, Iterable[str | None]]]) -> None:
        grouped: dict[str, list[str]] = defaultdict(list)
        normal = self._normal
        for doc_id, strings in docs:
            keys = set()
            for s in strings:
                if s:
                    key = normal.get(s)
                    if key is None:
                        key = normal[s] = _normalized(s)
                    if key:
                        keys.add(key)
            for key in keys:
                grouped[key].append(doc_id)
        postings = self.postings
        for key, ids in grouped.items():
            posting = postings.get(key)
            if posting is None:
                postings[key] = set(ids)
            else:
                posting.update(ids)

    def add(self, doc_id: str, strings: Iterable[str | None]) -> None:
        self.load([(doc_id, strings)])

    def candidates(self, value: str) -> set[str] | None:
        if not value or not value.strip():
            return None
        return set(self.postings.get(normalized(value), ()))

    def candidates_any(self, values: Iterable[str]) -> set[str] | None:
        return union_of_candidates(self, values)


def _normalized(value: str) -> str:
    """`matching.normalized` without its cache (bulk loading must not flush it)."""
    if _phone_like(value):
        return "tel:" + digits(value)
    return strip_tel(value).strip().lower()
