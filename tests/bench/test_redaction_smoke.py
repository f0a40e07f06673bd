"""Smoke run of ``python -m bench redaction --quick``: both corpora scored apart, in the documented shape.

No Redis or worker process: the benchmark runs in-process (a few seconds). It asserts the report's
shape, not the engine's numbers (the full run, ``python -m bench redaction``, is where the targets are
measured).
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("presidio_analyzer")
pytest.importorskip("faker")

from bench import redaction

SCORE_KEYS = {"precision", "recall", "tp", "fp", "fn", "support", "predicted"}
LEAK_KEYS = {"count", "whole", "partial", "by_type", "examples"}
EXAMPLE_KEYS = {"type", "length", "shape", "sha256_12", "how", "left_in_clear"}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    output = tmp_path_factory.mktemp("bench") / "redaction.json"
    assert redaction.main(["--quick", "--output", str(output)]) == 0
    return json.loads(output.read_text())


def test_both_corpora_are_reported_apart(report):
    assert set(report["corpora"]) == {"generated", "independent"}
    assert report["command"].startswith("python -m bench redaction --quick")
    assert report["machine"]["cores"] and report["quick"] is True
    assert report["engine_build"] in ("compiled", "source")
    assert report["engine_build"] == redaction.ENGINE_BUILD  # the build this process imported, not a constant
    assert report["presidio"]["version"]
    assert set(report["targets"]) >= {"recall", "precision", "leaks", "speedup_vs_presidio", "met"}


def test_each_corpus_has_types_leaks_and_speedup(report):
    presidio_types = [t for t in redaction.ENTITY_TYPES if t != "SUBJECT"]
    for name, corpus in report["corpora"].items():
        assert set(corpus["types"]) == set(redaction.ENTITY_TYPES), name
        for scores in corpus["types"].values():
            assert set(scores) == SCORE_KEYS
            assert 0 <= scores["precision"] <= 1 and 0 <= scores["recall"] <= 1
        assert set(corpus["presidio"]["types"]) == set(presidio_types)
        for leaks in (corpus["leaks"], corpus["presidio"]["leaks"]):
            assert set(leaks) == LEAK_KEYS
            assert leaks["count"] == leaks["whole"] + leaks["partial"] == sum(leaks["by_type"].values())
        assert corpus["speedup_vs_presidio"] > 0
        # Beside the chunked headline: whole passes in turn, a figure of its own.
        assert corpus["speedup_vs_presidio_whole_passes"] > 0
        whole = corpus["whole_passes"]
        assert set(whole) == {"ours_mb_per_s", "presidio_mb_per_s", "passes", "timing_method"}
        assert whole["passes"] >= 3 and whole["ours_mb_per_s"] > 0 and whole["presidio_mb_per_s"] > 0
        assert corpus["mb_per_s"] > 0 and corpus["presidio"]["mb_per_s"] > 0
        assert corpus["summary"]["messages"] == corpus["timed_messages"] > 0
        assert set(corpus["targets_met"]) == {*redaction.ENTITY_TYPES, "leaks", "speedup_vs_presidio"}


def test_the_independent_corpus_is_scored_on_its_test_half_only(report):
    independent = report["corpora"]["independent"]
    assert independent["evaluated"].startswith("the test half only")
    generated_all = redaction.QUICK_INDEPENDENT_MESSAGES
    assert 0 < independent["summary"]["messages"] < generated_all


def test_leak_examples_never_hold_the_value(report):
    examples = [e for c in report["corpora"].values() for leaks in (c["leaks"], c["presidio"]["leaks"])
                for e in leaks["examples"]]
    assert examples  # Presidio leaves some in clear on either corpus
    for example in examples:
        assert set(example) == EXAMPLE_KEYS
        assert not {c for c in example["shape"] if c.isalnum()} - {"a", "9"}
        assert len(example["shape"]) == example["length"]
