"""The chaos benchmark's stack: its own redis-server (AOF), the simulator in its own process, and the
four pools as ``celery worker`` processes (prefork), each of which it may SIGKILL and start again.

Nothing here touches the shared Redis: the workers, the intake and the results all use the stack's own.
"""

from __future__ import annotations

import os
import secrets
import signal
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import httpx
from genesys_sim.config import SimConfig
from pydantic import SecretStr

from bench._redis_server import RedisServer
from bench._stack import start_simulator
from services.workers import WorkerSet, worker_environ
from shared.config import POOLS, Settings
from shared.signing import generate_private_pem

WORKER_POOL = "prefork"


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc: prefork children are forked by the main process)."""
    out: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        # The command name is in parentheses and may hold spaces: the fields after the last ')' are fixed.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(entry.name))
    return sorted(out)


def _is_worker(pid: int) -> bool:
    """Whether ``pid`` is still a celery worker process (not a process that reused the id)."""
    try:
        return b"celery" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@dataclass
class ChaosStack:
    sim_config: SimConfig
    #: ``Settings`` fields of the run on top of the stack's own (Redis, simulator, key prefix).
    overrides: Mapping[str, Any]
    log_dir: Path
    concurrency: int = 2
    url: str = ""
    settings: Settings | None = None
    env: dict[str, str] = field(default_factory=dict)
    redis: RedisServer | None = None
    workers: WorkerSet = field(default_factory=WorkerSet)
    #: Prefork children of a main process the bench killed: killed too when the pool starts again.
    orphans: dict[str, list[int]] = field(default_factory=dict)
    _sim: BaseProcess | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> ChaosStack:
        try:
            self._tmp = tempfile.TemporaryDirectory(prefix="erasure-chaos-")
            self.redis = RedisServer(Path(self._tmp.name) / "redis")
            self.redis.start()
            self._sim, self.url = start_simulator(self.sim_config)
            self.settings = Settings(
                redis_url=self.redis.url, genesys_base_url=self.url, genesys_client_id=self.sim_config.client_id,
                genesys_client_secret=SecretStr(self.sim_config.client_secret),
                hmac_key=SecretStr(secrets.token_hex(32)), signing_key=SecretStr(generate_private_pem()),
                key_prefix="chaos", **self.overrides)
            self.env = worker_environ(self.settings)
        except BaseException:
            self.__exit__()
            raise
        return self

    # ------------------------------------------------------------------ workers
    def start_worker(self, pool: str) -> None:
        self.workers.start(pool, self.env, self.log_dir, concurrency=self.concurrency, worker_pool=WORKER_POOL)

    def start_workers(self) -> None:
        for pool in POOLS:
            self.start_worker(pool)

    def main_pid(self, pool: str) -> int | None:
        process = self.workers.processes.get(pool)
        return process.pid if process is not None and process.poll() is None else None

    def kill_main(self, pool: str) -> int | None:
        """SIGKILL the pool's main process; its children are remembered (``restart`` ends them). The pid, or
        None when the pool is down already."""
        pid = self.main_pid(pool)
        if pid is None:
            return None
        self.orphans[pool] = children_of(pid)
        os.kill(pid, signal.SIGKILL)
        self.workers.processes[pool].wait()
        return pid

    def kill_child(self, pool: str, pick: int) -> int | None:
        """SIGKILL one prefork child (``pick`` chooses among them, in pid order); the pool forks a new one."""
        pid = self.main_pid(pool)
        children = children_of(pid) if pid is not None else []
        if not children:
            return None
        child = children[pick % len(children)]
        os.kill(child, signal.SIGKILL)
        return child

    def restart(self, pool: str) -> None:
        """Start the pool again, after ending what is left of its killed main process (a container restart
        takes the whole process tree: its children must not finish tasks alongside the new worker's)."""
        for pid in self.orphans.pop(pool, []):
            if _is_worker(pid):
                os.kill(pid, signal.SIGKILL)
        self.start_worker(pool)

    def exited(self) -> dict[str, int]:
        """Pools whose main process has exited, with its return code."""
        return {pool: p.returncode for pool, p in self.workers.processes.items() if p.poll() is not None}

    # ------------------------------------------------------------------ simulator
    def sim_post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        response = httpx.post(f"{self.url}{path}", json=dict(body), timeout=30)
        response.raise_for_status()
        return dict(response.json())

    def stats(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/_sim/stats", timeout=60).json())

    def __exit__(self, *exc: object) -> None:
        self.workers.stop()
        for pids in self.orphans.values():
            for pid in pids:
                if _is_worker(pid):
                    os.kill(pid, signal.SIGKILL)
        if self._sim is not None:
            self._sim.terminate()
            self._sim.join(10)
        if self.redis is not None:
            self.redis.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

