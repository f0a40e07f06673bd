"""Compiles the PII engine's hot modules with mypyc; everything else about the project is in pyproject.toml.

mypyc turns the same type-checked source into a C extension (about 1.3x the source's speed in the
redaction benchmark; the same answers).
The modules, and the digest that keeps a stale build from running, are in shared/pii/_compiled.py.
Compiling is best effort: without a C compiler, when mypyc refuses the source, or with
``ERASURE_PII_COMPILE=0``, the install still succeeds and the engine runs from its Python source.
The digest is written only once every module and the group library are built, and removed first,
so a failed or skipped build never leaves an older build looking current.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
PII = ROOT / "shared" / "pii"


def _compiled_module() -> ModuleType:
    # Loaded from its file: importing shared.pii would need the project's dependencies.
    spec = importlib.util.spec_from_file_location("_pii_compiled", PII / "_compiled.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


COMPILED = _compiled_module()


def _extensions() -> list[Any]:
    (PII / COMPILED.DIGEST_FILE).unlink(missing_ok=True)  # whatever happens next, an older build is not current
    if os.environ.get("ERASURE_PII_COMPILE", "1") == "0":
        return []
    try:
        from mypyc.build import mypycify

        extensions = mypycify(
            [str(Path("shared/pii") / f"{name}.py") for name in COMPILED.MODULES],
            opt_level="3",
            group_name=COMPILED.GROUP_LIBRARY.removesuffix("__mypyc"),
        )
    except (Exception, SystemExit) as exc:  # mypyc missing, or mypy refusing the source: run the source
        print(f"setup.py: the PII engine is not compiled ({type(exc).__name__}: {exc}); it runs from source",
              file=sys.stderr)
        return []
    for extension in extensions:
        extension.optional = True  # a failed compile leaves the Python source in charge, not a failed install
    return extensions


class BuildThenRecord(build_ext):
    """build_ext, then the digest of the sources, only when every compiled part was built by this run."""

    def run(self) -> None:
        outputs = [Path(self.get_ext_fullpath(extension.name)) for extension in self.extensions]
        for output in outputs:
            output.unlink(missing_ok=True)  # an optional extension that fails must not leave an older one behind
        super().run()
        if not outputs or not all(output.is_file() for output in outputs):
            return
        # In place (an editable install) beside the sources; for a wheel, only in the copy being packed: the
        # checkout's own compiled modules, if any, were not built by this run.
        COMPILED.write_digest(PII, None if self.inplace else Path(self.build_lib) / "shared" / "pii")


setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildThenRecord})
