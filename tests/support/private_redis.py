"""A Redis server of a test's own, which the test may SIGKILL and restart: never the shared one at 6379.

Persistence as production runs it (AOF, ``appendfsync everysec``) in the test's temporary directory, so
a restart on the same port and directory comes back with what was written up to about a second before
the kill. Optionally secured as production should run it: a ``requirepass`` for the default user, ACL
users of the project's own, and TLS only (no plain port) with a certificate of ``tests.support.tls_certs``.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.support.stack import wait_until
from tests.support.tls_certs import ServerTls

#: What an ACL user of the project may do here (the tests' users; see the README for production).
ACL_RULES = ("on", "~*", "&*", "+@all")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    """One ``redis-server`` process on a free port with its AOF in ``directory``; ``kill`` and ``start``
    again reuse both."""

    def __init__(self, directory: Path, *, password: str | None = None, users: Mapping[str, str] | None = None,
                 tls: ServerTls | None = None) -> None:
        self.directory = directory
        self.port = free_port()
        self.password = password  # the default user's (requirepass): the test's admin access
        self.users = dict(users or {})  # ACL user -> password
        self.tls = tls
        self.url = f"{'rediss' if tls else 'redis'}://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def _admin_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"password": self.password}
        if self.tls is not None:
            options.update(ssl_ca_certs=str(self.tls.ca_file), ssl_cert_reqs="required")
        return options

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, decode_responses=True, **self._admin_options())

    def _server_args(self) -> list[str]:
        if self.tls is None:
            args = ["--port", str(self.port)]
        else:
            args = ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", str(self.tls.cert_file),
                    "--tls-key-file", str(self.tls.key_file), "--tls-ca-cert-file", str(self.tls.ca_file),
                    "--tls-auth-clients", "no"]
        if self.password is not None:
            args += ["--requirepass", self.password]
        for name, secret in self.users.items():
            args += ["--user", name, *ACL_RULES, f">{secret}"]
        return args

    def start(self, timeout_s: float = 10.0) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                ["redis-server", *self._server_args(), "--bind", "127.0.0.1", "--dir", str(self.directory),
                 "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""],
                stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_connect_timeout=1, ssl=self.tls is not None, **self._admin_options())
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
