"""Re-plant the one-line bugs issue 12 found surviving, one at a time, and show which fast test fails.

Each bug is a literal edit of one product file. For each, the committed tree is copied to a temporary
folder, the edit applied (the script stops if the line it edits is no longer there, so it cannot pass
by editing nothing), and the fast tier (``pytest -m "not integration"``) run against it. The unplanted
copy must pass first. A bug that no test notices is a failure of this script. The result goes to ``bench/results/replant.json``.

    python scripts/replant.py [--only NAME ...] [--output PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAST_TIERS = ["tests/unit", "tests/simulator"]


@dataclass(frozen=True)
class Bug:
    name: str
    path: str
    old: str
    new: str
    count: int = 1  # how many occurrences the edit replaces (all of them must exist)


BUGS = (
    Bug("deadline overdue comparison flipped", "shared/deadlines.py",
        "if record.deadline < now:", "if record.deadline > now:"),
    Bug("DEADLINE set to 31 days", "shared/models.py",
        "DEADLINE = timedelta(days=30)", "DEADLINE = timedelta(days=31)"),
    Bug("audit chain previous-link check switched off", "shared/audit.py",
        'if entry.get("prev") != prev:', "if False:"),
    Bug("Luhn mod 10 -> mod 5", "shared/pii/validators.py",
        "return total % 10 == 0", "return total % 5 == 0"),
    Bug("IBAN per-country length check dropped", "shared/pii/validators.py",
        "IBAN_LENGTHS.get(country) != len(compact) or ", ""),
    Bug("client no longer passes response headers to the limiter", "shared/genesys/client.py",
        "self._limiter.on_response_headers(response.headers)", "pass"),
    Bug("delivery cap multiplied by 1,000", "shared/pipeline.py",
        "MAX_DELIVERIES = 5", "MAX_DELIVERIES = 5 * 1000"),
    Bug("same-subject check at intake inverted", "services/intake/submit.py",
        ".subject_digest == record.subject_digest", ".subject_digest != record.subject_digest"),
)


def copy_tree(dest: Path) -> None:
    """The committed tree plus uncommitted edits, without the venv and caches."""
    ignore = shutil.ignore_patterns(".venv", ".git", "mutants", "__pycache__", ".mypy_cache", ".ruff_cache",
                                    ".pytest_cache", "erasure-output", "*.egg-info")
    shutil.copytree(ROOT, dest, ignore=ignore, dirs_exist_ok=True)


def plant(tree: Path, bug: Bug) -> None:
    target = tree / bug.path
    text = target.read_text()
    found = text.count(bug.old)
    if found != bug.count:
        raise SystemExit(f"{bug.name}: expected {bug.count} occurrence(s) of {bug.old!r} in {bug.path}, found {found}")
    target.write_text(text.replace(bug.old, bug.new))


def failing_tests(tree: Path) -> tuple[list[str], float]:
    started = time.monotonic()
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "not integration", "-p", "no:cacheprovider",
                             "-o", "addopts=", "-rf", *FAST_TIERS], cwd=tree, env=env, capture_output=True, text=True,
                            check=False)
    failed = sorted(set(re.findall(r"^(?:FAILED|ERROR) (\S+)", result.stdout, flags=re.MULTILINE)))
    if result.returncode not in (0, 1):
        failed.append(f"<pytest exit {result.returncode}>")
    return failed, time.monotonic() - started


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="substrings of bug names to run")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "replant.json")
    args = parser.parse_args(argv)
    bugs = [b for b in BUGS if args.only is None or any(s in b.name for s in args.only)]
    results = []
    with tempfile.TemporaryDirectory(prefix="replant-") as tmp:
        base = Path(tmp) / "base"
        copy_tree(base)
        # Without this, any failure of the tree as it is would count as every planted bug "caught".
        baseline, seconds = failing_tests(base)
        if baseline:
            print(f"the unplanted tree already fails {len(baseline)} test(s) ({seconds:.0f} s): {baseline[:5]}", file=sys.stderr)
            return 2
        print(f"baseline  the unplanted tree passes the fast tier ({seconds:.0f} s)", flush=True)
        for bug in bugs:
            tree = Path(tmp) / "tree"
            shutil.rmtree(tree, ignore_errors=True)
            shutil.copytree(base, tree)
            plant(tree, bug)
            failed, seconds = failing_tests(tree)
            caught = bool(failed)
            print(f"{'caught' if caught else 'SURVIVED':8} {bug.name}: {len(failed)} failing ({seconds:.0f} s)", flush=True)
            for name in failed[:5]:
                print(f"           {name}")
            results.append({"bug": bug.name, "file": bug.path, "edit": {"from": bug.old, "to": bug.new},
                            "caught": caught, "failing_tests": failed})
    report = {
        "command": "python scripts/replant.py " + " ".join(argv),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "tiers": FAST_TIERS,
        "bugs": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    survived = [r["bug"] for r in results if not r["caught"]]
    print(f"{len(results) - len(survived)}/{len(results)} planted bugs caught; wrote {args.output}")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
