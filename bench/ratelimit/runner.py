"""Runs the rate-limit benchmark: simulator, bulk backlog, worker processes, counters, results."""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import redis
from celery import Celery
from genesys_sim.config import SimConfig
from genesys_sim.server import RunningSimulator, start_in_thread

from shared.config import POOLS
from shared.keys import Keys
from shared.lanes import queue_key
from shared.models import Lane

from .tasks import TASK_NAME, counters_key, workers_key

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results" / "ratelimit.json"
MODES = ("shared", "baseline")
TARGET_UTILIZATION = 0.95
TARGET_RATE_429 = 0.005


@dataclass(frozen=True)
class Plan:
    """One benchmark configuration. ``limit`` requests per ``window_s`` is R.

    The window is 30 s, not shorter, because ``inin-ratelimit-reset`` counts whole seconds (rounded up):
    the limiter's header correction then sees each window up to a second longer than it is and leaves up
    to a second of budget unused at its end, which caps utilization near ``1 - 1 s / window`` (0.967 here;
    0.90 with a 10 s window). Two windows are measured per run so window edges count.
    """

    limit: int = 600
    window_s: float = 30.0
    duration_s: float = 60.0  # measured interval of each run
    settle_s: float = 2.0  # after the last worker ran its first task, before measuring
    workers: tuple[int, ...] = (1, 2, 4, 8)
    modes: tuple[str, ...] = MODES
    # Threads per worker process. One, because Celery's rate_limit (the baseline) collapses to about one
    # task per second per worker on the Redis broker as soon as a worker runs two or more tasks at once
    # (threads and prefork alike, Celery 5.7); with one it delivers its configured rate.
    concurrency: int = 1
    rate_factor: float = 0.975  # shared bucket rate = rate_factor * R
    burst: int = 5
    startup_allowance_s: float = 20.0  # worker start-up time the backlog must also cover
    redis_url: str = "redis://127.0.0.1:6379/0"

    @property
    def limit_per_s(self) -> float:
        return self.limit / self.window_s

    @property
    def bucket_per_minute(self) -> float:
        return self.rate_factor * self.limit_per_s * 60.0

    @property
    def celery_rate_limit(self) -> str:
        return f"{self.limit_per_s * 60.0:g}/m"

    @property
    def backlog(self) -> int:
        """Tasks enqueued per run: a quarter more than R allows over start-up and the measured interval.

        Each task makes one successful call at most, so the backlog outlasts the run (checked per run).
        """
        return int(self.limit_per_s * (self.duration_s + self.settle_s + self.startup_allowance_s) * 1.25)


FULL = Plan()
QUICK = Plan(limit=60, window_s=3.0, duration_s=3.0, settle_s=0.5, workers=(1, 2), burst=2, startup_allowance_s=10.0)


# -- one run ---------------------------------------------------------------------------------------

def queues_for(workers: int) -> list[list[str]]:
    """Pools of each worker process: all four for one worker, spread evenly (round robin) beyond."""
    if workers < len(POOLS):
        groups: list[list[str]] = [[] for _ in range(workers)]
        for i, pool in enumerate(POOLS):
            groups[i * workers // len(POOLS)].append(pool)
        return groups
    return [[POOLS[i % len(POOLS)]] for i in range(workers)]


def worker_command(name: str, queues: list[str], concurrency: int) -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "bench.ratelimit.tasks", "worker",
        "-Q", ",".join(queues), "-n", f"{name}@%h", "-P", "threads", "-c", str(concurrency),
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING",
    ]


def _producer_app(env: Mapping[str, str]) -> Celery:
    """The project's real app, built for this run's broker and key prefix (so its queues are this run's)."""
    from shared.celery_app import create_app
    from shared.config import Settings

    return create_app(Settings(redis_url=env["ERASURE_REDIS_URL"], key_prefix=env["ERASURE_KEY_PREFIX"]))


def enqueue(env: Mapping[str, str], count: int) -> None:
    app = _producer_app(env)
    with app.connection_for_write() as conn:
        with conn.channel() as channel:
            for queue in app.amqp.queues.values():
                queue.bind(channel).declare()
        with app.producer_or_acquire() as producer:
            for n in range(count):
                pool = POOLS[n % len(POOLS)]
                app.send_task(TASK_NAME, args=[pool, n], queue=pool, producer=producer)
    app.close()


def api_counts(stats: Mapping[str, Any]) -> dict[str, int]:
    """Answers to /api/v2 calls by kind, from a ``/_sim/stats`` document."""
    out = {"requests": 0, "ok": 0, "rate_limited": 0, "other": 0}
    for row in stats["requests"]:
        if not str(row["path"]).startswith("/api/v2"):
            continue  # /oauth/token is not metered
        status, count = int(row["status"]), int(row["count"])
        out["requests"] += count
        if 200 <= status < 300:
            out["ok"] += count
        elif status == 429:
            out["rate_limited"] += count
        else:
            out["other"] += count
    return out


def _snapshot(http: httpx.Client, sim: RunningSimulator) -> tuple[float, dict[str, int]]:
    before = time.monotonic()
    stats = http.get(sim.url + "/_sim/stats").raise_for_status().json()
    return (before + time.monotonic()) / 2, api_counts(stats)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    # The run's backlog and keys are deleted afterwards, so nothing in flight needs a graceful shutdown
    # (a warm one would wait out threads sleeping a Retry-After of up to one window).
    for p in processes:
        if p.poll() is None:
            p.kill()
    for p in processes:
        p.wait()


def _cleanup(client: redis.Redis, prefix: str) -> None:
    for pattern in Keys(prefix).all_patterns:
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def run_one(plan: Plan, workers: int, mode: str, client: redis.Redis, log_dir: Path) -> dict[str, Any]:
    prefix = f"bench-rl-{uuid.uuid4().hex[:10]}"
    sim_config = SimConfig(subjects=20, rate_limit=plan.limit, rate_window_s=plan.window_s)
    sim = start_in_thread(sim_config)
    env = {
        **os.environ,
        "ERASURE_REDIS_URL": plan.redis_url,
        "ERASURE_GENESYS_BASE_URL": sim.url,
        "ERASURE_GENESYS_CLIENT_ID": sim_config.client_id,
        "ERASURE_GENESYS_CLIENT_SECRET": sim_config.client_secret,
        "ERASURE_KEY_PREFIX": prefix,
        # The shared token is sealed in Redis with a key derived from this (shared.genesys.token_seal).
        "ERASURE_HMAC_KEY": secrets.token_hex(32),
        "ERASURE_RATE_PER_MINUTE": f"{plan.bucket_per_minute:.6g}",
        "ERASURE_RATE_BURST": str(plan.burst),
        "BENCH_RATELIMIT_MODE": mode,
        "BENCH_RATELIMIT_TASK_RATE": plan.celery_rate_limit if mode == "baseline" else "",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
    }
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    http = httpx.Client(timeout=10.0)
    wall = time.monotonic()
    try:
        enqueue(env, plan.backlog)
        started = time.monotonic()
        for i, queues in enumerate(queues_for(workers)):
            log = log_dir / f"{prefix}-w{i}.log"
            logs.append(log)
            with log.open("wb") as out:
                processes.append(subprocess.Popen(worker_command(f"bench{i}-{prefix}", queues, plan.concurrency),
                                                  env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT))
        while client.scard(workers_key(prefix)) < workers:
            dead = [i for i, p in enumerate(processes) if p.poll() is not None]
            if dead or time.monotonic() - started > 120:
                detail = "\n".join(_tail(logs[i]) for i in (dead or range(len(logs))))
                raise RuntimeError(f"workers did not start ({workers} {mode}):\n{detail}")
            time.sleep(0.05)
        startup_s = time.monotonic() - started
        time.sleep(plan.settle_s)
        t0, c0 = _snapshot(http, sim)
        time.sleep(plan.duration_s)
        t1, c1 = _snapshot(http, sim)
        backlog_end = sum(int(client.llen(queue_key(f"{prefix}:celery:", pool, lane))) for pool in POOLS for lane in Lane)
        raw = client.hgetall(counters_key(prefix))
        outcomes = {(k.decode() if isinstance(k, bytes) else str(k)): int(v) for k, v in raw.items()}
        alive = all(p.poll() is None for p in processes)
    finally:
        _stop(processes)
        http.close()
        sim.stop()
        _cleanup(client, prefix)
    wall = time.monotonic() - wall

    duration = t1 - t0
    delta = {k: c1[k] - c0[k] for k in c0}
    achieved = delta["ok"] / duration
    return {
        "workers": workers,
        "mode": mode,
        "utilization": round(achieved / plan.limit_per_s, 4),
        "rate_429": round(delta["rate_limited"] / delta["requests"], 4) if delta["requests"] else 0.0,
        "requests": delta["requests"],
        "ok": delta["ok"],
        "rate_limited": delta["rate_limited"],
        "other_errors": delta["other"],
        "duration_s": round(duration, 2),
        "achieved_rps": round(achieved, 3),
        "startup_s": round(startup_s, 2),
        "wall_s": round(wall, 1),
        "tasks_ok": outcomes.get("ok", 0),
        "tasks_failed": outcomes.get("failed", 0),
        "limiter_long_waits": outcomes.get("waits", 0),
        "backlog_at_end": backlog_end,
        "backlog_exhausted": backlog_end == 0,
        "workers_alive_at_end": alive,
    }


# -- the whole benchmark ---------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def meets_targets(run: Mapping[str, Any]) -> bool:
    return bool(run["utilization"] >= TARGET_UTILIZATION and run["rate_429"] <= TARGET_RATE_429)


def table(runs: list[dict[str, Any]]) -> str:
    by = {(r["workers"], r["mode"]): r for r in runs}
    counts = sorted({r["workers"] for r in runs})
    head = (f"{'workers':>7} | {'shared util':>11} {'429 share':>9} {'ok/s':>7} | "
            f"{'baseline util':>13} {'429 share':>9} {'ok/s':>7}")
    lines = [head, "-" * len(head)]
    for n in counts:
        cells = []
        for mode, width in (("shared", 11), ("baseline", 13)):
            r = by.get((n, mode))
            if r is None:
                cells.append(f"{'-':>{width}} {'-':>9} {'-':>7}")
            else:
                cells.append(f"{r['utilization']:>{width}.3f} {r['rate_429']:>9.2%} {r['achieved_rps']:>7.2f}")
        lines.append(f"{n:>7} | {cells[0]} | {cells[1]}")
    return "\n".join(lines)


def parse(argv: list[str]) -> tuple[Plan, Path | None, bool]:
    parser = argparse.ArgumentParser(prog="python -m bench ratelimit", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke-test size; writes nothing unless --output")
    parser.add_argument("--output", type=Path, help=f"results file (default {RESULTS} unless --quick)")
    parser.add_argument("--workers", help="comma-separated worker counts, e.g. 1,2,4,8")
    parser.add_argument("--modes", help="comma-separated: shared,baseline")
    parser.add_argument("--limit", type=int, help="R: requests allowed per window")
    parser.add_argument("--window", type=float, help="window length in seconds")
    parser.add_argument("--duration", type=float, help="measured seconds per run")
    parser.add_argument("--concurrency", type=int, help="threads per worker process")
    parser.add_argument("--rate-factor", type=float, help="shared bucket rate as a fraction of R")
    parser.add_argument("--burst", type=int, help="shared bucket burst")
    parser.add_argument("--redis-url", default=os.environ.get("ERASURE_REDIS_URL", FULL.redis_url))
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    changes: dict[str, Any] = {"redis_url": args.redis_url}
    if args.workers:
        changes["workers"] = tuple(int(x) for x in args.workers.split(","))
    if args.modes:
        changes["modes"] = tuple(m for m in args.modes.split(",") if m)
        if not set(changes["modes"]) <= set(MODES):
            parser.error(f"modes must be among {', '.join(MODES)}")
    for name, field in (("limit", "limit"), ("window", "window_s"), ("duration", "duration_s"),
                        ("concurrency", "concurrency"), ("rate_factor", "rate_factor"), ("burst", "burst")):
        value = getattr(args, name)
        if value is not None:
            changes[field] = value
    output = args.output if args.output is not None else (None if args.quick else RESULTS)
    return replace(plan, **changes), output, args.quick


def main(argv: list[str]) -> int:
    plan, output, quick = parse(argv)
    client = redis.Redis.from_url(plan.redis_url)
    try:
        client.ping()
    except redis.ConnectionError:
        print(f"the rate-limit benchmark needs Redis at {plan.redis_url} (make redis)", file=sys.stderr)
        return 2
    started_at = datetime.now(UTC)
    host = machine()
    print(f"R = {plan.limit} per {plan.window_s:g} s ({plan.limit_per_s:g}/s), {plan.duration_s:g} s measured per run, "
          f"shared bucket {plan.bucket_per_minute:.6g}/min burst {plan.burst}, baseline rate_limit "
          f"{plan.celery_rate_limit} per worker, {plan.concurrency} threads per worker, {host['nproc']} CPUs",
          flush=True)
    runs: list[dict[str, Any]] = []
    begin = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-ratelimit-") as tmp:
        for workers in plan.workers:
            for mode in plan.modes:
                run = run_one(plan, workers, mode, client, Path(tmp))
                runs.append(run)
                print(f"  {workers} worker(s) {mode:<8} utilization {run['utilization']:.3f}  429 share "
                      f"{run['rate_429']:.2%}  ({run['ok']} ok, {run['rate_limited']} x 429 of {run['requests']} "
                      f"in {run['duration_s']:.1f} s; start-up {run['startup_s']:.1f} s, backlog left "
                      f"{run['backlog_at_end']}, {run['wall_s']:.0f} s wall)", flush=True)
                if run["backlog_exhausted"] or not run["workers_alive_at_end"]:
                    print("    warning: the backlog ran out or a worker died; this run under-measures", flush=True)
    elapsed = time.monotonic() - begin
    print(table(runs))
    shared = [r for r in runs if r["mode"] == "shared"]
    met = all(meets_targets(r) for r in shared)
    print(f"target for shared mode: utilization >= {TARGET_UTILIZATION} and 429 share <= {TARGET_RATE_429:.1%} "
          f"at every worker count: {'met' if met else 'NOT met'} ({elapsed:.0f} s in all)")
    document = {
        "benchmark": "ratelimit",
        "command": " ".join(["python -m bench ratelimit", *map(shlex.quote, argv)]),
        "started_at": started_at.isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 1),
        "machine": host,
        "R": plan.limit,
        "window_s": plan.window_s,
        "R_per_s": plan.limit_per_s,
        "duration_s": plan.duration_s,
        "plan": asdict(plan),
        "shared_limiter": {"rate_per_minute": plan.bucket_per_minute, "burst": plan.burst},
        "baseline_celery_rate_limit": plan.celery_rate_limit,
        "workload": f"{plan.backlog} one-call tasks (GET /api/v2/gdpr/subjects) spread over {', '.join(POOLS)}",
        "targets": {"utilization_min": TARGET_UTILIZATION, "rate_429_max": TARGET_RATE_429, "shared_met": met},
        "method": (
            "Each run: a fresh simulator (fixed window of R per token), a fresh key prefix (so a fresh OAuth "
            "token, bucket and queues), the backlog enqueued on all four queues, then the worker processes; "
            "once every worker has run a task and settle_s has passed, /_sim/stats is read at the start and "
            "end of duration_s. utilization = 2xx answers per second / (R / window_s); rate_429 = 429 "
            "answers / all /api/v2 answers in that interval."
        ),
        "modes": {
            "shared": "the project's GCRA limiter in Redis at rate_factor * R, burst as given; no Celery rate_limit",
            "baseline": "no shared limiter (each 429 makes only its own thread wait Retry-After, then the client "
                        "retries, up to 5 attempts) and Celery's per-worker rate_limit = R on the task",
        },
        "runs": runs,
    }
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(document, indent=2) + "\n")
        print(f"wrote {output}")
    return 0 if met or quick else 1
