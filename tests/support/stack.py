"""What integration tests share: a stack of the real Redis at 127.0.0.1:6379, the simulator over HTTP
and real Celery worker processes, isolated per test by a unique key prefix, and the waits on it.

A plain module (the fixtures that use it are in tests/integration/conftest.py)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis
from genesys_sim.config import SimConfig
from genesys_sim.server import start_in_thread

from services.workers import POOLS, WorkerSet
from shared.config import Settings
from shared.keys import Keys
from shared.lanes import queue_key
from shared.models import Lane, RequestState
from shared.runtime import Runtime
from shared.signing import generate_private_pem
from tests.support.redis_required import DEFAULT_URL

REDIS_URL = os.environ.get("ERASURE_TEST_REDIS_URL", DEFAULT_URL)
# Every platform call that deletes or submits deletion work, as the simulator's stats name them.
DELETING_CALLS = {("POST", "/api/v2/gdpr/requests"), ("DELETE", "/api/v2/externalcontacts/contacts/{contactId}"),
                  ("POST", "/api/v2/externalcontacts/bulk/contacts/remove"), ("POST", "/api/v2/recording/jobs"),
                  ("DELETE", "/api/v2/users/{userId}"),
                  # a due deleteDate deletes one recording (recordings younger than the recording jobs' lag)
                  ("PUT", "/api/v2/conversations/{conversationId}/recordings/{recordingId}")}


def wait_until(predicate, timeout_s: float, interval_s: float = 0.2, message: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {message}")
        time.sleep(interval_s)


@dataclass
class Stack:
    sim_url: str
    env: dict[str, str]
    runtime: Runtime
    workers: WorkerSet
    tmp: Path
    login_url: str = ""  # the simulator's login host (its own port): where tokens come from

    def platform_api(self) -> httpx.Client:
        """An HTTP client of the simulator's API with a token from its login host (close it after use)."""
        with httpx.Client(base_url=self.login_url or self.sim_url, timeout=30) as login:
            answer = login.post("/oauth/token", data={"grant_type": "client_credentials"},
                                auth=("sim-client", "sim-secret"))
            answer.raise_for_status()
        return httpx.Client(base_url=self.sim_url, timeout=30,
                            headers={"Authorization": f"Bearer {answer.json()['access_token']}"})

    def cli(self, *args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "services.cli", *args], env=self.env, text=True,
                              capture_output=True, input=input_text, timeout=120)


def make_stack(tmp_path: Path, sim_config: SimConfig, **settings_env: str) -> tuple[Stack, object]:
    # The login host on a port of its own, as on the platform: every test exercises the client's login URL,
    # and a token asked of the API port is refused.
    sim = start_in_thread(sim_config, login_port=0)
    prefix = f"it-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "ERASURE_REDIS_URL": REDIS_URL,
        "ERASURE_GENESYS_BASE_URL": sim.url,
        "ERASURE_GENESYS_LOGIN_URL": sim.login_url,
        "ERASURE_GENESYS_CLIENT_ID": sim_config.client_id,
        "ERASURE_GENESYS_CLIENT_SECRET": sim_config.client_secret,
        "ERASURE_HMAC_KEY": secrets.token_hex(32),
        # Workers refuse to start without it (shared.worker_checks); certificates are signed with it.
        "ERASURE_SIGNING_KEY": generate_private_pem(),
        "ERASURE_KEY_PREFIX": prefix,
        "ERASURE_RATE_PER_MINUTE": "6000",
        "ERASURE_RATE_BURST": "20",
        "ERASURE_POLL_INTERVAL_S": "0.2",
        "ERASURE_POLL_MAX_INTERVAL_S": "1",
        "ERASURE_VISIBILITY_TIMEOUT_S": "30",
        # Below the visibility timeout, as Settings requires (a task's time limit and every countdown).
        "ERASURE_TASK_TIME_LIMIT_S": "20",
        "ERASURE_ACTIVE_REVISIT_S": "10",
        "ERASURE_RETRY_BACKOFF_CAP_S": "5",
        **settings_env,
    }
    settings = Settings(**{
        k.removeprefix("ERASURE_").lower(): json.loads(v) if v.startswith(("[", "{")) else v
        for k, v in env.items() if k.startswith("ERASURE_")})
    stack = Stack(sim_url=sim.url, env=env, runtime=Runtime.from_settings(settings), workers=WorkerSet(),
                  tmp=tmp_path, login_url=sim.login_url)
    return stack, sim


@contextmanager
def running_stack(tmp_path: Path, redis_client: redis.Redis, sim_config: SimConfig, *,
                  pools: Iterable[str] = POOLS, concurrency: int = 2, worker_pool: str = "threads",
                  pool_env: Callable[[str], Mapping[str, str]] | None = None,
                  **settings_env: str) -> Iterator[Stack]:
    """A stack with a worker process per pool in ``pools`` (none: nothing consumes the queues), each with
    Celery's execution pool ``worker_pool``: ``threads``, or ``prefork`` (``celery worker``'s default, as
    production runs it). ``pool_env(pool)``: variables of that pool's worker alone (its metrics port).

    On the way out, however the test ended: workers stopped, simulator stopped, the test's keys gone.
    """
    stack, sim = make_stack(tmp_path, sim_config, **settings_env)
    try:
        for pool in pools:
            env = {**stack.env, **(pool_env(pool) if pool_env else {})}
            stack.workers.start(pool, env, tmp_path / "logs", concurrency=concurrency, worker_pool=worker_pool)
        yield stack
    finally:
        stack.workers.stop()
        sim.stop()
        cleanup_prefix(redis_client, stack.env["ERASURE_KEY_PREFIX"])


def queue_keys(stack: Stack, pool: str) -> list[str]:
    """The Redis lists of ``pool``'s queue, interactive then bulk (a ``--file`` submission's messages are bulk)."""
    return [queue_key(f"{stack.env['ERASURE_KEY_PREFIX']}:celery:", pool, lane) for lane in Lane]


def queued(stack: Stack, pool: str) -> int:
    """Messages waiting in ``pool``'s queue, both lanes."""
    return sum(int(stack.runtime.redis.llen(key)) for key in queue_keys(stack, pool))


def cleanup_prefix(client: redis.Redis, prefix: str) -> None:
    for pattern in Keys(prefix).all_patterns:
        keys = list(client.scan_iter(pattern, count=1000))
        if keys:
            client.delete(*keys)


def submit(stack: Stack, payloads: list[dict]) -> list[str]:
    """Submit through the CLI's bulk door (a JSONL file) and return the request ids, in order."""
    import json

    path = stack.tmp / f"submit-{uuid.uuid4().hex[:6]}.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in payloads))
    result = stack.cli("submit", "--file", str(path))
    assert result.returncode == 0, result.stderr
    return [stack.runtime.store.find_by_ticket(p["ticket"]).request_id for p in payloads]


def wait_final(stack: Stack, ids: list[str], timeout_s: float = 90.0) -> dict:
    """Every request final and, where the outcome is certified, its certificate issued and its record
    scrubbed (both happen just after the final state)."""
    store = stack.runtime.store
    uncertified = {RequestState.FAILED, RequestState.REJECTED}

    def all_final():
        states = store.states(ids)
        if len(states) < len(ids) or not all(s.is_final for s in states.values()):
            return False
        return all(states[i] in uncertified or store.get(i).scrubbed for i in ids) and states

    return wait_until(all_final, timeout_s=timeout_s, message="every request to reach a final state")


def sim_find(stack: Stack, values: list[str]) -> list[dict]:
    import httpx

    return httpx.post(f"{stack.sim_url}/_sim/find", json={"values": values}, timeout=30).json()["matches"]


def wait_certificate(stack: Stack, request_id: str, timeout_s: float = 30.0) -> dict:
    """The certificate is written right after the final state; wait for it rather than race it."""
    key = stack.runtime.keys.certificate(request_id)
    raw = wait_until(lambda: stack.runtime.redis.get(key), timeout_s=timeout_s, message="the certificate")
    return json.loads(raw)
