"""TEST ONLY: a Redis server of a test's own, on a free port and in a temporary directory, that the test
may SIGKILL and start again on the same port and append-only file (``appendfsync everysec``, as in
production). Never the shared Redis at 6379."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

import redis


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateRedis:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, decode_responses=True)

    def start(self, timeout_s: float = 20.0) -> None:
        """Start (or start again) on the same port, reading back the append-only file it left."""
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--protected-mode", "no"],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if self.client().ping():
                    return
            except redis.exceptions.ConnectionError:  # not listening yet, or still loading its AOF
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"redis-server on port {self.port} did not answer within {timeout_s}s")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown save, as a crashed or OOM-killed Redis."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
