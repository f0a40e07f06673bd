"""The benchmark's Celery tasks, registered on the project's real app.

Workers load this module with ``celery -A bench.ratelimit.tasks worker ...``: ``app`` is
``shared.celery_app.app`` (the real queues, routes and reliability settings) with one more task.
Each task makes one Genesys call through the project's client. The mode comes from the environment:

``BENCH_RATELIMIT_MODE=shared``
    the client of ``shared.runtime`` (the shared GCRA limiter in Redis);
``BENCH_RATELIMIT_MODE=baseline``
    the same client class and the same Redis-shared OAuth token, but with a limiter that meters
    nothing and, on a 429, makes only the calling thread wait Retry-After (what an SDK's retry does),
    plus Celery's per-worker ``rate_limit`` on the task (``BENCH_RATELIMIT_TASK_RATE``, e.g. ``20/s``).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Mapping

import httpx

from shared.celery_app import app
from shared.genesys import GenesysClient, TokenProvider
from shared.genesys.errors import GenesysError
from shared.genesys.token_seal import token_cache_key
from shared.ratelimit import RateLimitWait
from shared.runtime import get_runtime

__all__ = ["app", "call"]

MODE = os.environ.get("BENCH_RATELIMIT_MODE", "shared")
TASK_RATE_LIMIT = os.environ.get("BENCH_RATELIMIT_TASK_RATE") or None
TASK_NAME = "bench.ratelimit.call"

# Bench workers run only this task: skip importing the services' task modules (queues, routes and
# reliability settings stay the real app's), so start-up is faster and the benchmark does not depend
# on every service module importing cleanly.
app.conf.include = ()


def counters_key(prefix: str) -> str:
    """Hash of task outcomes (``ok``, ``failed``, ``waits``) of one bench run."""
    return f"{prefix}:bench:outcomes"


def workers_key(prefix: str) -> str:
    """Set of worker hostnames that have run at least one task."""
    return f"{prefix}:bench:workers"


class UnmeteredLimiter:
    """No shared budget: every request goes out at once; a 429 holds only the thread that got it."""

    def acquire(self, pool: str = "default", *, max_block_s: float = 5.0, lane: str | None = None) -> float:
        return 0.0

    def on_rate_limited(self, retry_after_s: float) -> None:
        time.sleep(retry_after_s)

    def on_response_headers(self, headers: Mapping[str, str]) -> None:
        return None


_clients: dict[str, GenesysClient] = {}
_lock = threading.Lock()
_announced = False


def _client(pool: str) -> GenesysClient:
    runtime = get_runtime()
    if MODE == "shared":
        return runtime.genesys(pool)
    with _lock:
        if pool not in _clients:
            s = runtime.settings
            http = httpx.Client(timeout=s.genesys_timeout_s)
            tokens = TokenProvider(http, s.login_base_url, s.genesys_client_id,
                                   s.genesys_client_secret.get_secret_value(),
                                   cache=runtime.redis, cache_prefix=s.key_prefix,
                                   cache_key=token_cache_key(s.require_hmac_key()))
            _clients[pool] = GenesysClient(api_base_url=s.api_base_url, tokens=tokens,
                                           limiter=UnmeteredLimiter(), http=http, pool=pool,
                                           max_block_s=s.rate_max_block_s)
        return _clients[pool]


@app.task(name=TASK_NAME, rate_limit=TASK_RATE_LIMIT)
def call(pool: str, n: int) -> str:
    """One API call for ``pool``; a RateLimitWait (a long shared pause) is slept off in the task."""
    global _announced
    runtime = get_runtime()
    prefix = runtime.settings.key_prefix
    if not _announced:
        _announced = True
        runtime.redis.sadd(workers_key(prefix), f"{socket.gethostname()}:{os.getpid()}")
    client = _client(pool)
    outcome = "ok"
    while True:
        try:
            client.search_gdpr_subjects("EMAIL", f"bench-{n}@example.com")
        except RateLimitWait as exc:
            runtime.redis.hincrby(counters_key(prefix), "waits", 1)
            time.sleep(exc.wait_s)
            continue
        except GenesysError:
            outcome = "failed"  # e.g. still 429 after the client's attempts
        break
    runtime.redis.hincrby(counters_key(prefix), outcome, 1)
    return outcome
