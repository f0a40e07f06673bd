"""The redaction benchmark's scoring and leak count, and the second corpus's split and labels."""

from __future__ import annotations

import itertools
import re

import phonenumbers
import pytest

pytest.importorskip("presidio_analyzer")
pytest.importorskip("faker")

from bench import _redaction_corpus_independent as independent
from bench import redaction
from bench._independent_phones import example_numbers
from bench._redaction_corpus import Message, generate


def test_scoring_is_overlap_based():
    corpus = [Message("a jane@example.com b", "en", [("EMAIL", 2, 18)])]
    assert redaction.score(corpus, [[("EMAIL", 0, 10)]], ["EMAIL"])["EMAIL"] == {
        "precision": 1.0, "recall": 1.0, "tp": 1, "fp": 0, "fn": 0, "support": 1, "predicted": 1,
    }
    wrong_type = redaction.score(corpus, [[("PHONE", 2, 18)]], ["EMAIL", "PHONE"])
    assert wrong_type["EMAIL"]["fn"] == 1
    assert wrong_type["PHONE"]["fp"] == 1


def test_a_value_is_leaked_when_any_letter_or_digit_stays_in_clear():
    text = "call +44 20 7946 0321 or mail jo@example.com now"
    corpus = [Message(text, "en", [("PHONE", 5, 21), ("EMAIL", 30, 44)])]
    # The phone masked from "44" on (the "+" alone is no leak) under another type; the email not at all.
    found = redaction.leaks(corpus, [[("IP_ADDRESS", 6, 21)]], ["PHONE", "EMAIL"])
    assert (found["count"], found["whole"], found["partial"], found["by_type"]) == (1, 1, 0, {"EMAIL": 1})
    # Half the phone masked: a leak in part.
    found = redaction.leaks(corpus, [[("PHONE", 5, 12), ("EMAIL", 30, 44)]], ["PHONE", "EMAIL"])
    assert (found["count"], found["partial"], found["by_type"]) == (1, 1, {"PHONE": 1})
    assert redaction.leaks(corpus, [[("PHONE", 5, 21), ("EMAIL", 30, 44)]], ["PHONE", "EMAIL"])["count"] == 0


def test_leak_examples_show_type_length_and_shape_never_the_value():
    text = "mail jo@example.com now"
    corpus = [Message(text, "en", [("EMAIL", 5, 19)])]
    (example,) = redaction.leaks(corpus, [[]], ["EMAIL"])["examples"]
    assert example["type"] == "EMAIL" and example["length"] == 14
    assert example["shape"] == "aa@aaaaaaa.aaa"
    assert "jo@example.com" not in str(example)


def test_the_generated_corpus_is_deterministic_and_labelled_exactly():
    first, second = generate(200, seed=7), generate(200, seed=7)
    assert [m.text for m in first] == [m.text for m in second]
    for message in first:
        for _, start, end in message.entities:
            span = message.text[start:end]
            assert span and span == span.strip()


def test_the_independent_corpus_is_deterministic_and_a_prefix_of_a_longer_one():
    short, again, longer = independent.generate(150, seed=3), independent.generate(150, seed=3), independent.generate(300, 3)
    assert [(m.text, m.entities) for m in short] == [(m.text, m.entities) for m in again]
    assert [m.text for m in short] == [m.text for m in longer[:150]]
    assert [m.text for m in independent.generate(150, seed=4)] != [m.text for m in short]


def test_the_split_is_by_conversation_and_does_not_depend_on_the_seed():
    halves: dict[int, set[str]] = {}
    for seed in (1, 2):
        for message in independent.generate(600, seed):
            halves.setdefault(message.conversation, set()).add(message.half)
            assert message.half == independent.half_of(message.conversation)
    assert all(len(h) == 1 for h in halves.values())  # a conversation is never split
    tests = sum(1 for h in halves.values() if h == {"test"})
    assert 0.3 < tests / len(halves) < 0.7
    messages = independent.generate(600, 1)
    test, dev = independent.in_half(messages, "test"), independent.in_half(messages, "dev")
    assert len(test) + len(dev) == len(messages) and test and dev
    assert not {m.conversation for m in test} & {m.conversation for m in dev}


def test_every_example_number_of_every_region_is_in_the_pool():
    regions = {region for region, _, _ in example_numbers()}
    assert regions == set(phonenumbers.SUPPORTED_REGIONS)


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def test_independent_labels_are_exact_spans_of_what_they_name():
    messages = independent.generate(1500, seed=11)
    seen = set()
    for message in messages:
        spans = sorted(message.entities, key=lambda e: e[1])
        for (_, _, end), (_, start, _) in itertools.pairwise(spans):
            assert end <= start, message.text  # no two labels overlap
        for (kind, start, end), tag in zip(message.entities, message.tags, strict=True):
            span = message.text[start:end]
            assert span and span == span.strip(), (span, message.text)
            seen.add(kind)
            if kind == "PHONE" and not tag.endswith(("spoken_en", "spoken_de", "spoken_fr", "spoken_es", "readback")):
                region = tag.split("/")[0]
                # The span is the whole number, digits and all ("00" is the IDD prefix wherever it was written).
                number = phonenumbers.parse("+" + span[2:] if tag.endswith("intl_00") else span, region)
                assert number.country_code == phonenumbers.country_code_for_region(region), (span, tag)
                assert len(re.sub(r"\D", "", phonenumbers.normalize_digits_only(span))) >= 7, (span, tag)
            elif kind == "CREDIT_CARD" and tag.split("/")[1] != "spoken":
                assert _luhn(re.sub(r"\D", "", span)), span
            elif kind == "IBAN":
                compact = span.replace(" ", "")
                assert len(compact) == independent.IBAN_LENGTHS[compact[:2]], span
                assert int("".join(str(int(c, 36)) for c in compact[4:] + compact[:4])) % 97 == 1, span
            elif kind == "EMAIL" and tag in ("plain", "upper", "spaced"):
                assert span.count("@") == 1
    assert seen == set(redaction.ENTITY_TYPES)
