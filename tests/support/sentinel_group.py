"""A Redis Sentinel group of a test's own: a master, a replica and one sentinel (quorum 1), each a
``redis-server`` process on a free port in the test's temporary directory. Never the shared Redis at 6379.

Password-protected the way production would be (the data nodes' ``requirepass``, the sentinel's own), so
the tests also prove each password reaches the right server. The sentinel declares a master down after
``DOWN_AFTER_MS`` and fails over on its own; ``failover`` asks for one, ``kill_master`` forces one.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest
import redis

from tests.support.redis_required import in_ci
from tests.support.stack import wait_until

MASTER_NAME = "erasure-it"
DATA_PASSWORD = "data-secret/with:odd@chars"  # must survive quoting into kombu's broker URL
SENTINEL_PASSWORD = "sentinel-secret"
DOWN_AFTER_MS = 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_redis_server() -> None:
    """Starting a sentinel needs the binary; same rule as the shared Redis: fail in CI, skip elsewhere."""
    if shutil.which("redis-server") is None:
        reason = "needs the redis-server binary (to run a master, a replica and a sentinel of the test's own)"
        if in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


class SentinelGroup:
    """Start with ``start``; ``stop`` ends every process it started, whatever state they are in."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.processes: dict[int, subprocess.Popen[bytes]] = {}  # by port
        self.data_ports = (free_port(), free_port())
        self.sentinel_port = free_port()

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self, timeout_s: float = 30.0) -> None:
        master, replica = self.data_ports
        self._start_data_node(master)
        self._start_data_node(replica, "--replicaof", "127.0.0.1", str(master))
        wait_until(lambda: self._replication_info(replica).get("master_link_status") == "up", timeout_s=timeout_s,
                   interval_s=0.05, message="the replica to sync with the master")
        self._start_sentinel(master)
        # Only a replica the sentinel has seen can be promoted: wait until it knows it, linked and healthy.
        wait_until(self._sentinel_knows_a_healthy_replica, timeout_s=timeout_s, interval_s=0.1,
                   message="the sentinel to discover the replica")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    # -- what the tests do -----------------------------------------------------------------------------

    @property
    def sentinels(self) -> list[str]:
        return [f"127.0.0.1:{self.sentinel_port}"]

    def master_port(self) -> int:
        _host, port = self.sentinel().sentinel_get_master_addr_by_name(MASTER_NAME)
        return int(port)

    def data_client(self, port: int) -> redis.Redis:
        """A plain client of one data node, bypassing the sentinel: to look at what landed where."""
        return redis.Redis(port=port, password=DATA_PASSWORD, decode_responses=True, socket_timeout=5)

    def sentinel(self) -> redis.Redis:
        return redis.Redis(port=self.sentinel_port, password=SENTINEL_PASSWORD, decode_responses=True, socket_timeout=5)

    def failover(self, timeout_s: float = 30.0) -> int:
        """``SENTINEL FAILOVER``: the replica is promoted, the old master demoted. Returns the new master's
        port once it has taken the role (the sentinel names it as soon as it has chosen it)."""
        old = self.master_port()
        # A forced failover does not wait for replication (the replica with the best offset wins, whatever
        # it lacks). A planned switch lets the replica catch up first, as an operator would.
        self._wait_replica_caught_up(old, timeout_s)
        self.sentinel().execute_command("SENTINEL", "FAILOVER", MASTER_NAME)
        new = self._wait_new_master(old, timeout_s)
        # Until the sentinel demotes it, the old master still takes writes that the resync then drops: the
        # window every failover has. The tests look at what happens after it.
        wait_until(lambda: self._role(old) == "slave", timeout_s=timeout_s, interval_s=0.05,
                   message="the old master to be demoted")
        return new

    def kill_master(self, timeout_s: float = 30.0) -> int:
        """SIGKILL the master, as a crashed host would; the sentinel sees it down and promotes the replica."""
        old = self.master_port()
        process = self.processes[old]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        return self._wait_new_master(old, timeout_s)

    # -- internals -------------------------------------------------------------------------------------

    def _wait_new_master(self, old: int, timeout_s: float) -> int:
        def promoted() -> int | None:
            port = self.master_port()
            if port == old:
                return None
            return port if self._role(port) == "master" else None

        return int(wait_until(promoted, timeout_s=timeout_s, interval_s=0.05, message="the failover to a new master"))

    def _wait_replica_caught_up(self, master: int, timeout_s: float) -> None:
        """Until the replica has acknowledged every write the master had when this was called."""
        target = int(self._replication_info(master)["master_repl_offset"])

        def caught_up() -> bool:
            info = self._replication_info(master)
            replica = info.get("slave0")  # redis-py parses "ip=..,port=..,state=online,offset=N,lag=0"
            if not isinstance(replica, dict):
                return False
            return replica.get("state") == "online" and int(replica.get("offset", -1)) >= target

        wait_until(caught_up, timeout_s=timeout_s, interval_s=0.02, message="the replica to catch up")

    def _role(self, port: int) -> str | None:
        try:
            return str(self.data_client(port).execute_command("ROLE")[0])
        except redis.ConnectionError:
            return None

    def _start_data_node(self, port: int, *extra: str) -> None:
        directory = self.directory / str(port)
        directory.mkdir(parents=True, exist_ok=True)
        # masterauth on both: after a failover the old master replicates from the new one.
        self._spawn(port, ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
                           "--save", "", "--appendonly", "no", "--requirepass", DATA_PASSWORD,
                           "--masterauth", DATA_PASSWORD, "--repl-diskless-sync-delay", "0", *extra], directory)
        wait_until(lambda: self._answers(self.data_client(port), port), timeout_s=10, interval_s=0.05,
                   message=f"redis-server on port {port}")

    def _start_sentinel(self, master: int) -> None:
        directory = self.directory / "sentinel"
        directory.mkdir(parents=True, exist_ok=True)
        config = directory / "sentinel.conf"  # the sentinel rewrites it: a file of its own, writable
        config.write_text("\n".join([
            f"port {self.sentinel_port}", "bind 127.0.0.1", f"dir {directory}", f"requirepass {SENTINEL_PASSWORD}",
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master} 1",
            f"sentinel auth-pass {MASTER_NAME} {DATA_PASSWORD}",
            f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}",
            f"sentinel failover-timeout {MASTER_NAME} 10000",
            f"sentinel parallel-syncs {MASTER_NAME} 1", ""]))
        self._spawn(self.sentinel_port, ["redis-server", str(config), "--sentinel"], directory)
        wait_until(lambda: self._answers(self.sentinel(), self.sentinel_port), timeout_s=10, interval_s=0.05,
                   message="the sentinel")
        # Test timings (Redis >= 7.0; older ones keep their defaults and the waits take longer): the sentinel
        # looks at its nodes' INFO every 0.5 s instead of 10 s, so it finds the replica and demotes the old
        # master in moments; a busy test machine that stalls it past 2 s costs 3 s of TILT, not 30.
        with contextlib.suppress(redis.ResponseError):
            self.sentinel().execute_command("SENTINEL", "DEBUG", "INFO-PERIOD", 500, "PUBLISH-PERIOD", 250,
                                     "TILT-PERIOD", 3000)

    def _spawn(self, port: int, command: list[str], directory: Path) -> None:
        with (directory / "server.log").open("ab") as log:
            self.processes[port] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    def _answers(self, client: redis.Redis, port: int) -> bool:
        process = self.processes[port]
        if process.poll() is not None:
            raise AssertionError(f"redis-server on port {port} exited with {process.returncode} "
                                 f"(see its server.log under {self.directory})")
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    def _replication_info(self, port: int) -> dict[str, object]:
        return dict(self.data_client(port).info("replication"))

    def _sentinel_knows_a_healthy_replica(self) -> bool:
        replicas = self.sentinel().execute_command("SENTINEL", "REPLICAS", MASTER_NAME)
        return any(_healthy(replica) for replica in replicas)


def _healthy(replica: object) -> bool:
    """A ``SENTINEL REPLICAS`` entry (a dict in RESP3 parsing, a flat list otherwise) the sentinel could promote."""
    fields = replica if isinstance(replica, dict) else dict(zip(replica[::2], replica[1::2], strict=True))  # type: ignore[index]
    flags = str(fields.get("flags", "")).split(",")
    return "slave" in flags and not {"s_down", "o_down", "disconnected"} & set(flags) \
        and fields.get("master-link-status") == "ok"
