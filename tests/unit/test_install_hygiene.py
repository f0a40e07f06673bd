"""Install hygiene (issue 19): the licence in the SPDX form setuptools keeps building after 2027-02-18, and
images that install the versions the tests passed with (a constraints file per image)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
IMAGES = [(ROOT / "pyproject.toml", ROOT / "constraints.txt", ROOT / "Dockerfile"),
          (ROOT / "sim/pyproject.toml", ROOT / "sim/constraints-sim.txt", ROOT / "sim/Dockerfile")]


def pins(path: Path) -> dict[str, Version]:
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return {canonicalize_name(name): Version(version) for name, version in (line.split("==") for line in lines)}


@pytest.mark.parametrize(("pyproject", "constraints", "dockerfile"), IMAGES, ids=["product", "simulator"])
def test_the_licence_is_an_spdx_string_built_by_a_setuptools_that_reads_it(pyproject, constraints, dockerfile):
    project = tomllib.loads(pyproject.read_text())
    assert project["project"]["license"] == "Apache-2.0"
    [setuptools] = [Requirement(r) for r in project["build-system"]["requires"] if r.startswith("setuptools")]
    assert Version("76.9") not in setuptools.specifier and Version("77.0.0") in setuptools.specifier


@pytest.mark.parametrize(("pyproject", "constraints", "dockerfile"), IMAGES, ids=["product", "simulator"])
def test_every_runtime_dependency_is_pinned_within_its_range_and_the_image_uses_the_pins(
        pyproject, constraints, dockerfile):
    pinned = pins(constraints)
    for raw in tomllib.loads(pyproject.read_text())["project"]["dependencies"]:
        requirement = Requirement(raw)
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{name} is not in {constraints.name}: run scripts/constraints.py"
        assert pinned[name] in requirement.specifier, f"{constraints.name} pins {name} outside {requirement}"
    installs = [line for line in dockerfile.read_text().splitlines() if "pip install" in line]
    assert installs and all(f"{constraints.name} " in line and " -c " in line for line in installs)
