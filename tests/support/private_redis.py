"""A Redis server of a test's own, which the test may SIGKILL and restart: never the shared one at 6379.

Persistence as production runs it (AOF, ``appendfsync everysec``) in the test's temporary directory, so
a restart on the same port and directory comes back with what was written up to about a second before
the kill.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest
import redis

from tests.support.stack import wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    """One ``redis-server`` process on a free port with its AOF in ``directory``; ``kill`` and ``start``
    again reuse both."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, decode_responses=True)

    def start(self, timeout_s: float = 10.0) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                 "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""],
                stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        try:
            wait_until(lambda: self._answers(client), timeout_s=timeout_s, interval_s=0.05,
                       message=f"the private Redis on port {self.port}")
        finally:
            client.close()

    def _answers(self, client: redis.Redis) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"redis-server exited with {self.process.returncode} (see {self.directory}/redis.log)")
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    def kill(self) -> None:
        """SIGKILL, as a crashed host or an OOM kill would: no shutdown, no final fsync."""
        assert self.process is not None
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


def require_redis_server() -> None:
    """The binary is needed to start and kill a Redis of our own; same rule as the shared Redis."""
    from tests.support.redis_required import in_ci

    if shutil.which("redis-server") is None:
        reason = "needs the redis-server binary (a Redis the test can kill)"
        if in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
