"""``make mutation``: mutation-test the core with mutmut and write ``bench/results/mutation.json``.

mutmut mutates the modules listed under ``[tool.mutmut] only_mutate`` in pyproject.toml and runs the
fast test tiers against each mutant. This script runs it (or only reads a finished run with
``--report-only``), groups the verdicts per module, takes out the mutants listed as equivalent in
``bench/mutation_equivalent.toml`` (each with the reason it cannot change behaviour), and writes per
module: killed, survived, equivalent, the killed share, and each survivor's diff. It exits 1 when a
module is under the threshold (85 % killed, equivalents excluded) or a mutant was left unchecked.

mutmut numbers mutants within a function, so an edit to the function renumbers them and a listed name
can come to mean another mutant. Each equivalent therefore records its mutated line; a listed mutant
whose line no longer matches is reported as a survivor (``stale equivalent``), never hidden.
``--record-equivalents`` fills in the mutated line of entries that have none (after reading each diff).

    python scripts/mutation.py [--max-children N] [--report-only] [--output PATH] [PATTERN ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT_FILE = ROOT / "bench" / "mutation_equivalent.toml"
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "mutation.json"
THRESHOLD = 0.85
KILLED = {"killed", "timeout", "caught by type check"}
SURVIVED = {"survived", "no tests"}
# mutmut names a mutant <module>.x_<function>__mutmut_<n> or <module>.xǁ<Class>ǁ<method>__mutmut_<n>.
_MODULE_OF = re.compile(r"^(?P<module>.+?)\.x(?:_|ǁ)")


def mutmut() -> str:
    return str(Path(sys.executable).with_name("mutmut"))


def run_mutmut(patterns: list[str], max_children: int) -> None:
    """Run mutmut; its own exit status is not a verdict (the report below is)."""
    subprocess.run([mutmut(), "run", "--max-children", str(max_children), *patterns], cwd=ROOT, check=False)


def read_results() -> dict[str, str]:
    out = subprocess.run([mutmut(), "results", "--all", "true"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    verdicts: dict[str, str] = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name:
            verdicts[name] = status
    return verdicts


def diff_of(name: str) -> str:
    shown = subprocess.run([mutmut(), "show", name], cwd=ROOT, check=False, capture_output=True, text=True).stdout
    changed = [line for line in shown.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return "\n".join(changed)


def module_path(name: str) -> str:
    match = _MODULE_OF.match(name)
    dotted = match.group("module") if match else name.rsplit(".", 1)[0]
    return dotted.replace(".", "/") + ".py"


@dataclass(frozen=True)
class Equivalent:
    reason: str
    mutated: str | None  # the mutant's changed line, as ``mutmut show`` prints it after "+"


def load_equivalent() -> dict[str, Equivalent]:
    if not EQUIVALENT_FILE.exists():
        return {}
    data = tomllib.loads(EQUIVALENT_FILE.read_text())
    out = {}
    for name, entry in data.get("equivalent", {}).items():
        if isinstance(entry, str):
            out[str(name)] = Equivalent(entry, None)
        else:
            out[str(name)] = Equivalent(str(entry["reason"]), entry.get("mutated"))
    return out


def mutated_line(name: str) -> str:
    """The mutant's changed line (the first "+" line of its diff), stripped."""
    for line in diff_of(name).splitlines():
        if line.startswith("+"):
            return line[1:].strip()
    return ""


def still_matches(name: str, entry: Equivalent) -> bool:
    return entry.mutated is not None and mutated_line(name) == entry.mutated.strip()


def record_equivalents() -> int:
    """Rewrite the equivalents file, in place and in order, giving each entry without a mutated line the
    mutant's current one (run it after reading each diff: it records what the reason was written for)."""
    out, recorded = [], 0
    for line in EQUIVALENT_FILE.read_text().splitlines():
        if line.startswith('"'):
            ((name, value),) = tomllib.loads(line).items()
            entry = Equivalent(value, None) if isinstance(value, str) else Equivalent(str(value["reason"]),
                                                                                          value.get("mutated"))
            mutated = entry.mutated if entry.mutated is not None else mutated_line(name)
            recorded += entry.mutated is None
            line = (f"{json.dumps(name, ensure_ascii=False)} = {{ reason = {json.dumps(entry.reason, ensure_ascii=False)}, "
                    f"mutated = {json.dumps(mutated, ensure_ascii=False)} }}")
        out.append(line)
    EQUIVALENT_FILE.write_text("\n".join(out) + "\n")
    print(f"recorded the mutated line of {recorded} equivalents in {EQUIVALENT_FILE}")
    return 0


def build_report(verdicts: dict[str, str], equivalent: dict[str, Equivalent], command: str) -> dict[str, object]:
    modules: dict[str, dict[str, object]] = defaultdict(
        lambda: {"killed": 0, "survived": 0, "equivalent": 0, "unchecked": 0, "survivors": [], "equivalents": []})
    for name, status in sorted(verdicts.items()):
        entry = modules[module_path(name)]
        if name in equivalent and still_matches(name, equivalent[name]):
            entry["equivalent"] = int(entry["equivalent"]) + 1  # type: ignore[call-overload]
            entry["equivalents"].append({"mutant": name, "reason": equivalent[name].reason,  # type: ignore[attr-defined]
                                         "mutated": equivalent[name].mutated})
        elif name in equivalent:
            entry["survived"] = int(entry["survived"]) + 1  # type: ignore[call-overload]
            entry["survivors"].append({"mutant": name, "status": "stale equivalent (its line changed: read it again)",  # type: ignore[attr-defined]
                                       "diff": diff_of(name)})
        elif status in KILLED:
            entry["killed"] = int(entry["killed"]) + 1  # type: ignore[call-overload]
        elif status in SURVIVED:
            entry["survived"] = int(entry["survived"]) + 1  # type: ignore[call-overload]
            entry["survivors"].append({"mutant": name, "status": status, "diff": diff_of(name)})  # type: ignore[attr-defined]
        else:
            entry["unchecked"] = int(entry["unchecked"]) + 1  # type: ignore[call-overload]
    for entry in modules.values():
        judged = int(entry["killed"]) + int(entry["survived"])  # type: ignore[call-overload]
        entry["killed_share"] = round(int(entry["killed"]) / judged, 4) if judged else None  # type: ignore[call-overload]
    return {
        "command": command,
        "machine": f"{platform.node() or 'unknown'}: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
                   f"Python {platform.python_version()}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "threshold": THRESHOLD,
        "statuses": {"killed": sorted(KILLED), "survived": sorted(SURVIVED)},
        "modules": dict(sorted(modules.items())),
    }


def verdict(report: dict[str, object]) -> list[str]:
    problems = []
    for path, entry in report["modules"].items():  # type: ignore[attr-defined]
        share = entry["killed_share"]
        if entry["unchecked"]:
            problems.append(f"{path}: {entry['unchecked']} mutants not checked")
        if share is not None and share < THRESHOLD:
            problems.append(f"{path}: {share:.1%} killed, under {THRESHOLD:.0%}")
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patterns", nargs="*", help="mutant name globs (e.g. 'shared.audit*'); default: all")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--report-only", action="store_true", help="read the last run instead of running")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--record-equivalents", action="store_true",
                        help="write each listed equivalent's current mutated line into the equivalents file")
    args = parser.parse_args(argv)
    if args.record_equivalents:
        return record_equivalents()
    if not args.report_only:
        run_mutmut(args.patterns, args.max_children)
    verdicts = read_results()
    if args.patterns:
        verdicts = {k: v for k, v in verdicts.items() if any(re.fullmatch(_glob(p), k) for p in args.patterns)}
    command = "python scripts/mutation.py " + " ".join(argv) if argv else "make mutation"
    report = build_report(verdicts, load_equivalent(), command)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    for path, entry in report["modules"].items():  # type: ignore[attr-defined]
        share = entry["killed_share"]
        shown = "n/a" if share is None else f"{share:.1%}"
        print(f"{path:45} killed {entry['killed']:4}  survived {entry['survived']:3}  "
              f"equivalent {entry['equivalent']:3}  {shown}")
    problems = verdict(report)
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    print(f"wrote {args.output}")
    return 1 if problems else 0


def _glob(pattern: str) -> str:
    return ".*".join(re.escape(part) for part in pattern.split("*"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
