"""`erasure demo` and `erasure sim` need the simulator, a distribution of its own (sim/): where it is not
installed they say how to get it in one line and exit 2, without a traceback and before starting anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# The CLI in a process where `import genesys_sim` finds nothing, as in the product's wheel or image.
WITHOUT_SIMULATOR = "import sys; sys.modules['genesys_sim'] = None; from services.cli import main; main()"


def run_without_simulator(*args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ERASURE_")}
    return subprocess.run([sys.executable, "-c", WITHOUT_SIMULATOR, *args], env=clean, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("command", [["sim", "--port", "0"], ["demo", "--subjects", "1"]])
def test_without_the_simulator_the_command_says_how_to_install_it(command, tmp_path):
    output_dir = tmp_path / "out"
    args = [*command, "--output-dir", str(output_dir)] if command[0] == "demo" else command
    result = run_without_simulator(*args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "erasure: the Genesys simulator is not installed (from a checkout: pip install -e ./sim)"]
    assert result.stdout == ""
    assert not Path(output_dir).exists()  # nothing started


def test_the_product_does_not_import_the_simulator():
    """Every product module but the demo imports without it (the demo is the simulator's one user)."""
    code = ("import sys, pkgutil, importlib; sys.modules['genesys_sim'] = None\n"
            "import shared, services\n"
            "for pkg in (shared, services):\n"
            "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
            "        if m.name != 'services.demo':\n"
            "            importlib.import_module(m.name)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
