"""A redis-server of the benchmark's own, which it may kill and restart (never the shared one).

It persists to an append-only file with ``appendfsync everysec`` (Redis's usual production setting),
so a SIGKILL loses up to about a second of writes and a restart on the same directory reloads the rest,
as after a real crash.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from bench._stack import free_port


def redis_server_binary() -> str | None:
    """The ``redis-server`` on PATH, or None."""
    return shutil.which("redis-server")


@dataclass
class RedisServer:
    """One redis-server on a free port, its AOF and log in ``directory``."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        binary = redis_server_binary()
        if binary is None:
            raise RuntimeError("redis-server is not on PATH")
        return [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
                "--logfile", "redis.log"]

    def start(self, timeout_s: float = 60.0) -> None:
        """Start (or start again on the same AOF) and return once it answers with its data loaded."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=5)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if client.info("persistence").get("loading") == 0:
                    return
            except redis.exceptions.RedisError:
                pass  # not listening yet, or still loading the AOF (Redis answers LOADING)
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}; see {self.directory}/redis.log")
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start within {timeout_s}s")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no shutdown save, the AOF as last fsynced."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def version(self) -> str:
        return str(redis.Redis(port=self.port).info("server")["redis_version"])
