"""Chaos benchmark: an operator's bad day, on a seeded schedule, with nobody there to run ``erasure resume``.

    python -m bench chaos [--subjects 1000] [--seed 7] [--fault-window 180] [--cap-s 1800]
                          [--recordings deferred|per_request] [--set FIELD=VALUE ...]

The stack is the bench's own: a redis-server on a free port with its AOF in a temporary directory
(``appendfsync everysec``), the simulator in its own process (rate limit raised as in ``bench bulk``),
and the four pools as ``celery worker`` processes (prefork, 2 children each), approval off, recordings
deferred, a visibility timeout of 60 s. ``--subjects`` requests (customers, and a few former agents
erased by user id) go in through the intake's file door (``erasure submit --file``'s code); then, for
``--fault-window`` seconds (``bench._chaos_schedule``): a SIGKILL every ~15 s of a pool's main process
(started again 2-5 s later) or of one of its children, cycling through every pool; one Redis SIGKILL,
started again on the same AOF 5 s later; on every endpoint family a burst of 5xx, of dropped connections
and of answers slower than the client's timeout; some GDPR requests ending in ERROR; the whole API
unreachable for 30 s. The bench waits until every request is final or ``--cap-s`` has passed since
submission, and never resumes anything itself.

Results (``bench/results/chaos.json`` from the CLI; ``--output`` elsewhere) carry, besides the run's
settings, the ``command`` and the ``machine``:

- ``subjects``, ``final_by_state`` (``absent``: the record is gone from the store);
- ``stuck`` {count, requests: [{request_id, state}]} and ``lost`` (same shape), defined in
  ``bench._chaos_outcome``: stuck = not final at the end; lost = stuck with no way forward;
- ``max_gdpr_deletes_per_subject`` (the simulator's own counters), ``duplicate_gdpr_deletes`` (per subject,
  those beyond the one per external contact its erasure needs);
- ``remnants``: COMPLETED subjects the simulator still finds by any identifier the ground truth gives them;
- ``audit_ok`` (``AuditLog.verify`` on the run's prefix), ``redrives`` (audit events ``watchdog.redriven``);
- ``manual_resume_needed``: anything stuck at the end;
- ``faults`` (by kind, as fired), ``faults_skipped``, ``fault_answers`` (what the simulator's faults
  answered, by family and kind), ``fault_timeline``, ``unexpected_worker_exits``;
- ``last_fault_to_last_final_s``: from the end of the last fault (a worker or Redis back, the outage
  over, a burst sent) to the moment the last request was seen final (polled every second);
- ``gdpr_error_subjects``: the requests whose GDPR_DELETE the simulator ended in ERROR, and whether each
  ended PARTIAL with a reason;
- ``targets``: each invariant above, true when it held. The exit status is 0 only when all did.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import redis
from genesys_sim.config import SimConfig

from bench._chaos_faults import FaultRunner
from bench._chaos_outcome import (
    ABSENT,
    gdpr_deletes_needed,
    gdpr_deletes_per_subject,
    remnants,
    stuck_and_lost,
    surplus_gdpr_deletes,
)
from bench._chaos_schedule import FAMILIES, Options, build
from bench._chaos_stack import ChaosStack
from services.intake.bulk import LineResult, read_lines, submit_lines
from services.intake.submit import submit
from shared.celery_app import app, configure
from shared.models import RequestState
from shared.runtime import Runtime
from shared.store import UnknownRequest

RESULTS = Path(__file__).parent / "results" / "chaos.json"
REDRIVE_EVENT = "watchdog.redriven"
FINAL = frozenset(s.value for s in RequestState if s.is_final)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench chaos")
    parser.add_argument("--subjects", type=int, default=1000, help="requests submitted (customers and agents)")
    parser.add_argument("--agents", type=int, default=None,
                        help="of which former agents, erased by user id (default: 1 in 50, at least 1)")
    parser.add_argument("--seed", type=int, default=7, help="seeds the organisation and the fault schedule")
    parser.add_argument("--fault-window", type=float, default=180.0, help="faults fire during this many seconds")
    parser.add_argument("--kill-every", type=float, default=15.0, help="seconds between worker kills (±30 %%)")
    parser.add_argument("--redis-down", type=float, default=5.0, help="seconds Redis stays down")
    parser.add_argument("--outage", type=float, default=30.0, help="seconds the platform is unreachable")
    parser.add_argument("--gdpr-errors", type=int, default=3, help="GDPR requests the platform ends in ERROR")
    parser.add_argument("--cap-s", type=float, default=1800.0, help="give up waiting this long after submission")
    parser.add_argument("--recordings", choices=["deferred", "per_request"], default="deferred")
    parser.add_argument("--visibility-timeout", type=int, default=60, help="the broker's visibility timeout, s")
    parser.add_argument("--client-timeout", type=float, default=5.0, help="the API client's timeout, s")
    parser.add_argument("--rate", type=float, default=100.0, help="simulator rate limit, requests per second")
    parser.add_argument("--gdpr-step", type=float, default=2.0,
                        help="seconds a GDPR request spends in each platform state (3 states)")
    parser.add_argument("--concurrency", type=int, default=2, help="prefork children per pool")
    parser.add_argument("--no-supervise", action="store_true",
                        help="leave a worker that exits by itself down (bare `celery worker` commands)")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="FIELD=VALUE",
                        help="any other Settings field for the workers (repeatable)")
    parser.add_argument("--progress-s", type=float, default=5.0, help="seconds between progress lines")
    parser.add_argument("--log-dir", type=Path, default=Path("erasure-output") / "bench-chaos",
                        help="worker logs")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    if not args.in_process:
        # A fresh process: the Celery app is configured once per process, here for this run's own Redis.
        return subprocess.call([sys.executable, "-m", "bench.chaos", *argv, "--in-process"])
    command = "python -m bench chaos " + " ".join(a for a in argv if a != "--in-process")
    report = run(args, command.strip())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    summary = {k: report[k] for k in ("subjects", "final_by_state", "max_gdpr_deletes_per_subject", "remnants",
                                      "audit_ok", "redrives", "manual_resume_needed", "last_fault_to_last_final_s")}
    print(json.dumps({**summary, "stuck": report["stuck"]["count"], "lost": report["lost"]["count"],
                      "faults": report["faults"]}), flush=True)
    failed = [k for k, ok in report["targets"].items() if not ok]
    print("targets met" if not failed else "targets NOT met: " + ", ".join(failed), flush=True)
    print(f"results: {args.output}", flush=True)
    return 0 if not failed else 1


@dataclass
class Submitted:
    """The run's requests: request id -> the simulator's subject id, and each subject's identifiers."""

    subject_of: dict[str, str] = field(default_factory=dict)
    values: dict[str, list[str]] = field(default_factory=dict)
    # GDPR_DELETEs each subject's erasure needs (one per external contact; an agent one).
    needed: dict[str, int] = field(default_factory=dict)


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "require_approval": False,
        "rate_per_minute": args.rate * 60 * 0.97,
        "rate_burst": 5,
        "batch_size": 25,
        "poll_mode": "list",
        "poll_interval_s": 1,
        "poll_max_interval_s": 2,
        "discovery_lookback_days": 90,
        "sync_query_max_days": 120,
        "genesys_timeout_s": args.client_timeout,
        "recordings": args.recordings,
        **_timings(args.visibility_timeout),
    }
    for item in args.settings:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set takes FIELD=VALUE, not {item!r}")
        overrides[name] = value
    return overrides


def _timings(visibility_timeout_s: int) -> dict[str, Any]:
    """Every wait scaled to the run's visibility timeout, as Settings requires (time limits and countdowns
    below it) and the watchdog needs (a stall longer than the longest countdown plus its interval), so that
    a compressed run heals as fast as its redelivery, by the same rules production runs by."""
    vis = visibility_timeout_s
    timings: dict[str, Any] = {
        "visibility_timeout_s": vis,
        "task_time_limit_s": max(5, int(vis * 0.75)),
        "retry_backoff_cap_s": max(1.0, vis / 5),
        "active_revisit_s": max(1.0, vis / 4),
        "details_job_wait_s": min(5.0, max(0.5, vis / 10)),
        "watchdog_interval_s": max(1.0, vis / 10),
    }
    longest = max(2.0, timings["retry_backoff_cap_s"], timings["active_revisit_s"], timings["details_job_wait_s"])
    # As in production (1,200 s against 900 s), the stall outlasts Redis's own redelivery, so the watchdog
    # acts on what nothing else would; a shorter one re-drives requests only waiting in a queue backlog.
    timings["stall_after_s"] = max(longest + timings["watchdog_interval_s"] + 2.0, vis * 4 / 3)
    return timings


def _submit(runtime: Runtime, stack: ChaosStack, args: argparse.Namespace, workdir: Path) -> Submitted:
    """Submit the run's subjects through the intake's file door, as ``erasure submit --file`` does."""
    customers = httpx.get(f"{stack.url}/_sim/subjects", timeout=120).json()[:-1]  # the last one is the warm-up's
    agents = httpx.get(f"{stack.url}/_sim/agents", timeout=120).json()
    lines: list[dict[str, Any]] = []
    subjects: list[tuple[str, list[str]]] = []
    submitted = Submitted()
    for n, person in enumerate(customers[:args.subjects - len(agents)]):
        lines.append({"ticket": f"CHAOS-{n}", "emails": person["emails"][:1], "phones": person["phones"][:1]})
        subjects.append((person["id"], [*person["emails"], *person["phones"]]))
        submitted.needed[person["id"]] = gdpr_deletes_needed(person)
    for n, agent in enumerate(agents):
        lines.append({"ticket": f"CHAOS-A{n}", "user_id": agent["user_id"]})
        subjects.append((agent["id"], [agent["user_id"]]))
    path = workdir / "subjects.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    results: list[LineResult] = []
    summary = submit_lines(runtime, read_lines(path), on_line=results.append)
    if summary.refused or summary.accepted != len(lines):
        raise RuntimeError(f"the intake refused part of the run's file: {summary.text()}")
    for result, (subject, values) in zip(results, subjects, strict=True):
        assert result.request_id is not None
        submitted.subject_of[result.request_id] = subject
        submitted.values[subject] = values
    return submitted


def _warm_up(runtime: Runtime, stack: ChaosStack, timeout_s: float = 240.0) -> None:
    """One subject through every pool before the clock starts, so worker start-up is not under fault."""
    warm = httpx.get(f"{stack.url}/_sim/subjects", timeout=120).json()[-1]
    request_id = submit(runtime, {"ticket": "CHAOS-WARM", "emails": warm["emails"][:1]}).request_id
    deadline = time.monotonic() + timeout_s
    while runtime.store.get(request_id).state.value not in FINAL:
        if time.monotonic() > deadline or stack.exited():
            raise RuntimeError(f"the warm-up request did not finish; worker exits: {stack.exited()}")
        time.sleep(0.5)


def _states(runtime: Runtime, ids: list[str]) -> dict[str, str] | None:
    """Every request's state (``absent`` when its record is gone), or None while Redis does not answer."""
    try:
        found = runtime.store.states(ids)
    except redis.exceptions.RedisError:
        return None
    return {rid: found[rid].value if rid in found else ABSENT for rid in ids}


def _progress(runner: FaultRunner, states: dict[str, str] | None, total: int) -> str:
    line = f"  chaos {runner.now_s():6.0f}s"
    if states is None:
        line += " states unknown (redis down)"
    else:
        counts = Counter(states.values())
        done = sum(n for state, n in counts.items() if state in FINAL)
        rest = ", ".join(f"{state} {n}" for state, n in sorted(counts.items()) if state not in FINAL)
        line += f" final {done}/{total}" + (f" ({rest})" if rest else "")
    line += f"; faults fired {sum(runner.fired.values())}"
    down = [pool for pool in runner.stack.exited()]
    if runner.redis_down:
        down.append("redis")
    return line + (f"; down: {', '.join(down)}" if down else "")


def _watch(runtime: Runtime, runner: FaultRunner, ids: list[str], cap_s: float,
           progress_s: float) -> dict[str, float]:
    """Fire the schedule and watch until every request is final or the cap; when each was first seen final."""
    first_final: dict[str, float] = {}
    next_progress = 0.0
    next_poll = 0.0
    while True:
        runner.tick()
        now = runner.now_s()
        if now >= next_poll:
            next_poll = now + 1.0
            states = _states(runtime, ids)
            for rid, state in (states or {}).items():
                if state in FINAL:
                    first_final.setdefault(rid, now)
            if now >= next_progress:
                next_progress = now + progress_s
                print(_progress(runner, states, len(ids)), flush=True)
            if states is not None and all(s in FINAL for s in states.values()):
                runner.finish()
                return first_final
        if now > cap_s:
            runner.finish()
            return first_final
        time.sleep(0.2)  # the loop's pace; every wait above is on a deadline


def _final_states(runtime: Runtime, ids: list[str], timeout_s: float = 120.0) -> dict[str, str]:
    deadline = time.monotonic() + timeout_s
    while (states := _states(runtime, ids)) is None:
        if time.monotonic() > deadline:
            raise RuntimeError("the bench's Redis did not come back")
        time.sleep(0.5)
    return states


def _fault_answers(stats: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The simulator's faulted answers by endpoint family and kind."""
    out: dict[str, Counter[str]] = {}
    for row in stats["faulted"]:
        family = next((name for name, prefix in sorted(FAMILIES.items(), key=lambda kv: -len(kv[1]))
                       if str(row["path"]).startswith(prefix)), "other")
        out.setdefault(family, Counter())[row["kind"]] += int(row["count"])
    return {family: dict(kinds) for family, kinds in sorted(out.items())}


def _gdpr_errors(runtime: Runtime, stats: dict[str, Any], submitted: Submitted) -> list[dict[str, Any]]:
    request_of = {subject: rid for rid, subject in submitted.subject_of.items()}
    out = []
    for row in stats["gdpr_errored"]:
        rid = request_of.get(row["subject"])
        if row["requestType"] != "GDPR_DELETE" or rid is None:
            continue
        try:
            record = runtime.store.get(rid)
        except UnknownRequest:
            out.append({"subject": row["subject"], "request_id": rid, "state": ABSENT, "reason": None,
                        "partial_with_reason": False})
            continue
        out.append({"subject": row["subject"], "request_id": rid, "state": record.state.value, "reason": record.reason,
                    "partial_with_reason": record.state is RequestState.PARTIAL and bool(record.reason)})
    return out


def machine(stack: ChaosStack) -> dict[str, Any]:
    assert stack.redis is not None
    return {"cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "redis": stack.redis.version(), "celery": version("celery"), "kombu": version("kombu")}


def run(args: argparse.Namespace, command: str) -> dict[str, Any]:
    agents = args.agents if args.agents is not None else max(1, args.subjects // 50)
    sim_config = SimConfig(subjects=args.subjects - agents + 1, seed=args.seed, rate_limit=int(args.rate * 60),
                           rate_window_s=60, gdpr_step_s=args.gdpr_step, linked_fraction=0.3, former_agents=agents)
    args.log_dir.mkdir(parents=True, exist_ok=True)
    for old in args.log_dir.glob("worker-*.log"):
        old.unlink()
    options = Options(seed=args.seed, window_s=args.fault_window, kill_every_s=args.kill_every,
                      redis_down_s=args.redis_down, outage_s=args.outage, gdpr_errors=args.gdpr_errors,
                      client_timeout_s=args.client_timeout)
    schedule = build(options)
    with tempfile.TemporaryDirectory(prefix="erasure-chaos-run-") as workdir, \
            ChaosStack(sim_config, _settings(args), args.log_dir, concurrency=args.concurrency) as stack:
        assert stack.settings is not None
        configure(app, stack.settings)  # this process submits to the run's own Redis, as the workers read it
        runtime = Runtime.from_settings(stack.settings)
        began = time.monotonic()
        stack.start_workers()
        print(f"chaos: {len(schedule)} scheduled events over {args.fault_window:.0f}s; warming up", flush=True)
        _warm_up(runtime, stack)
        warm_s = time.monotonic() - began
        began = time.monotonic()
        submitted = _submit(runtime, stack, args, Path(workdir))
        submit_s = time.monotonic() - began
        ids = list(submitted.subject_of)
        print(f"chaos: {len(ids)} requests submitted in {submit_s:.1f}s; faults start", flush=True)
        runner = FaultRunner(stack, schedule, args.seed, started=time.monotonic(),
                             supervise_delay_s=None if args.no_supervise else 3.0)
        first_final = _watch(runtime, runner, ids, args.cap_s, args.progress_s)
        wall_s = runner.now_s()
        states = _final_states(runtime, ids)
        stuck, lost = stuck_and_lost(states, runtime)
        stats = stack.stats()
        deletes = gdpr_deletes_per_subject(stats, submitted.values)
        erased = {submitted.subject_of[rid] for rid, state in states.items() if state == RequestState.COMPLETED.value}
        leftovers = remnants(stack.url, {s: submitted.values[s] for s in erased})
        audit = runtime.audit.verify()
        redrives = sum(1 for entry in runtime.audit.entries() if entry.get("event") == REDRIVE_EVENT)
        gdpr_errors = _gdpr_errors(runtime, stats, submitted)
        api_calls = sum(int(r["count"]) for r in stats["requests"] if str(r["path"]).startswith("/api/v2"))
        host = machine(stack)
    finals = [first_final[rid] for rid, state in states.items() if state in FINAL and rid in first_final]
    last_final_s = max(finals) if finals else None
    last_fault = runner.last_fault_end_s
    report: dict[str, Any] = {
        "subjects": len(ids),
        "agents": agents,
        "final_by_state": dict(sorted(Counter(states.values()).items())),
        "stuck": {"count": len(stuck), "requests": stuck},
        "lost": {"count": len(lost), "requests": lost},
        "max_gdpr_deletes_per_subject": max(deletes.values(), default=0),
        # Beyond what each erasure needs (one per external contact of the subject): a second submission.
        "duplicate_gdpr_deletes": surplus_gdpr_deletes(deletes, submitted.needed),
        "gdpr_deletes": sum(deletes.values()),
        "remnants": len(leftovers),
        "remnant_subjects": sorted(leftovers),
        "audit_ok": audit.problem is None,
        "audit_entries": audit.entries,
        "audit_problem": None if audit.problem is None else audit.problem.reason,
        "redrives": redrives,
        "manual_resume_needed": bool(stuck),
        "faults": dict(sorted(runner.fired.items())),
        "faults_skipped": dict(sorted(runner.skipped.items())),
        "fault_answers": _fault_answers(stats),
        "faults_pending_at_end": len(stats["faults_pending"]),
        "gdpr_errors_pending_at_end": stats["gdpr_errors_pending"],
        "unexpected_worker_exits": runner.unexpected_exits,
        "last_fault_end_s": None if last_fault is None else round(last_fault, 1),
        "last_final_s": None if last_final_s is None else round(last_final_s, 1),
        "last_fault_to_last_final_s": None if last_fault is None or last_final_s is None
        else round(last_final_s - last_fault, 1),
        "gdpr_error_subjects": gdpr_errors,
        "api_calls": api_calls,
        "api_calls_per_subject": round(api_calls / max(1, len(ids)), 2),
        "wall_s": round(wall_s, 1),
        "submit_s": round(submit_s, 1),
        "warm_up_s": round(warm_s, 1),
        "run": {"seed": args.seed, "fault_window_s": args.fault_window, "kill_every_s": args.kill_every,
                "redis_down_s": args.redis_down, "outage_s": args.outage, "gdpr_errors": args.gdpr_errors,
                "cap_s": args.cap_s, "recordings": args.recordings, "visibility_timeout_s": args.visibility_timeout,
                "client_timeout_s": args.client_timeout, "rate_per_s": args.rate, "gdpr_step_s": args.gdpr_step,
                "pools": f"prefork x{args.concurrency}", "supervised": not args.no_supervise,
                "settings": args.settings},
        "fault_timeline": runner.timeline,
        "command": command,
        "machine": host,
    }
    report["targets"] = {
        "no_stuck": not stuck,
        "no_lost": not lost,
        "no_duplicate_gdpr_delete": not report["duplicate_gdpr_deletes"],
        "no_remnants": not leftovers,
        "audit_ok": report["audit_ok"],
        "no_manual_resume": not report["manual_resume_needed"],
        "gdpr_errors_partial_with_reason": all(e["partial_with_reason"] for e in gdpr_errors),
    }
    return report


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
