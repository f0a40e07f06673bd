"""Starting the four pools as worker processes, the way an operator would with ``celery worker``.

Used by the demo and the integration tests; production runs the same command per pool.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shared.config import POOLS, Settings


def worker_command(pool: str, concurrency: int = 4, worker_pool: str = "threads",
                   program: Sequence[str] = ("-m", "celery")) -> list[str]:
    """The worker command line; ``program`` is what Python runs it with (``celery``'s own entry point,
    or a wrapper taking the same arguments, as the crash tests' ``tests.support.crashing_worker``)."""
    return [
        sys.executable, *program, "-A", "shared.celery_app", "worker",
        "-Q", pool, "-n", f"{pool}-{os.getpid()}@%h", "-P", worker_pool, "-c", str(concurrency),
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING",
    ]


def worker_environ(settings: Settings) -> dict[str, str]:
    """The environment of a worker process that must read ``settings``: this process's own, with every
    ``ERASURE_*`` variable set from them (the demo's embedded Redis, simulator and key prefix)."""
    return {**os.environ, **settings.to_environ()}


@dataclass
class WorkerSet:
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, pool: str, env: Mapping[str, str], log_dir: Path, concurrency: int = 4,
              worker_pool: str = "threads", program: Sequence[str] = ("-m", "celery")) -> subprocess.Popen[bytes]:
        log_dir.mkdir(parents=True, exist_ok=True)
        with (log_dir / f"worker-{pool}.log").open("ab") as log:
            process = subprocess.Popen(worker_command(pool, concurrency, worker_pool, program), env=dict(env),
                                       stdout=log, stderr=subprocess.STDOUT)
        self.processes[pool] = process
        return process

    def start_all(self, env: Mapping[str, str], log_dir: Path, concurrency: int = 4) -> None:
        for pool in POOLS:
            self.start(pool, env, log_dir, concurrency)

    def stop(self, timeout_s: float = 15.0) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()

    def dead(self) -> list[str]:
        return [pool for pool, p in self.processes.items() if p.poll() is not None]
