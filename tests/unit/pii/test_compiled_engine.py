"""The compiled PII engine (mypyc, setup.py) answers as its source does, and a stale build never runs.

``shared/pii/_compiled.py`` decides at import which one runs. In CI (``CI`` set) the install must have
compiled it: a green run then means the tests ran the engine production runs, and the source agrees.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shared.pii import ENGINE_BUILD, _compiled
from tests.support.redis_required import in_ci

ROOT = Path(__file__).resolve().parents[3]
PII = ROOT / "shared" / "pii"
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]

# Every finding over the two benchmark corpora's quick sizes, as JSON, from a fresh interpreter.
DUMP = """
import json, sys
from bench import _redaction_corpus, _redaction_corpus_independent
from shared.pii import ENGINE_BUILD, PiiEngine, KnownSubject
engine = PiiEngine()
messages = _redaction_corpus.generate(300, 20240315) + _redaction_corpus_independent.generate(300, 77)
found = []
for message in messages:
    subject = KnownSubject(emails=message.subject.get("emails", ()), phones=message.subject.get("phones", ()),
                           names=message.subject.get("names", ()))
    for known in (None, subject):
        found.append([(e.type, e.start, e.end, e.validated) for e in engine.find(message.text, known)])
json.dump({"build": ENGINE_BUILD, "found": found}, sys.stdout)
"""


def _package(tmp_path: Path, *, compiled: bool = True, digest: bool = True) -> Path:
    """A package folder with the real sources, fake extensions beside them and (maybe) the digest."""
    package = tmp_path / "pii"
    package.mkdir()
    for source in PII.glob("*.py"):
        if source.name != _compiled.DIGEST_FILE:
            shutil.copy(source, package / source.name)
    if compiled:
        for name in _compiled.MODULES:
            (package / f"{name}{SUFFIX}").write_bytes(b"")
    if digest:
        _compiled.write_digest(package)
    return package


def test_a_build_that_matches_its_sources_runs_compiled(tmp_path):
    package = _package(tmp_path)
    assert _compiled.verdict(package, environ={}, group_library=True) == ("compiled", "built from these sources")


def test_an_edited_source_runs_the_sources(tmp_path):
    package = _package(tmp_path)
    with (package / "detectors.py").open("a") as source:
        source.write("\n# an edit after the build\n")
    kind, why = _compiled.verdict(package, environ={}, group_library=True)
    assert (kind, why) == ("source", "the sources changed since the compiled modules were built")


def test_an_edit_to_a_module_that_is_not_compiled_counts_too(tmp_path):
    """mypyc copies Final constants of imported modules (entities.PHONE) into the compiled code."""
    package = _package(tmp_path)
    entities = package / "entities.py"
    entities.write_text(entities.read_text().replace('PHONE: Final = "PHONE"', 'PHONE: Final = "TELEPHONE"'))
    assert _compiled.verdict(package, environ={}, group_library=True)[0] == "source"


@pytest.mark.parametrize(
    ("compiled", "digest", "group_library", "environ", "why"),
    [
        (False, True, True, {}, "no compiled modules (built without mypyc or a C compiler)"),
        (True, False, True, {}, "the compiled modules carry no digest of their sources"),
        (True, True, False, {}, "the compiled modules are incomplete"),
        (True, True, True, {"ERASURE_PII_ENGINE": "source"}, "ERASURE_PII_ENGINE=source"),
    ],
    ids=["nothing-built", "no-digest", "no-group-library", "asked-for-source"],
)
def test_the_sources_run_whenever_the_build_cannot_be_trusted(tmp_path, compiled, digest, group_library, environ, why):
    package = _package(tmp_path, compiled=compiled, digest=digest)
    assert _compiled.verdict(package, environ=environ, group_library=group_library) == ("source", why)


def test_one_compiled_module_missing_runs_the_sources(tmp_path):
    package = _package(tmp_path)
    (package / f"engine{SUFFIX}").unlink()
    assert _compiled.verdict(package, environ={}, group_library=True) == ("source", "the compiled modules are incomplete")


def _require_compiled() -> None:
    if ENGINE_BUILD != "compiled":
        reason = f"needs the compiled engine (make builds it); this process runs: {_compiled.verdict(PII)[1]}"
        if in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


def _dump(**env: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", DUMP], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, check=True,
        timeout=300,
    )
    answer: dict[str, object] = json.loads(result.stdout)
    return answer


def test_the_compiled_engine_finds_exactly_what_its_source_finds():
    _require_compiled()
    compiled = _dump()
    source = _dump(ERASURE_PII_ENGINE="source")
    assert (compiled["build"], source["build"]) == ("compiled", "source")
    assert len(compiled["found"]) == 1200  # 600 messages, without and with their subject
    assert any(compiled["found"])
    assert compiled["found"] == source["found"]


def test_a_stale_build_runs_the_sources_and_says_how_to_rebuild(tmp_path):
    _require_compiled()
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "shared", tree / "shared", ignore=shutil.ignore_patterns("__pycache__"))
    for library in ROOT.glob(f"{_compiled.GROUP_LIBRARY}*"):
        shutil.copy(library, tree / library.name)
    detectors = tree / "shared" / "pii" / "detectors.py"
    detectors.write_text(detectors.read_text() + "\n# edited after the build\n")
    probe = "import shared.pii as p, shared.pii.detectors as d; print(p.ENGINE_BUILD, d.__file__.endswith('.py'))"
    result = subprocess.run(
        [sys.executable, "-W", "default", "-c", probe], cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True, text=True, check=True, timeout=60,
    )
    assert result.stdout.split() == ["source", "True"]
    assert "StaleCompiledEngine" in result.stderr and "Rebuild with `make`" in result.stderr
