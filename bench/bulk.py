"""Bulk erasure benchmark: thousands of subjects end to end against the simulator, batched
versus naive, under one rate budget.

    python -m bench bulk [--subjects 10000] [--naive-subjects 1000] [--rate 100] [--quick]

Both runs use the same synthetic organisation generator, rate limit and poll settings. The
batched run is the default pipeline (batches of 25: analytics queries and external-contact bulk
reads and removals shared by the batch, one list sweep for all pending GDPR requests). The naive
run is the same code with batches of one (so its bulk calls carry one subject's contacts) and GETs
each GDPR request alone. Figures come from the simulator's own counters.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Protocol

import httpx
from genesys_sim.config import SimConfig

from bench._chaos_outcome import gdpr_deletes_needed, surplus_gdpr_deletes
from bench._stack import BenchStack, api_answers, machine, run_child
from services.intake.submit import enqueue_discovery, submit
from shared.celery_app import app, configure
from shared.models import Lane
from shared.runtime import Runtime

RESULTS = Path(__file__).parent / "results" / "bulk.json"


def sim_config(subjects: int, rate: float, window_s: float, seed: int, gdpr_step_s: float) -> SimConfig:
    return SimConfig(subjects=subjects, seed=seed, rate_limit=int(rate * window_s), rate_window_s=window_s,
                     gdpr_step_s=gdpr_step_s, linked_fraction=0.3)


class Probe(Protocol):
    """What a benchmark built on ``run`` (``bench.scale``) measures on the run's Redis keys: ``started`` once
    the measured subjects are about to be submitted, ``finished`` once all are final (the keys still there)."""

    def started(self, stack: BenchStack) -> None: ...

    def finished(self, stack: BenchStack, request_ids: list[str]) -> dict[str, Any]: ...


def overrides(rate: float, batched: bool = True) -> dict[str, Any]:
    """The run's ``Settings`` on top of the stack's: shared with ``bench mixed``, so its bulk run is this one."""
    return {
        "rate_per_minute": rate * 60 * 0.97,
        "rate_burst": 5,
        "batch_size": 25 if batched else 1,
        "poll_mode": "list" if batched else "each",
        "poll_interval_s": 1,
        "poll_max_interval_s": 2,
        "discovery_lookback_days": 90,
        "sync_query_max_days": 120,
        "visibility_timeout_s": 3600,
        # Thousands of subjects: recordings go to the retention purge's packed jobs (2 per org).
        "recordings": "deferred",
    }


def run(mode: str, subjects: int, rate: float, window_s: float, gdpr_step_s: float, log_dir: Path,
        seed: int = 11, probe: Probe | None = None) -> dict[str, Any]:
    config = sim_config(subjects, rate, window_s, seed, gdpr_step_s)
    with BenchStack(config, overrides(rate, mode == "batched"), log_dir / mode) as stack:
        assert stack.settings is not None
        configure(app, stack.settings)  # this process submits to the run's queues, as the workers read them
        runtime = Runtime.from_settings(stack.settings)
        ground_truth = httpx.get(f"{stack.url}/_sim/subjects", timeout=120).json()
        needed = {s["id"]: gdpr_deletes_needed(s) for s in ground_truth}
        stack.start_workers()
        # Warm-up: one subject through every pool, so worker start-up is not counted.
        warm = ground_truth.pop()
        warm_id = submit(runtime, {"ticket": f"WARM-{mode}", "emails": warm["emails"][:1],
                                   "approved_by": "bench"}).request_id
        _wait(runtime, [warm_id], time.monotonic(), timeout_s=120)
        before = stack.stats()
        if probe is not None:
            probe.started(stack)
        started = time.monotonic()
        ids: list[str] = []
        batch: list[str] = []
        for n, subject in enumerate(ground_truth):
            payload = {"ticket": f"BULK-{mode}-{n}", "emails": subject["emails"][:1],
                       "phones": subject["phones"][:1], "approved_by": "bench"}
            batch.append(submit(runtime, payload, enqueue=False, lane=Lane.BULK).request_id)
            if len(batch) >= runtime.settings.batch_size:
                enqueue_discovery(runtime, batch, Lane.BULK)
                ids += batch
                batch = []
        enqueue_discovery(runtime, batch, Lane.BULK)
        ids += batch
        states = _wait(runtime, ids, started, timeout_s=3 * 3600)
        wall = time.monotonic() - started
        after = stack.stats()
        probed = {} if probe is None else probe.finished(stack, [warm_id, *ids])

    total_before, limited_before = api_answers(before)
    total_after, limited_after = api_answers(after)
    api_calls = total_after - total_before
    by_endpoint: Counter[str] = Counter()
    for row in after["requests"]:
        if str(row["path"]).startswith("/api/v2"):
            by_endpoint[f"{row['method']} {row['path']}"] += int(row["count"])
    for row in before["requests"]:
        if str(row["path"]).startswith("/api/v2"):
            by_endpoint[f"{row['method']} {row['path']}"] -= int(row["count"])
    # GDPR_DELETEs per subject during the measured run (the warm-up subject's is in `before`).
    deletes: Counter[str] = Counter()
    for snapshot, sign in ((after, 1), (before, -1)):
        for row in snapshot["gdpr_requests"]:
            if row["requestType"] == "GDPR_DELETE":
                deletes[row["subject"]] += sign * int(row["count"])
    counts = Counter(states.values())
    ideal = api_calls / rate
    return {
        "mode": mode,
        "subjects": len(ids),
        "erased": counts.get("completed", 0),
        "states": dict(counts),
        "api_calls": api_calls,
        "rate_limited": limited_after - limited_before,
        "calls_per_subject": round(api_calls / max(1, len(ids)), 3),
        "wall_s": round(wall, 1),
        "ideal_s": round(ideal, 1),
        "time_ratio": round(wall / ideal, 3) if ideal else None,
        "duplicate_deletes": sum(surplus_gdpr_deletes(deletes, needed).values()),
        "gdpr_deletes": sum(deletes.values()),
        # One per external contact of each measured subject (a GDPRSubject names one contact).
        "gdpr_deletes_needed": sum(needed.get(s["id"], 1) for s in ground_truth),
        "calls_per_subject_by_endpoint": {k: round(v / max(1, len(ids)), 3)
                                          for k, v in by_endpoint.most_common() if v},
        **probed,
    }


def _wait(runtime: Any, ids: list[str], started: float, timeout_s: float) -> dict[str, str]:
    from shared.models import FINAL_STATES

    deadline = time.monotonic() + timeout_s
    last_print = 0.0
    while True:
        states = runtime.store.states(ids)
        done = sum(1 for s in states.values() if s in FINAL_STATES)
        now = time.monotonic()
        if now - last_print > 10:
            print(f"  {done}/{len(ids)} final after {now - started:.0f}s", flush=True)
            last_print = now
        if done == len(ids) or now > deadline:
            return {rid: s.value for rid, s in states.items()}
        time.sleep(2)


def _run_in_subprocess(mode: str, subjects: int, rate: float, window: float, gdpr_step: float) -> dict[str, Any]:
    """Each run in a fresh process: nothing left over from the other run."""
    return run_child("bench.bulk", ["--one", mode, "--subjects", str(subjects), "--rate", str(rate),
                                    "--window", str(window), "--gdpr-step", str(gdpr_step)], f"{mode} run")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench bulk")
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--naive-subjects", type=int, default=1_000)
    parser.add_argument("--rate", type=float, default=100.0, help="simulator rate limit, requests per second")
    parser.add_argument("--window", type=float, default=60.0,
                        help="simulator rate window, seconds (the platform's is a minute)")
    parser.add_argument("--gdpr-step", type=float, default=8.0,
                        help="seconds a GDPR request spends in each platform state (3 states)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 60 subjects; writes only to an --output given")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--one", choices=["batched", "naive"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        # Small and short: GDPR requests of 3 s and a 10 s rate window, so the smoke test takes about a minute.
        args.subjects, args.naive_subjects, args.rate, args.window, args.gdpr_step = 60, 30, 150.0, 10.0, 1.0
    log_dir = Path("erasure-output") / "bench-bulk"
    runs = []
    if args.one:
        result = run(args.one, args.subjects + 1, args.rate, args.window, args.gdpr_step, log_dir)
        print("RESULT " + json.dumps(result), flush=True)
        return 0
    for mode, subjects in (("batched", args.subjects), ("naive", args.naive_subjects)):
        print(f"bulk: {mode} run, {subjects} subjects, rate {args.rate}/s", flush=True)
        result = _run_in_subprocess(mode, subjects, args.rate, args.window, args.gdpr_step)
        print(json.dumps(result), flush=True)
        runs.append(result)
    batched, naive = runs
    report = {
        **batched,
        "naive": naive,
        "calls_per_subject_vs_naive": round(batched["calls_per_subject"] / naive["calls_per_subject"], 3),
        "rate_per_s": args.rate,
        "rate_window_s": args.window,
        "gdpr_step_s": args.gdpr_step,
        "command": "python -m bench bulk " + " ".join(argv),
        "machine": machine(),
    }
    targets = {
        "erased_all": batched["erased"] == batched["subjects"],
        "no_duplicate_deletes": batched["duplicate_deletes"] == 0,
        "time_ratio_at_most_1.10": (batched["time_ratio"] or 99) <= 1.10,
        "calls_per_subject_at_most_half_naive": report["calls_per_subject_vs_naive"] <= 0.5,
    }
    report["targets"] = targets
    print(f"{'mode':8} {'subjects':>8} {'erased':>7} {'calls':>8} {'calls/subj':>10} {'wall_s':>8} "
          f"{'ideal_s':>8} {'ratio':>6} {'dup':>4}")
    for r in runs:
        print(f"{r['mode']:8} {r['subjects']:>8} {r['erased']:>7} {r['api_calls']:>8} {r['calls_per_subject']:>10} "
              f"{r['wall_s']:>8} {r['ideal_s']:>8} {r['time_ratio']:>6} {r['duplicate_deletes']:>4}")
    if not args.quick:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2) + "\n")
    elif args.output != RESULTS:
        args.output.write_text(json.dumps(report, indent=2) + "\n")
    ok = all(targets.values())
    print("targets met" if ok else "targets NOT met: " + ", ".join(k for k, v in targets.items() if not v))
    return 0 if ok or args.quick else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
