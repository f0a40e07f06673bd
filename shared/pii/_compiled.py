"""Which PII engine runs: the hot modules compiled by mypyc at install time, or their Python source.

``pip install`` (setup.py) compiles the modules in :data:`MODULES` with mypyc: the same source turned into C,
about 1.3x as fast in the redaction benchmark, with the same answers (tests/unit/pii/test_compiled_engine.py
compares both on two corpora). A compiled module sits beside its source (``detectors.cpython-311-...so`` next
to ``detectors.py``), and Python imports an extension before a source, so a build older than an edit would run
the old rules without a word. The build therefore records a digest of the package's sources
(``_compiled_digest.py``), removed when a build starts and written only once every compiled part was built; at
import, when the sources on disk no longer match it (an edit, a mutation test, a checkout), it is missing, or
a compiled part is missing, the sources run instead, with a warning that names the fix.
``ERASURE_PII_ENGINE=source`` asks for the sources whatever is built.

Standard library only: setup.py loads this file before any dependency is installed.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import re
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Final

PACKAGE: Final = "shared.pii"
#: The modules compiled, in import order. Each must type-check under mypy's strict mode (mypyc relies on it).
MODULES: Final = ("validators", "normalise", "context", "spoken", "detectors", "engine")
#: The shared library mypyc builds for the group: the compiled code of every module above.
GROUP_LIBRARY: Final = "shared_pii_engine__mypyc"
DIGEST_FILE: Final = "_compiled_digest.py"
_DIGEST_LINE: Final = re.compile(r'^DIGEST = "([0-9a-f]{64})"$', re.MULTILINE)


class StaleCompiledEngine(RuntimeWarning):
    """The compiled engine does not match its sources on disk: the sources run (slower), rebuild to compile."""


def source_digest(directory: Path) -> str:
    """SHA-256 over every ``.py`` of the package but the digest file, by name then content.

    All of them, not only the compiled ones: mypyc copies ``Final`` constants of imported modules
    (``entities.PHONE``) into the compiled code.
    """
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.py")):
        if path.name == DIGEST_FILE:
            continue
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def recorded_digest(directory: Path) -> str | None:
    """The digest the last build recorded, read as text (importing it would cache a stale answer)."""
    try:
        match = _DIGEST_LINE.search((directory / DIGEST_FILE).read_text())
    except OSError:
        return None
    return match.group(1) if match else None


def write_digest(directory: Path, target: Path | None = None) -> None:
    """Record the sources of ``directory`` as compiled, in ``target`` (default: the same folder).

    setup.py calls it once the build of every module and the group library has succeeded.
    """
    ((target or directory) / DIGEST_FILE).write_text(
        '"""Written by setup.py: the digest of shared/pii\'s sources its compiled modules were built from."""\n\n'
        f'DIGEST = "{source_digest(directory)}"\n'
    )


def _has_extension(directory: Path, name: str) -> bool:
    return any((directory / f"{name}{suffix}").is_file() for suffix in importlib.machinery.EXTENSION_SUFFIXES)


def verdict(
    directory: Path, environ: Mapping[str, str] | None = None, group_library: bool | None = None
) -> tuple[str, str]:
    """``("compiled" | "source", why)`` for the package in ``directory``.

    ``environ`` defaults to the process's; ``group_library`` (is mypyc's shared library beside the
    ``shared`` package, where the same build put it) is looked up when not given.
    """
    env = os.environ if environ is None else environ
    if env.get("ERASURE_PII_ENGINE", "").lower() == "source":
        return "source", "ERASURE_PII_ENGINE=source"
    built = [name for name in MODULES if _has_extension(directory, name)]
    if not built:
        return "source", "no compiled modules (built without mypyc or a C compiler)"
    if group_library is None:
        group_library = _has_extension(directory.parent.parent, GROUP_LIBRARY)
    if len(built) != len(MODULES) or not group_library:
        return "source", "the compiled modules are incomplete"
    if not any((directory / f"{name}.py").is_file() for name in MODULES):
        return "compiled", "compiled modules only (no sources to compare)"
    recorded = recorded_digest(directory)
    if recorded is None:
        return "source", "the compiled modules carry no digest of their sources"
    if recorded != source_digest(directory):
        return "source", "the sources changed since the compiled modules were built"
    return "compiled", "built from these sources"


class _SourceFinder:
    """Finds the compiled modules' ``.py`` files, ahead of the extension beside each."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        package, _, name = fullname.rpartition(".")
        if package != PACKAGE or name not in MODULES:
            return None
        return importlib.util.spec_from_file_location(fullname, self._directory / f"{name}.py")


def choose(package: ModuleType) -> str:
    """Decide once, before the package imports its modules; returns ``"compiled"`` or ``"source"``."""
    directory = Path(next(iter(package.__path__)))
    kind, why = verdict(directory)
    if kind == "source":
        if not any(isinstance(finder, _SourceFinder) for finder in sys.meta_path):
            sys.meta_path.insert(0, _SourceFinder(directory))
        built = any(_has_extension(directory, name) for name in MODULES)
        if built and not why.startswith("ERASURE_PII_ENGINE"):
            warnings.warn(
                f"PII engine: {why}; running the Python sources (slower). Rebuild with `make` "
                "(or `pip install -e .`) to compile them again.",
                StaleCompiledEngine,
                stacklevel=2,
            )
    return kind


#: ``"compiled"`` or ``"source"``: decided when the package is first imported (it imports this module first).
ENGINE_BUILD: Final = choose(sys.modules[PACKAGE]) if __name__ == f"{PACKAGE}._compiled" else "source"
