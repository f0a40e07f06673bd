"""Audit append throughput: 1, 4 and 16 writer processes appending to one chain on the real Redis.

    python -m bench audit [--writers 1,4,16] [--seconds 10] [--quick]

Each writer is a process of its own with the workers' ``Runtime`` (the keyed chain, a signed checkpoint
every ``ERASURE_AUDIT_CHECKPOINT_EVERY`` entries), appending entries shaped like a worker's (an event, a
request id, a subject digest, a few counts) as fast as it can for a fixed time, all starting together.
Reported per writer count: appends per second, the appends retried because another writer moved the head
first (an entry built for nothing), the times a writer blocked for another's turn, and the verdict of
``erasure audit verify``'s check (chain, head and checkpoints) afterwards.

The target compares with the API call rate the workers sustained in the bulk benchmark
(``bench/results/bulk.json``: its API calls over its wall time): 16 writers must append at least 10 times
as fast, since a worker appends about one entry per API call or fewer.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import secrets
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Final

import redis
from pydantic import SecretStr

from bench._stack import REDIS_URL, machine
from services.audit_check import public_keys, verify_stored
from shared.config import Settings
from shared.keys import Keys
from shared.runtime import Runtime
from shared.signing import generate_private_pem

RESULTS = Path(__file__).parent / "results" / "audit.json"
BULK = Path(__file__).parent / "results" / "bulk.json"
#: Appends per second at the most writers, against the bulk run's API calls per second.
FACTOR = 10


# The smoke run's checkpoint interval: small, so that a loaded machine's few appends in a second still
# write checkpoints to check.
QUICK_CHECKPOINT_EVERY: Final = 2

def _writer(env: dict[str, str], ready: Any, start: Any, seconds: float, out: Any) -> None:
    """Say ``ready``, append until ``seconds`` after ``start`` is set; put (appends, retries) on ``out``."""
    runtime = Runtime.from_settings(Settings(**json.loads(env["settings"])))
    audit = runtime.audit
    _ = audit.key  # derived, and Redis connected, before the clock starts
    runtime.redis.ping()
    ready.put(True)
    start.wait()
    deadline = time.monotonic() + seconds
    appends = 0
    while time.monotonic() < deadline:
        audit.append("deletion.gdpr_submitted", request_id=uuid.uuid4().hex,
                     subject="hmac-sha256:" + secrets.token_hex(32), details={"contacts": 2, "batch": 25})
        appends += 1
    out.put((appends, audit.retries, audit.waits))


def measure(writers: int, seconds: float, checkpoint_every: int) -> dict[str, Any]:
    """One chain under a fresh prefix, ``writers`` processes for ``seconds``; the prefix is wiped after."""
    settings = Settings(redis_url=REDIS_URL, hmac_key=SecretStr(secrets.token_hex(32)),
                        signing_key=SecretStr(generate_private_pem()),
                        key_prefix=f"bench-audit-{uuid.uuid4().hex[:8]}", audit_checkpoint_every=checkpoint_every)
    env = {"settings": json.dumps({k: (v.get_secret_value() if hasattr(v, "get_secret_value") else v)
                                   for k, v in settings.model_dump().items()
                                   if k in ("redis_url", "hmac_key", "signing_key", "key_prefix",
                                            "audit_checkpoint_every")})}
    context = multiprocessing.get_context("spawn")
    ready, start, out = context.Queue(), context.Event(), context.Queue()
    processes = [context.Process(target=_writer, args=(env, ready, start, seconds, out)) for _ in range(writers)]
    try:
        for process in processes:
            process.start()
        for _ in processes:
            ready.get(timeout=120)  # every writer imported and connected: the clock starts with all of them
        began = time.monotonic()
        start.set()
        results = [out.get(timeout=seconds + 120) for _ in processes]
        elapsed = time.monotonic() - began
        for process in processes:
            process.join(30)
        runtime = Runtime.from_settings(settings)
        verdict = verify_stored(runtime, public_keys(settings, []), None)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        client = redis.Redis.from_url(REDIS_URL)
        for pattern in Keys(settings.key_prefix).all_patterns:
            keys = list(client.scan_iter(pattern, count=1000))
            if keys:
                client.delete(*keys)
    appends = sum(a for a, _, _ in results)
    retries = sum(r for _, r, _ in results)
    waits = sum(w for _, _, w in results)
    return {
        "writers": writers,
        "seconds": round(elapsed, 2),
        "appends": appends,
        "appends_per_s": round(appends / elapsed, 1),
        "retries": retries,
        "retries_per_append": round(retries / max(1, appends), 3),
        # Times a writer blocked for another's turn (BLPOP on the baton): waiting, not rebuilding.
        "waits_per_append": round(waits / max(1, appends), 3),
        "entries": verdict.entries,
        "checkpoints": verdict.checkpoints,
        "chain_intact": verdict.ok and verdict.entries == appends,
        "problems": verdict.problems[:3],
    }


def bulk_call_rate() -> tuple[float, str]:
    """The API calls per second the workers sustained in the committed bulk run, and where it came from."""
    bulk = json.loads(BULK.read_text())
    return bulk["api_calls"] / bulk["wall_s"], (f"bench/results/bulk.json: {bulk['api_calls']} API calls "
                                                 f"in {bulk['wall_s']} s")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench audit")
    parser.add_argument("--writers", default="1,4,16", help="writer process counts, comma separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each count appends")
    parser.add_argument("--checkpoint-every", type=int, default=1000, help="ERASURE_AUDIT_CHECKPOINT_EVERY")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1 and 2 writers for 1 s; writes only to an --output given")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.writers, args.seconds, args.checkpoint_every = "1,2", 1.0, QUICK_CHECKPOINT_EVERY
    counts = [int(n) for n in args.writers.split(",")]
    runs = []
    for writers in counts:
        result = measure(writers, args.seconds, args.checkpoint_every)
        print(json.dumps(result), flush=True)
        runs.append(result)
    call_rate, source = bulk_call_rate()
    most = runs[-1]
    targets = {
        "chains_intact": all(r["chain_intact"] for r in runs),
        f"appends_per_s_at_{most['writers']}_writers_at_least_{FACTOR}x_bulk_call_rate":
            most["appends_per_s"] >= FACTOR * call_rate,
    }
    targets["met"] = all(targets.values())
    report = {
        "runs": runs,
        "bulk_api_calls_per_s": round(call_rate, 1),
        "bulk_api_calls_per_s_from": source,
        "target_appends_per_s": round(FACTOR * call_rate, 1),
        "checkpoint_every": args.checkpoint_every,
        "command": " ".join(["python -m bench audit", *argv]),
        "machine": machine(),
        "targets": targets,
    }
    print(f"{'writers':>7} {'appends/s':>10} {'retries/append':>14} {'intact':>6}")
    for r in runs:
        print(f"{r['writers']:>7} {r['appends_per_s']:>10} {r['retries_per_append']:>14} {r['chain_intact']!s:>6}")
    if not args.quick or args.output != RESULTS:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2) + "\n")
    print("targets met" if targets["met"] else "targets NOT met: " + ", ".join(k for k, v in targets.items() if not v))
    return 0 if targets["met"] or args.quick else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
