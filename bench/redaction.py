"""``python -m bench redaction``: our PII engine against Presidio's analyzer on a labelled corpus.

The corpus (``bench/_redaction_corpus.py``; the underscore keeps ``python -m bench`` from taking
it for a benchmark) is generated from a fixed seed: contact-centre chat lines, voice-transcript
lines and log lines in six languages, with exact gold spans and hard negatives. Both systems read
every message; the results go to ``bench/results/redaction.json``.

Scoring is entity-level with overlap matching, per type:

* a gold entity is found (``tp``) when some prediction of the same type overlaps it; otherwise
  it is a miss (``fn``);
* a prediction is wrong (``fp``) when it overlaps no gold entity of its type;
* ``recall = tp / (tp + fn)``; ``precision = (predictions - fp) / predictions``.

SUBJECT (the data subject's own identifiers in any spelling) needs the subject's known data,
which only our engine takes. Presidio is not scored on SUBJECT, and its predictions that overlap a
gold SUBJECT span are ignored (neither right nor wrong).

Throughput is MB/s of UTF-8 text on one core (one process, one thread), timing only the analysis
calls. The headline ``mb_per_s`` of both systems comes from one pass over the same messages, in
chunks of 50 timed alternately (ours without a subject, the same task Presidio does), so that load
from other work on a shared machine falls on both alike; ``--presidio-timed N`` limits that to the
first N messages. Ours also reports its best of three whole-corpus passes (``mb_per_s_best_pass``)
and its speed with each message's subject (``mb_per_s_with_subject``).

Presidio is configured offline: ``AnalyzerEngine`` over a ``NoOpNlpEngine`` (no spaCy model, no
NER) and a registry holding only its pattern recognizers for the types compared (email, phone with
the same regions as ours, credit card, IBAN, IP, US SSN), default score threshold (0). tldextract,
which its email recognizer uses, is pointed at its bundled suffix list so that nothing is fetched.

JSON schema (``bench/results/redaction.json``)::

    {
      "ours":     {"per_type": {T: {"precision", "recall", "tp", "fp", "fn", "support", "predicted"}},
                   T: {...same as per_type[T]...},          # for ours["EMAIL"]["precision"]
                   "mb_per_s": float, "mb_per_s_best_pass": float, "mb_per_s_with_subject": float,
                   "timed_messages": int, "timed_bytes": int, "timing_method": str},
      "presidio": {same keys, without SUBJECT; "timed_messages" tells the subset timed; "version", "config"},
      "corpus":   {"messages", "bytes", "seed", "by_kind", "by_language", "entities", "messages_without_entities"},
      "speed_ratio": ours.mb_per_s / presidio.mb_per_s,
      "targets":  {"recall": 0.99, "precision": 0.97, "speed_ratio": 20, "met": {...}},
      "scoring", "command", "machine", "quick"
    }
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench._redaction_corpus import Message, generate
from shared.pii import ENTITY_TYPES, KnownSubject, PiiEngine, detectors

RESULTS = Path(__file__).parent / "results" / "redaction.json"
SEED = 20240315
FULL_MESSAGES = 6000
QUICK_MESSAGES = 300
TARGET_RECALL = 0.99
TARGET_PRECISION = 0.97
TARGET_SPEED_RATIO = 20.0

PRESIDIO_TYPES = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN",
    "IP_ADDRESS": "IP_ADDRESS",
    "US_SSN": "US_SSN",
}

Prediction = tuple[str, int, int]


# ------------------------------------------------------------------------------------------------
# Scoring
# ------------------------------------------------------------------------------------------------


def _overlap(a: Prediction, b: Prediction) -> bool:
    return a[1] < b[2] and b[1] < a[2]


def score(
    corpus: Sequence[Message],
    predictions: Sequence[list[Prediction]],
    types: Sequence[str],
    ignore_inside: Sequence[str] = (),
) -> dict[str, dict[str, float | int]]:
    counts = {t: Counter[str]() for t in types}
    for message, predicted in zip(corpus, predictions, strict=True):
        gold = [g for g in message.entities if g[0] in types]
        ignored = [g for g in message.entities if g[0] in ignore_inside]
        kept = [p for p in predicted if p[0] in types and not any(_overlap(p, g) for g in ignored)]
        for g in gold:
            counts[g[0]]["support"] += 1
            if any(p[0] == g[0] and _overlap(p, g) for p in kept):
                counts[g[0]]["tp"] += 1
            else:
                counts[g[0]]["fn"] += 1
        for p in kept:
            counts[p[0]]["predicted"] += 1
            if not any(g[0] == p[0] and _overlap(p, g) for g in gold):
                counts[p[0]]["fp"] += 1
    result: dict[str, dict[str, float | int]] = {}
    for t in types:
        c = counts[t]
        predicted, support = c["predicted"], c["support"]
        result[t] = {
            "precision": round((predicted - c["fp"]) / predicted, 4) if predicted else 1.0,
            "recall": round(c["tp"] / support, 4) if support else 1.0,
            "tp": c["tp"],
            "fp": c["fp"],
            "fn": c["fn"],
            "support": support,
            "predicted": predicted,
        }
    return result


def errors(
    corpus: Sequence[Message], predictions: Sequence[list[Prediction]], types: Sequence[str]
) -> list[tuple[str, str, str, str]]:
    """(kind, type, span text, message) for every miss and every wrong prediction."""
    out = []
    for message, predicted in zip(corpus, predictions, strict=True):
        gold = [g for g in message.entities if g[0] in types]
        for g in gold:
            if not any(p[0] == g[0] and _overlap(p, g) for p in predicted):
                out.append(("FN", g[0], message.text[g[1] : g[2]], message.text))
        for p in predicted:
            if p[0] in types and not any(g[0] == p[0] and _overlap(p, g) for g in gold):
                out.append(("FP", p[0], message.text[p[1] : p[2]], message.text))
    return out


# ------------------------------------------------------------------------------------------------
# Systems
# ------------------------------------------------------------------------------------------------


def _subject(message: Message) -> KnownSubject:
    known = message.subject
    return KnownSubject(emails=known.get("emails", ()), phones=known.get("phones", ()), names=known.get("names", ()))


def run_ours(corpus: Sequence[Message], min_seconds: float) -> tuple[list[list[Prediction]], dict[str, Any]]:
    """Predictions with each message's subject, and best-of-passes throughput figures."""
    engine = PiiEngine()
    subjects: dict[int, KnownSubject] = {}
    for message in corpus:
        if id(message.subject) not in subjects:
            subjects[id(message.subject)] = _subject(message)
    message_subjects = [subjects[id(m.subject)] for m in corpus]
    predictions = [[(e.type, e.start, e.end) for e in engine.find(m.text, message_subjects[i])] for i, m in enumerate(corpus)]
    texts = [m.text for m in corpus]
    total_bytes = sum(len(t.encode()) for t in texts)

    def best_pass(call: Callable[[int, str], object]) -> float:
        best = float("inf")
        passes = 0
        started = time.perf_counter()
        while passes < 3 or (time.perf_counter() - started < min_seconds and passes < 20):
            detectors.clear_caches()  # every pass starts cold: no phone number seen before
            t0 = time.perf_counter()
            for index, text in enumerate(texts):
                call(index, text)
            best = min(best, time.perf_counter() - t0)
            passes += 1
        return best

    plain = best_pass(lambda _i, text: engine.find(text))
    with_subject = best_pass(lambda i, text: engine.find(text, message_subjects[i]))
    timing = {
        "mb_per_s_best_pass": round(total_bytes / plain / 1e6, 3),
        "mb_per_s_with_subject": round(total_bytes / with_subject / 1e6, 3),
    }
    return predictions, timing


def build_presidio(regions: Sequence[str]) -> tuple[Any, str]:
    import tldextract.tldextract as tld

    # Use the suffix list bundled with tldextract: no network here, and no fetch inside the timing.
    tld.TLD_EXTRACTOR.suffix_list_urls = ()
    import logging

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    from importlib.metadata import version

    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine.no_op_nlp_engine import NoOpNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        IpRecognizer,
        PhoneRecognizer,
        UsSsnRecognizer,
    )

    nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    nlp.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in (
        EmailRecognizer(),
        PhoneRecognizer(supported_regions=tuple(regions)),
        CreditCardRecognizer(),
        IbanRecognizer(),
        IpRecognizer(),
        UsSsnRecognizer(),
    ):
        registry.add_recognizer(recognizer)
    engine = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])
    return engine, version("presidio-analyzer")


def run_side_by_side(
    corpus: Sequence[Message], timed_limit: int, regions: Sequence[str], chunk: int = 50
) -> tuple[list[list[Prediction]], dict[str, Any], dict[str, Any]]:
    """Presidio's predictions; both systems timed on the same messages, chunk by chunk in turn.

    Interleaving keeps the two measurements under the same machine load (other work on a shared
    machine slows both alike). Only the analysis calls are inside the clock.
    """
    presidio, presidio_version = build_presidio(regions)
    ours = PiiEngine()
    entities = sorted(PRESIDIO_TYPES)
    for message in corpus[:10]:  # warm-up: lazy compilation and caches
        presidio.analyze(message.text, language="en", entities=entities)
        ours.find(message.text)
    detectors.clear_caches()  # ours has seen the corpus while scoring; time it cold
    predictions: list[list[Prediction]] = []
    ours_seconds = presidio_seconds = 0.0
    timed_bytes = timed_count = 0
    for chunk_start in range(0, len(corpus), chunk):
        messages = corpus[chunk_start : chunk_start + chunk]
        timed = chunk_start < timed_limit
        if timed:
            t0 = time.perf_counter()
            for message in messages:
                ours.find(message.text)
            ours_seconds += time.perf_counter() - t0
        t0 = time.perf_counter()
        results = [presidio.analyze(message.text, language="en", entities=entities) for message in messages]
        if timed:
            presidio_seconds += time.perf_counter() - t0
            timed_bytes += sum(len(m.text.encode()) for m in messages)
            timed_count += len(messages)
        for found in results:
            predictions.append([(PRESIDIO_TYPES[r.entity_type], r.start, r.end) for r in found if r.entity_type in PRESIDIO_TYPES])  # noqa: E501
    subset = "" if timed_count == len(corpus) else f" (the first {timed_count} of {len(corpus)} messages)"
    method = f"one pass, chunks of {chunk} messages timed alternately for both systems, analysis calls only{subset}"
    ours_timing = {
        "mb_per_s": round(timed_bytes / ours_seconds / 1e6, 3),
        "timed_messages": timed_count,
        "timed_bytes": timed_bytes,
        "timing_method": method + "; mb_per_s_best_pass: best of >=3 passes over the whole corpus; "
        "mb_per_s_with_subject: the same with each message's KnownSubject",
    }
    presidio_timing = {
        "mb_per_s": round(timed_bytes / presidio_seconds / 1e6, 4),
        "timed_messages": timed_count,
        "timed_bytes": timed_bytes,
        "timing_method": method,
        "version": presidio_version,
        "config": "AnalyzerEngine(nlp_engine=NoOpNlpEngine, registry=[Email, Phone(regions=ours), CreditCard, Iban, Ip, UsSsn"
        " pattern recognizers], language='en', default score_threshold (0))",
    }
    return predictions, ours_timing, presidio_timing


# ------------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        # Other work on a shared machine slows both systems; the interleaved timing keeps the ratio fair.
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
    }


def corpus_summary(corpus: Sequence[Message], seed: int) -> dict[str, Any]:
    return {
        "messages": len(corpus),
        "bytes": sum(len(m.text.encode()) for m in corpus),
        "seed": seed,
        "by_kind": dict(Counter(m.kind for m in corpus)),
        "by_language": dict(Counter(m.language for m in corpus)),
        "entities": dict(Counter(t for m in corpus for t, _, _ in m.entities)),
        "messages_without_entities": sum(1 for m in corpus if not m.entities),
    }


def table(ours: dict[str, Any], presidio: dict[str, Any]) -> str:
    lines = [
        f"{'type':<12} {'gold':>5}  {'ours P':>7} {'ours R':>7}  {'presidio P':>10} {'presidio R':>10}",
        "-" * 60,
    ]
    for t in ENTITY_TYPES:
        o = ours["per_type"][t]
        p = presidio["per_type"].get(t)
        pp = f"{p['precision']:>10.4f} {p['recall']:>10.4f}" if p else f"{'n/a':>10} {'n/a':>10}"
        lines.append(f"{t:<12} {o['support']:>5}  {o['precision']:>7.4f} {o['recall']:>7.4f}  {pp}")
    lines.append("-" * 60)
    lines.append(
        f"MB/s (1 core, same {presidio['timed_messages']} messages, interleaved): ours {ours['mb_per_s']:.3f}, "
        f"presidio {presidio['mb_per_s']:.4f}\n"
        f"ours best pass over the corpus {ours['mb_per_s_best_pass']:.3f}; with the subject {ours['mb_per_s_with_subject']:.3f}"
    )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench redaction", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_MESSAGES} messages, short timings (smoke test)")
    parser.add_argument("--messages", type=int, default=None, help=f"corpus size (default {FULL_MESSAGES})")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--presidio-timed", type=int, default=None, help="time Presidio on the first N messages only")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--errors", type=int, default=0, help="print up to N of our misses and wrong finds")
    args = parser.parse_args(argv)

    count = args.messages or (QUICK_MESSAGES if args.quick else FULL_MESSAGES)
    corpus = generate(count, args.seed)
    types = list(ENTITY_TYPES)
    engine_regions = PiiEngine().default_regions

    ours_predictions, ours_best = run_ours(corpus, min_seconds=0.2 if args.quick else 3.0)
    timed_limit = args.presidio_timed if args.presidio_timed is not None else len(corpus)
    try:
        presidio_predictions, ours_timing, presidio_timing = run_side_by_side(corpus, timed_limit, engine_regions)
    except ImportError as exc:
        print(f"bench redaction needs Presidio to compare against: pip install presidio-analyzer ({exc})", file=sys.stderr)
        return 2

    ours: dict[str, Any] = {"per_type": score(corpus, ours_predictions, types)}
    ours.update(ours["per_type"])
    ours.update(ours_timing)
    ours.update(ours_best)

    presidio_types = [t for t in types if t != "SUBJECT"]
    presidio: dict[str, Any] = {"per_type": score(corpus, presidio_predictions, presidio_types, ignore_inside=["SUBJECT"])}
    presidio.update(presidio["per_type"])
    presidio.update(presidio_timing)

    ratio = ours["mb_per_s"] / presidio["mb_per_s"] if presidio["mb_per_s"] else float("inf")
    met = {
        t: bool(ours["per_type"][t]["recall"] >= TARGET_RECALL and ours["per_type"][t]["precision"] >= TARGET_PRECISION)
        for t in types
    }
    met["speed_ratio"] = ratio >= TARGET_SPEED_RATIO
    command = "python -m bench redaction" + (" " + " ".join(argv) if argv else "")
    report = {
        "ours": ours,
        "presidio": presidio,
        "corpus": corpus_summary(corpus, args.seed),
        "speed_ratio": round(ratio, 1),
        "targets": {"recall": TARGET_RECALL, "precision": TARGET_PRECISION, "speed_ratio": TARGET_SPEED_RATIO, "met": met},
        "scoring": "entity-level; a prediction is right when its type matches a gold entity's and the spans overlap; "
        "recall = gold entities found / gold entities; "
        "precision = predictions overlapping a same-type gold entity / predictions; "
        "Presidio not scored on SUBJECT and its predictions inside gold SUBJECT spans ignored",
        "command": command,
        "machine": machine(),
        "quick": bool(args.quick),
    }
    keep = not (args.quick and args.output == RESULTS)  # a quick run never replaces the committed results
    if keep:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")

    print(f"corpus: {len(corpus)} messages, {report['corpus']['bytes']} bytes, seed {args.seed}")
    print(table(ours, presidio))
    print(f"speed ratio ours/presidio: {ratio:.1f}x   targets met: {all(met.values())}")
    print(f"wrote {args.output}" if keep else "quick run: nothing written (give --output to keep it)")
    if args.errors:
        for kind, t, span, text in errors(corpus, ours_predictions, types)[: args.errors]:
            print(f"  {kind} {t:<12} {span!r:<40} in {text!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
