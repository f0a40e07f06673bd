"""Console page-render benchmark: the overview and the approval queue with many requests in the store.

    python -m bench console [--requests 10000] [--renders 20] [--quick] [--output PATH]

Fills a fresh key prefix of the Redis at ERASURE_TEST_REDIS_URL (default 127.0.0.1:6379) with requests in
every state and kind (a tenth waiting at the approval gate, with identities and conversations), signs a
person in, and renders each page through the intake app in process (FastAPI's TestClient: the full stack of
middleware, session, reads and templates, no network between client and app). Reported per page: time per
render (median and 95th percentile) and Redis round trips per render, counted by wrapping the connection's
``execute_command`` (one command, one round trip) and ``Pipeline.execute`` (one pipeline, one round trip).
The prefix is wiped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import redis
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bench._stack import machine
from services.console.sessions import COOKIE, SessionStore
from services.intake import api
from services.intake.auth import current_runtime
from shared import summaries
from shared.api_keys import ApiKeyStore
from shared.config import Settings
from shared.keys import Keys
from shared.models import Approval, ErasureRecord, RequestKind, RequestState, Subject, utcnow
from shared.runtime import Runtime
from shared.signing import generate_private_pem

RESULTS = Path(__file__).parent / "results" / "console.json"
REDIS_URL = os.environ.get("ERASURE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PAGES = {"overview": "/console/", "approval_queue": "/console/approvals"}
_OPEN = [s for s in RequestState if not s.is_final and s is not RequestState.AWAITING_APPROVAL]
_FINAL = [s for s in RequestState if s.is_final]


def _record(n: int, rng: random.Random) -> ErasureRecord:
    """One synthetic request: a tenth waiting at the gate (identity, conversations), a half final, the rest
    open in some other state; verified up to 40 days ago, so some are overdue."""
    verified = utcnow() - timedelta(days=rng.uniform(0, 40))
    roll = rng.random()
    state = (RequestState.AWAITING_APPROVAL if roll < 0.1 else rng.choice(_OPEN) if roll < 0.5 else rng.choice(_FINAL))
    subject = Subject(emails=[f"person{n}@example.org"], phones=[f"+4479111{n:05d}"])
    record = ErasureRecord(ticket=f"BENCH-{n}", subject=subject, verified_at=verified, received_at=verified,
                           kind=rng.choice(list(RequestKind)), state=state, submitted_by=secrets.token_hex(6),
                           subject_digest=f"hmac-sha256:{secrets.token_hex(32)}")
    if state is RequestState.AWAITING_APPROVAL:
        record.identity = subject.merge(Subject(emails=[f"p.{n}@work.example"], names=[f"Person {n}"]))
        record.conversation_ids = [uuid.uuid4().hex for _ in range(rng.randint(1, 8))]
    elif state.is_final:
        record.scrubbed = True
        record.subject = Subject(emails=[record.subject_digest or ""])
        record.approval = Approval(by="dpo", via="api")
        record.completed_at = verified + timedelta(days=rng.uniform(1, 29))
    return record


def fill(client: redis.Redis, keys: Keys, count: int, seed: int = 22) -> None:
    """Write ``count`` requests as the store keeps them (record, ticket, index, list row), in pipelines of 500."""
    rng = random.Random(seed)
    for start in range(0, count, 500):
        with client.pipeline(transaction=False) as pipe:
            for n in range(start, min(count, start + 500)):
                record = _record(n, rng)
                pipe.set(keys.request(record.request_id), record.model_dump_json())
                pipe.set(keys.ticket(record.ticket), record.request_id)
                pipe.zadd(keys.requests_index, {record.request_id: record.received_at.timestamp()})
                summaries.stage(pipe, keys, record)
            pipe.execute()


class RoundTrips:
    """Counts what reaches Redis: a command sent alone, or a pipeline sent whole, is one round trip."""

    def __init__(self) -> None:
        self.count = 0

    @contextmanager
    def counting(self, client: redis.Redis) -> Iterator[None]:
        # redis-py leaves execute_command unannotated: Callable[..., Any] is what it is.
        plain: Callable[..., Any] = client.execute_command
        piped = redis.client.Pipeline.execute
        counter = self

        def command(*args: Any, **options: Any) -> Any:
            counter.count += 1
            return plain(*args, **options)

        def pipeline(self: redis.client.Pipeline, raise_on_error: bool = True) -> list[Any]:
            counter.count += 1
            return piped(self, raise_on_error)

        client.execute_command = command  # type: ignore[method-assign]
        redis.client.Pipeline.execute = pipeline  # type: ignore[method-assign]
        try:
            yield
        finally:
            client.execute_command = plain  # type: ignore[method-assign]
            redis.client.Pipeline.execute = piped  # type: ignore[method-assign]


def measure(runtime: Runtime, requests: int, renders: int) -> dict[str, Any]:
    fill(runtime.redis, runtime.keys, requests)
    _, token = ApiKeyStore(runtime.redis, runtime.keys).create("bench-dpo", ["requests:read", "requests:approve"],
                                                               person=True)
    principal = ApiKeyStore(runtime.redis, runtime.keys).verify(token).principal
    assert principal is not None
    cookie, _ = SessionStore(runtime.redis, runtime.keys, 3600).start(principal)
    api.app.dependency_overrides[current_runtime] = lambda: runtime
    trips = RoundTrips()
    pages: dict[str, Any] = {}
    try:
        client = TestClient(api.app)
        client.cookies.set(COOKIE, cookie, path="/console")
        for name, path in PAGES.items():
            assert client.get(path).status_code == 200  # warm: templates compiled, connections open
            times: list[float] = []
            counts: list[int] = []
            for _ in range(renders):
                trips.count = 0
                with trips.counting(runtime.redis):
                    started = time.perf_counter()
                    answer = client.get(path)
                    times.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text[:200]
                counts.append(trips.count)
            ordered = sorted(times)
            pages[name] = {"renders": renders, "median_ms": round(statistics.median(times) * 1000, 1),
                           "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000, 1),
                           "round_trips_per_render": max(counts), "round_trips_min": min(counts),
                           "html_bytes": len(answer.content)}
    finally:
        api.app.dependency_overrides.clear()
    return pages


def _wipe(client: redis.Redis, keys: Keys) -> None:
    for pattern in keys.all_patterns:
        batch = list(client.scan_iter(pattern, count=1000))
        for start in range(0, len(batch), 1000):
            client.delete(*batch[start:start + 1000])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench console", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="500 requests, 3 renders: a smoke run")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    requests, renders = (500, 3) if args.quick else (args.requests, args.renders)
    prefix = f"bench-console-{uuid.uuid4().hex[:8]}"
    settings = Settings(redis_url=REDIS_URL, key_prefix=prefix, hmac_key=SecretStr(secrets.token_hex(32)),
                        signing_key=SecretStr(generate_private_pem()))
    runtime = Runtime.from_settings(settings)
    try:
        pages = measure(runtime, requests, renders)
    finally:
        _wipe(runtime.redis, runtime.keys)
    command = "python -m bench console" + (" --quick" if args.quick else f" --requests {requests} --renders {renders}")
    report = {"command": command, "machine": machine(), "requests": requests, "pages": pages}
    output = args.output or RESULTS
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0
