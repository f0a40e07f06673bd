"""Seed a large organisation and time the requests an erasure run leans on, over real HTTP.

    python -m genesys_sim.loadcheck --subjects 10000 [--repeat 30] [--json]

Reports the seeding time (wall and CPU) and per-request latency (median, p95, max) for: a details query
with 100 predicates, GDPR subject search, identifier lookup, `/_sim/find` with a few values, an async
details job (submit to last results page), and applying GDPR_DELETEs. The rate limit is lifted so the
numbers measure the simulator, not the limiter. A calibration loop (`sum(range(10**6))`) is printed so
numbers from busy or slow machines can be compared.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import timeit
from collections.abc import Callable
from typing import Any

import httpx

from .config import SimConfig
from .server import start_in_thread

ALL_TIME = "2000-01-01T00:00:00Z/2100-01-01T00:00:00Z"


def _timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.95))], 2),
        "max_ms": round(samples[-1], 2),
    }


def run(subjects: int, repeat: int, seed: int = 1) -> dict[str, Any]:
    calibration_ms = timeit.timeit("sum(range(10**6))", number=5) / 5 * 1000
    config = SimConfig(
        subjects=subjects,
        seed=seed,
        rate_limit=10**9,
        gdpr_step_s=0.05,
        analytics_job_s=0.05,
        linked_fraction=0.1,
        recycled=min(100, subjects // 10),
        active=min(100, subjects // 10),
        former_agents=min(50, subjects // 20),
        active_for_s=3600.0,
    )
    wall, cpu = time.perf_counter(), time.process_time()
    sim = start_in_thread(config, timeout=600)
    seeded = {"seed_wall_s": round(time.perf_counter() - wall, 2), "seed_cpu_s": round(time.process_time() - cpu, 2)}
    rng = random.Random(seed)
    out: dict[str, Any] = {"subjects": subjects, "calibration_ms": round(calibration_ms, 1), **seeded}
    try:
        with httpx.Client(base_url=sim.url, timeout=120) as raw:
            token = raw.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("sim-client", "sim-secret"))
            api = httpx.Client(base_url=sim.url, timeout=120, headers={"Authorization": f"Bearer {token.json()['access_token']}"})
            truth = raw.get("/_sim/subjects").json()
            stats = sim.store.stats_view(per_subject=False)
            out["conversations"] = len(sim.store.data.seed.conversations)
            out["active_conversations"] = stats["active_conversations"]

            def hundred_predicates() -> None:
                picked = rng.sample(truth, 34)
                preds = []
                for s in picked:
                    preds.append(
                        {"type": "dimension", "dimension": "addressFrom", "operator": "matches", "value": s["emails"][0]}
                    )
                    preds.append({"type": "dimension", "dimension": "ani", "operator": "matches", "value": s["phones"][0]})
                    preds.append(
                        {
                            "type": "dimension",
                            "dimension": "externalContactId",
                            "operator": "matches",
                            "value": s["external_contact_id"],
                        }
                    )
                body = {
                    "interval": ALL_TIME,
                    "paging": {"pageSize": 100},
                    "segmentFilters": [{"type": "or", "predicates": preds[:100]}],
                }
                r = api.post("/api/v2/analytics/conversations/details/query", json=body)
                r.raise_for_status()

            def subject_search() -> None:
                s = rng.choice(truth)
                api.get(
                    "/api/v2/gdpr/subjects", params={"searchType": "EMAIL", "searchValue": s["emails"][-1]}
                ).raise_for_status()

            def name_search() -> None:
                s = rng.choice(truth)
                api.get("/api/v2/gdpr/subjects", params={"searchType": "NAME", "searchValue": s["name"]}).raise_for_status()

            def lookup() -> None:
                s = rng.choice(truth)
                r = api.post(
                    "/api/v2/externalcontacts/identifierlookup/contacts", json={"type": "Email", "value": s["emails"][0]}
                )
                r.raise_for_status()

            def sim_find() -> None:
                s = rng.choice(truth)
                raw.post("/_sim/find", json={"values": [*s["emails"], *s["phones"], s["name"]]}).raise_for_status()

            def async_job() -> None:
                picked = rng.sample(truth, 100)
                preds = [
                    {"type": "dimension", "dimension": "externalContactId", "value": s["external_contact_id"]} for s in picked
                ]
                job = api.post(
                    "/api/v2/analytics/conversations/details/jobs",
                    json={"interval": ALL_TIME, "segmentFilters": [{"type": "or", "predicates": preds}]},
                ).json()["jobId"]
                while api.get(f"/api/v2/analytics/conversations/details/jobs/{job}").json()["state"] != "FULFILLED":
                    time.sleep(0.01)
                params: dict[str, Any] = {"pageSize": 100}
                while True:
                    page = api.get(f"/api/v2/analytics/conversations/details/jobs/{job}/results", params=params).json()
                    if "cursor" not in page:
                        break
                    params["cursor"] = page["cursor"]

            out["details_query_100_predicates"] = _timed(hundred_predicates, repeat)
            out["gdpr_subject_search_email"] = _timed(subject_search, repeat)
            out["gdpr_subject_search_name"] = _timed(name_search, repeat)
            out["identifier_lookup"] = _timed(lookup, repeat)
            out["sim_find"] = _timed(sim_find, repeat)
            out["async_job_100_subjects_submit_to_last_page"] = _timed(async_job, max(3, repeat // 5))

            # GDPR_DELETE application: submit, then time the first request after they are all due.
            victims = truth[:repeat]
            for s in victims:
                body = {
                    "requestType": "GDPR_DELETE",
                    "subject": {"name": s["name"], "emailAddresses": s["emails"], "phoneNumbers": s["phones"]},
                }
                api.post("/api/v2/gdpr/requests", params={"deleteConfirmed": "true"}, json=body).raise_for_status()
            time.sleep(0.3)
            started = time.perf_counter()
            api.get("/api/v2/gdpr/requests", params={"pageSize": 1}).raise_for_status()
            applied_ms = (time.perf_counter() - started) * 1000
            out["gdpr_delete_apply_ms_each"] = round(applied_ms / len(victims), 2)
            leftover = raw.post("/_sim/find", json={"values": [*victims[0]["emails"], *victims[0]["phones"]]}).json()["matches"]
            out["erased_subject_leftovers"] = len(leftover)
            api.close()
    finally:
        sim.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    result = run(args.subjects, args.repeat, args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key:45s} {value}")


if __name__ == "__main__":
    main()
