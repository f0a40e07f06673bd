"""The workers' health check, as compose and Kubernetes run it, against a real worker on the real Redis: it
passes while the worker is up and fails once it is gone, so `depends_on: service_healthy`, readiness and
liveness mean something.

The probe is taken from the deployment files themselves (docker-compose.yml's healthcheck, with compose's ``$$``
read as ``$``; the k8s base's livenessProbe) and run through ``sh -c`` with the environment a container has
(``HOSTNAME`` set, which names the worker's default node ``celery@<hostname>``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from shared.signing import generate_private_pem
from tests.support.redis_required import require_redis
from tests.support.stack import REDIS_URL, wait_until

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def compose_probe() -> str:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    kind, command = compose["services"]["polling"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    return str(command).replace("$$", "$")


def k8s_probe() -> str:
    patch = yaml.safe_load((ROOT / "deploy" / "k8s" / "base" / "worker-pod.yaml").read_text())
    [container] = patch["spec"]["template"]["spec"]["containers"]
    shell, flag, command = container["livenessProbe"]["exec"]["command"]
    assert (shell, flag) == ("sh", "-c")
    return str(command)


@pytest.fixture
def environment(tmp_path):
    require_redis(REDIS_URL)
    (tmp_path / "metrics").mkdir()
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # `celery` of this venv, as in the image
        "HOSTNAME": socket.gethostname(),
        "ERASURE_REDIS_URL": REDIS_URL,
        "ERASURE_KEY_PREFIX": f"probe-{uuid.uuid4().hex[:10]}",
        "ERASURE_GENESYS_BASE_URL": "http://127.0.0.1:9",  # never called: the worker only idles
        "ERASURE_HMAC_KEY": "p" * 32,
        "ERASURE_SIGNING_KEY": generate_private_pem(),
        "ERASURE_WATCHDOG_INTERVAL_S": "0",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    yield env
    client = require_redis(REDIS_URL)
    keys = list(client.scan_iter(f"{env['ERASURE_KEY_PREFIX']}:*"))
    if keys:
        client.delete(*keys)


def probe(command: str, env: dict[str, str]) -> int:
    # The same command with a shorter wait for an answer: a missing worker then fails in 2 s rather than 10.
    quick = command.replace("--timeout 10", "--timeout 2")
    return subprocess.run(["sh", "-c", quick], env=env, capture_output=True, timeout=60).returncode


def test_the_probe_passes_while_the_worker_runs_and_fails_once_it_is_gone(environment, tmp_path):
    commands = {"compose": compose_probe(), "k8s": k8s_probe()}
    for command in commands.values():
        assert "--timeout 10" in command
    assert probe(commands["k8s"], environment) != 0, "a probe that passes with no worker proves nothing"
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [str(BIN / "celery"), "-A", "shared.celery_app", "worker", "-Q", "polling", "-c", "1",
         "--without-gossip", "--without-mingle", "-l", "WARNING"],
        env=environment, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        wait_until(lambda: probe(commands["k8s"], environment) == 0, timeout_s=60, interval_s=0.5,
                   message="the worker to answer its probe")
        assert probe(commands["compose"], environment) == 0
    finally:
        worker.terminate()
        assert worker.wait(timeout=60) == 0, (tmp_path / "worker.log").read_text()
        log.close()
    for name, command in commands.items():
        assert probe(command, environment) != 0, f"{name}: the probe passed with the worker stopped"
