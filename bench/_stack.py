"""Shared plumbing for the end-to-end benchmarks: a simulator in its own process, the four pools
as worker processes, a unique key prefix on the real Redis, and the simulator's counters."""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import httpx
import redis
from genesys_sim.config import SimConfig
from pydantic import SecretStr

from services.workers import WorkerSet, worker_environ
from shared.config import Settings
from shared.keys import Keys
from shared.signing import generate_private_pem

REDIS_URL = os.environ.get("ERASURE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(config: SimConfig, port: int) -> None:
    from genesys_sim.server import serve

    serve(config, "127.0.0.1", port)


def start_simulator(config: SimConfig, timeout_s: float = 120.0) -> tuple[BaseProcess, str]:
    """The simulator in a process of its own (its CPU is not the workers'), and its URL once it answers."""
    port = free_port()
    process = multiprocessing.get_context("spawn").Process(target=_serve, args=(config, port), daemon=True)
    process.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            httpx.get(f"{url}/_sim/stats", timeout=2).raise_for_status()
            return process, url
        except httpx.HTTPError:
            if time.monotonic() > deadline or not process.is_alive():
                process.terminate()
                raise RuntimeError("simulator did not start") from None
            time.sleep(0.2)


@dataclass
class BenchStack:
    sim_config: SimConfig
    #: ``Settings`` fields of this run (batch size, rate budget...), on top of the stack's own.
    overrides: Mapping[str, Any]
    log_dir: Path
    concurrency: int = 8
    url: str = ""
    #: The run's settings (the simulator, a fresh key prefix on the real Redis); the workers get them as ``env``.
    settings: Settings | None = None
    env: dict[str, str] = field(default_factory=dict)
    _sim: BaseProcess | None = None
    workers: WorkerSet = field(default_factory=WorkerSet)

    def __enter__(self) -> BenchStack:
        self._sim, self.url = start_simulator(self.sim_config)
        self.settings = Settings(
            redis_url=REDIS_URL, genesys_base_url=self.url, genesys_client_id=self.sim_config.client_id,
            genesys_client_secret=SecretStr(self.sim_config.client_secret),
            hmac_key=SecretStr(secrets.token_hex(32)), signing_key=SecretStr(generate_private_pem()),
            key_prefix=f"bench-{uuid.uuid4().hex[:8]}", **self.overrides)
        self.env = worker_environ(self.settings)
        return self

    def start_workers(self) -> None:
        self.workers.start_all(self.env, self.log_dir, concurrency=self.concurrency)

    def stats(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/_sim/stats", timeout=30).json())

    def __exit__(self, *exc: object) -> None:
        self.workers.stop()
        if self._sim is not None:
            self._sim.terminate()
            self._sim.join(10)
        client = redis.Redis.from_url(REDIS_URL)
        if self.settings is not None:
            for pattern in Keys(self.settings.key_prefix).all_patterns:
                keys = list(client.scan_iter(pattern, count=1000))
                for start in range(0, len(keys), 1000):
                    client.delete(*keys[start:start + 1000])


def api_answers(stats: Mapping[str, Any]) -> tuple[int, int]:
    """(all /api/v2 answers, 429 answers) from the simulator's counters."""
    total = limited = 0
    for row in stats["requests"]:
        if str(row["path"]).startswith("/api/v2"):
            total += int(row["count"])
            if int(row["status"]) == 429:
                limited += int(row["count"])
    return total, limited


def machine() -> dict[str, Any]:
    return {"cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}


def run_child(module: str, arguments: list[str], what: str) -> dict[str, Any]:
    """Run ``python -m module arguments`` in a fresh process (its own connections, caches and memory, nothing
    left over from the run before), pass its output through, and return the JSON of its ``RESULT`` line."""
    process = subprocess.Popen([sys.executable, "-m", module, *arguments], stdout=subprocess.PIPE, text=True)
    result: dict[str, Any] | None = None
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line.removeprefix("RESULT "))
        else:
            print(line, end="", flush=True)
    if process.wait() != 0 or result is None:
        raise RuntimeError(f"{what} failed (exit {process.returncode})")
    return result
