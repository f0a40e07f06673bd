"""Smoke run of ``python -m bench redaction --quick``: runs, and writes the documented JSON."""

import json

import pytest

pytest.importorskip("presidio_analyzer")

from bench import redaction


def test_quick_bench_writes_the_documented_json(tmp_path):
    output = tmp_path / "redaction.json"
    assert redaction.main(["--quick", "--output", str(output)]) == 0
    report = json.loads(output.read_text())
    assert {"ours", "presidio", "corpus", "speed_ratio", "command", "machine", "targets", "scoring"} <= set(report)
    for system, types in (("ours", redaction.ENTITY_TYPES), ("presidio", [t for t in redaction.ENTITY_TYPES if t != "SUBJECT"])):
        block = report[system]
        assert block["mb_per_s"] > 0
        for t in types:
            for key in ("precision", "recall", "tp", "fp", "fn"):
                assert key in block["per_type"][t]
            assert block[t]["precision"] == block["per_type"][t]["precision"]
            assert 0 <= block[t]["recall"] <= 1
    assert "SUBJECT" not in report["presidio"]["per_type"]
    assert report["corpus"]["messages"] == redaction.QUICK_MESSAGES
    assert report["quick"] is True


def test_scoring_is_overlap_based():
    from bench._redaction_corpus import Message

    corpus = [Message("a jane@example.com b", "en", [("EMAIL", 2, 18)])]
    assert redaction.score(corpus, [[("EMAIL", 0, 10)]], ["EMAIL"])["EMAIL"] == {
        "precision": 1.0, "recall": 1.0, "tp": 1, "fp": 0, "fn": 0, "support": 1, "predicted": 1,
    }
    wrong_type = redaction.score(corpus, [[("PHONE", 2, 18)]], ["EMAIL", "PHONE"])
    assert wrong_type["EMAIL"]["fn"] == 1
    assert wrong_type["PHONE"]["fp"] == 1


def test_corpus_is_deterministic_and_labelled_exactly():
    from bench._redaction_corpus import generate

    first, second = generate(200, seed=7), generate(200, seed=7)
    assert [m.text for m in first] == [m.text for m in second]
    for message in first:
        for _, start, end in message.entities:
            span = message.text[start:end]
            assert span and span == span.strip()
