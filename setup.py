"""Compiles the PII engine's hot modules with mypyc; everything else about the project is in pyproject.toml.

mypyc turns the same type-checked source into a C extension (about a third faster; same answers).
The modules and the digest that keeps a stale build from running are in shared/pii/_compiled.py.
Each extension is optional: without a C compiler, or with ``ERASURE_PII_COMPILE=0``, the install
still succeeds and the engine runs from its Python source.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent
PII = ROOT / "shared" / "pii"


def _compiled_module() -> object:
    # Loaded from its file: importing shared.pii would need the project's dependencies.
    spec = importlib.util.spec_from_file_location("_pii_compiled", PII / "_compiled.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _extensions() -> list[object]:
    if os.environ.get("ERASURE_PII_COMPILE", "1") == "0":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        return []
    compiled = _compiled_module()
    compiled.write_digest(PII)  # type: ignore[attr-defined]
    extensions = mypycify(
        [str(Path("shared/pii") / f"{name}.py") for name in compiled.MODULES],  # type: ignore[attr-defined]
        opt_level="3",
        group_name=compiled.GROUP_LIBRARY.removesuffix("__mypyc"),  # type: ignore[attr-defined]
    )
    for extension in extensions:
        extension.optional = True  # a failed compile leaves the Python source in charge, not a failed install
    return extensions


setup(ext_modules=_extensions())
