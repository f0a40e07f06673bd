"""The HTTP intake as production runs it: ``uvicorn services.intake.api:app`` in a process of its own,
with a stack's settings, on a free port."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.private_redis import free_port
from tests.support.stack import Stack, wait_until


@contextmanager
def running_api(env: dict[str, str], log_dir: Path) -> Iterator[str]:
    """Start uvicorn with ``env``; yield its base URL once /health answers; stop it however the test ended."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log = (log_dir / f"intake-api-{port}.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "services.intake.api:app", "--host", "127.0.0.1",
                                "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the intake API exited with {process.returncode}; see {log.name}")
        try:
            return httpx.get(f"{url}/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(healthy, timeout_s=30, message="the intake API to answer /health")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def create_key(stack: Stack, name: str, *scopes: str) -> tuple[str, dict[str, str]]:
    """A key made with the CLI, as an operator would: its id and the Authorization header."""
    args = [arg for scope in scopes for arg in ("--scope", scope)]
    result = stack.cli("keys", "create", name, *args)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    return token.split("_")[1], {"Authorization": f"Bearer {token}"}
