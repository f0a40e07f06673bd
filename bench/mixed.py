"""Mixed-load benchmark (issue 21): single requests submitted during a bulk run that saturates the rate
budget, against the same requests on an idle system.

    python -m bench mixed [--subjects 3000] [--singles 5] [--rate 100] [--quick]

Two phases, each on a fresh stack (simulator, four pools, key prefix) built from the same simulator
config and seed, so both hold the same organisation and the same subjects:

- **idle**: nothing else running; the K singles are submitted one at a time, each waiting for its end.
- **mixed**: the N bulk subjects are submitted in the bulk lane in batches (as ``bench bulk`` does), and
  the same K singles (the same subjects of the same organisation) in the interactive lane at even
  intervals while the bulk run is under way.

A fresh stack for the mixed phase because the idle phase erased the singles' subjects: on the same stack
their second erasure would find nothing and be a shorter request, not the same one. A single's time runs
from just before its submission to its certificate's ``issued_at`` (signed after the request's final
state is stored, in the same task step, and stored with it), so the figure does not depend on how often
this process polls. The bulk run's time and its floor are measured as in ``bench bulk``: from the first
bulk submission to its last request's final state; floor = every API call in that time (the singles'
included) / rate.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench._stack import BenchStack, api_answers, machine, run_child
from bench.bulk import overrides, sim_config
from services.intake.submit import enqueue_discovery, submit
from shared.celery_app import app, configure
from shared.models import FINAL_STATES, Lane
from shared.runtime import Runtime

RESULTS = Path(__file__).parent / "results" / "mixed.json"
#: API calls per subject of the batched bulk run (bench/results/bulk.json): sizes the singles' schedule.
CALLS_PER_SUBJECT = 9.6
#: The singles are spread over this share of the bulk run's expected floor, so each is submitted while it runs.
SPREAD = 0.8
IDLE_RATIO = 1.5
FLOOR_RATIO = 1.15


def _payload(ticket: str, subject: dict[str, Any]) -> dict[str, Any]:
    return {"ticket": ticket, "emails": subject["emails"][:1], "phones": subject["phones"][:1], "approved_by": "bench"}


def _issued_at(runtime: Runtime, request_id: str) -> datetime | None:
    """When the request's certificate was signed, or None while it has none."""
    raw = runtime.redis.get(runtime.keys.certificate(request_id))
    return None if raw is None else datetime.fromisoformat(json.loads(str(raw))["issued_at"])


def _until(check: Callable[[], bool], timeout_s: float, every_s: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(every_s)
    return True


class Singles:
    """The K single requests of a phase: submitted in the interactive lane, timed to their certificates."""

    def __init__(self, runtime: Runtime, subjects: list[dict[str, Any]], phase: str) -> None:
        self.runtime, self.subjects, self.phase = runtime, subjects, phase
        self.ids: list[str] = []
        self.submitted: list[datetime] = []
        self.issued: dict[str, datetime] = {}

    def submit_next(self) -> str:
        n = len(self.ids)
        self.submitted.append(datetime.now(UTC))
        self.ids.append(submit(self.runtime, _payload(f"SINGLE-{self.phase}-{n}", self.subjects[n])).request_id)
        return self.ids[-1]

    def poll(self) -> bool:
        """Note the certificates issued since the last call; True once every submitted single has one."""
        for rid in self.ids:
            if rid not in self.issued and (issued := _issued_at(self.runtime, rid)) is not None:
                self.issued[rid] = issued
        return len(self.issued) == len(self.ids)

    def rows(self) -> list[dict[str, Any]]:
        states = self.runtime.store.states(self.ids)
        return [{"single": n, "subject": self.subjects[n]["id"], "state": states[rid].value,
                 "submitted_at": self.submitted[n].isoformat(),
                 "time_to_certificate_s": round((self.issued[rid] - self.submitted[n]).total_seconds(), 2)
                 if rid in self.issued else None}
                for n, rid in enumerate(self.ids)]


def _layout(ground_truth: list[dict[str, Any]], singles: int) -> tuple[dict[str, Any], list[dict[str, Any]],
                                                                       list[dict[str, Any]]]:
    """(warm-up subject, the singles' subjects, the bulk subjects): the same in both phases (same seed)."""
    return ground_truth[-1], ground_truth[-1 - singles:-1], ground_truth[:-1 - singles]


def run(phase: str, bulk_subjects: int, singles: int, rate: float, window_s: float, gdpr_step_s: float,
        log_dir: Path, seed: int = 11) -> dict[str, Any]:
    config = sim_config(bulk_subjects + singles + 1, rate, window_s, seed, gdpr_step_s)
    with BenchStack(config, overrides(rate), log_dir / phase) as stack:
        assert stack.settings is not None
        configure(app, stack.settings)  # this process submits to the run's queues, as the workers read them
        runtime = Runtime.from_settings(stack.settings)
        warm, single_subjects, bulk = _layout(httpx.get(f"{stack.url}/_sim/subjects", timeout=120).json(), singles)
        stack.start_workers()
        # Warm-up: one subject through every pool, so worker start-up is not counted.
        warm_id = submit(runtime, _payload(f"WARM-{phase}", warm)).request_id
        if not _until(lambda: _issued_at(runtime, warm_id) is not None, 300):
            raise RuntimeError("the warm-up request got no certificate")
        timed = Singles(runtime, single_subjects, phase)
        if phase == "idle":
            for _ in single_subjects:
                rid = timed.submit_next()
                if not _until(timed.poll, 600):
                    raise RuntimeError(f"idle single {rid} got no certificate")
                print(f"  idle single {len(timed.ids) - 1}: {timed.rows()[-1]['time_to_certificate_s']}s", flush=True)
            return {"phase": phase, "singles": timed.rows()}
        return _mixed(stack, runtime, timed, bulk, rate)


def _mixed(stack: BenchStack, runtime: Runtime, timed: Singles, bulk: list[dict[str, Any]],
           rate: float) -> dict[str, Any]:
    expected_floor = len(bulk) * CALLS_PER_SUBJECT / rate
    k = len(timed.subjects)
    before = stack.stats()
    started, started_at = time.monotonic(), datetime.now(UTC)
    due = [started + SPREAD * expected_floor * (n + 1) / (k + 1) for n in range(k)]
    during_bulk: list[bool] = []

    def submit_due(bulk_running: bool) -> None:
        while len(timed.ids) < k and (time.monotonic() >= due[len(timed.ids)] or not bulk_running):
            timed.submit_next()
            during_bulk.append(bulk_running)

    ids: list[str] = []
    enqueued_at: dict[str, datetime] = {}
    batch: list[str] = []
    for n, subject in enumerate(bulk):
        batch.append(submit(runtime, _payload(f"BULK-{n}", subject), enqueue=False, lane=Lane.BULK).request_id)
        if len(batch) >= runtime.settings.batch_size or n == len(bulk) - 1:
            enqueue_discovery(runtime, batch, Lane.BULK)
            enqueued_at.update(dict.fromkeys(batch, datetime.now(UTC)))
            ids += batch
            batch = []
            submit_due(bulk_running=True)
    wall: float | None = None
    after: dict[str, Any] = {}
    deadline = started + 3 * 3600
    last_states = last_print = 0.0
    while True:
        now = time.monotonic()
        if wall is None and now - last_states >= 2:
            last_states = now
            states = runtime.store.states(ids)
            done = sum(1 for s in states.values() if s in FINAL_STATES)
            if done == len(ids):
                wall = now - started
                after = stack.stats()
            if now - last_print >= 10:
                print(f"  bulk {done}/{len(ids)} final, singles {len(timed.issued)}/{k} certified "
                      f"after {now - started:.0f}s", flush=True)
                last_print = now
        submit_due(bulk_running=wall is None)
        if (timed.poll() and len(timed.ids) == k and wall is not None) or now > deadline:
            break
        time.sleep(0.25)
    if wall is None:
        raise RuntimeError("the bulk run did not end before the deadline")
    bulk_states = runtime.store.states(ids)
    bulk_issued = {rid: _issued_at(runtime, rid) for rid in ids}
    rows = timed.rows()
    for row, rid, submitted in zip(rows, timed.ids, timed.submitted, strict=True):
        row["submitted_during_bulk"] = during_bulk[row["single"]]
        row["submitted_after_s"] = round((submitted - started_at).total_seconds(), 1)  # after the first bulk submission
        row["overtook_bulk"] = _overtaken(submitted, timed.issued.get(rid), enqueued_at, bulk_issued)
    total_before, limited_before = api_answers(before)
    total_after, limited_after = api_answers(after)
    api_calls = total_after - total_before
    floor = api_calls / rate
    return {
        "phase": "mixed",
        "singles": rows,
        "bulk": {
            "subjects": len(ids),
            "completed": sum(1 for s in bulk_states.values() if s.value == "completed"),
            "api_calls": api_calls,
            "rate_limited": limited_after - limited_before,
            "calls_per_subject": round(api_calls / max(1, len(ids)), 3),
            "wall_s": round(wall, 1),
            "floor_s": round(floor, 1),
            "time_ratio": round(wall / floor, 3) if floor else None,
        },
    }


def _overtaken(submitted: datetime, issued: datetime | None, enqueued_at: dict[str, datetime],
               bulk_issued: dict[str, datetime | None]) -> int:
    """Bulk requests queued before a single that got their certificate after it (or none): the backlog it
    overtook. Not zero even with one FIFO queue (a bulk batch waits on its GDPR requests while a single
    goes on), so it says how far ahead a single got, not whether the lanes work: its time against idle does."""
    if issued is None:
        return 0
    return sum(1 for rid, queued in enqueued_at.items()
               if queued < submitted and ((done := bulk_issued[rid]) is None or done > issued))


def _run_in_subprocess(phase: str, args: argparse.Namespace) -> dict[str, Any]:
    """Each phase in a fresh process: nothing left over from the other."""
    return run_child("bench.mixed", ["--one", phase, "--subjects", str(args.subjects), "--singles", str(args.singles),
                                     "--rate", str(args.rate), "--window", str(args.window),
                                     "--gdpr-step", str(args.gdpr_step)], f"{phase} phase")


def report(idle: dict[str, Any], mixed: dict[str, Any], args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    """The results file: the singles' times idle and mixed, per single and summed up, the bulk run, targets."""
    pairs = []
    for quiet, busy in zip(idle["singles"], mixed["singles"], strict=True):
        assert quiet["subject"] == busy["subject"], "the phases' singles must be the same subjects"
        q, b = quiet["time_to_certificate_s"], busy["time_to_certificate_s"]
        pairs.append({"single": quiet["single"], "subject": quiet["subject"], "idle_s": q, "mixed_s": b,
                      "ratio": round(b / q, 3) if q and b is not None else None,
                      "submitted_during_bulk": busy["submitted_during_bulk"],
                      "submitted_after_s": busy["submitted_after_s"], "overtook_bulk": busy["overtook_bulk"],
                      "idle_state": quiet["state"], "mixed_state": busy["state"]})
    idle_s = [p["idle_s"] for p in pairs if p["idle_s"] is not None]
    mixed_s = [p["mixed_s"] for p in pairs if p["mixed_s"] is not None]
    complete = len(idle_s) == len(mixed_s) == len(pairs) > 0
    bulk = mixed["bulk"]
    targets = {
        "singles_within_1_5x_idle": complete and all(p["mixed_s"] <= IDLE_RATIO * p["idle_s"] for p in pairs),
        "bulk_within_1_15x_floor": bulk["time_ratio"] is not None and bulk["time_ratio"] <= FLOOR_RATIO,
        # A single submitted after the bulk run ended measured nothing: it would meet the target for free.
        "singles_submitted_during_bulk": all(p["submitted_during_bulk"] for p in pairs),
    }
    targets["met"] = all(targets.values())
    return {
        "singles": len(pairs),
        "singles_compared": "per single: each single's mixed time against the same subject's idle time "
                            "(same simulator config and seed, fresh stack per phase)",
        "time_to": "certificate issued_at (signed after the final state is stored, in the same task step)",
        "idle": {"median_s": statistics.median(idle_s) if idle_s else None, "worst_s": max(idle_s, default=None)},
        "mixed": {"median_s": statistics.median(mixed_s) if mixed_s else None,
                  "worst_s": max(mixed_s, default=None)},
        "worst_ratio": max((p["ratio"] for p in pairs if p["ratio"] is not None), default=None),
        "per_single": pairs,
        "bulk": bulk,
        "subjects": bulk["subjects"],
        "time_ratio": bulk["time_ratio"],
        "api_calls": bulk["api_calls"],
        "rate_per_s": args.rate,
        "rate_window_s": args.window,
        "gdpr_step_s": args.gdpr_step,
        "command": "python -m bench mixed " + " ".join(argv),
        "machine": machine(),
        "targets": targets,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench mixed")
    parser.add_argument("--subjects", type=int, default=3_000, help="bulk subjects (the singles are extra)")
    parser.add_argument("--singles", type=int, default=5)
    parser.add_argument("--rate", type=float, default=100.0, help="simulator rate limit, requests per second")
    parser.add_argument("--window", type=float, default=60.0,
                        help="simulator rate window, seconds (the platform's is a minute)")
    parser.add_argument("--gdpr-step", type=float, default=8.0,
                        help="seconds a GDPR request spends in each platform state (3 states)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 150 bulk subjects, 2 singles; writes only to an --output given")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--one", choices=["idle", "mixed"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        # Small and short: GDPR requests of 3 s and a 10 s rate window, so the smoke test takes about a minute.
        args.subjects, args.singles, args.rate, args.window, args.gdpr_step = 150, 2, 150.0, 10.0, 1.0
    log_dir = Path("erasure-output") / "bench-mixed"
    if args.one:
        result = run(args.one, args.subjects, args.singles, args.rate, args.window, args.gdpr_step, log_dir)
        print("RESULT " + json.dumps(result), flush=True)
        return 0
    print(f"mixed: idle phase, {args.singles} singles, rate {args.rate}/s", flush=True)
    idle = _run_in_subprocess("idle", args)
    print(f"mixed: mixed phase, {args.subjects} bulk subjects and {args.singles} singles", flush=True)
    mixed = _run_in_subprocess("mixed", args)
    result = report(idle, mixed, args, argv)
    print(f"{'single':>6} {'idle_s':>8} {'mixed_s':>8} {'ratio':>6} {'overtook':>8}")
    for p in result["per_single"]:
        print(f"{p['single']:>6} {p['idle_s']!s:>8} {p['mixed_s']!s:>8} {p['ratio']!s:>6} {p['overtook_bulk']:>8}")
    print(f"bulk: {result['bulk']}", flush=True)
    if not args.quick or args.output != RESULTS:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(result, indent=2) + "\n")
    targets = result["targets"]
    print("targets met" if targets["met"] else "targets NOT met: " + ", ".join(k for k, v in targets.items() if not v))
    return 0 if targets["met"] or args.quick else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
