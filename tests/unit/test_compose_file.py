"""docker-compose.yml as a deployment: every service checked for health and started only once what it needs is
healthy, workers given time to finish a task, no secret with a default, Flower on the workers' broker, Prometheus
scraping every worker and the intake with the rules loaded, and the CLI runnable in it.

`docker compose` is not run here (no Docker daemon in the test environment): the file is read as compose reads
it (YAML with merge keys; ``$$`` is a literal ``$``) and Prometheus's configuration is checked by promtool.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from shared.celery_app import celery_config
from shared.config import POOLS, Settings, load_settings
from tests.support.redis_required import in_ci

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus-compose.yml"
FLOWER_APP = ROOT / "deploy" / "flower" / "flowerapp.py"
ENV_EXAMPLE = ROOT / "deploy" / "compose.env.example"
#: Secrets that are not settings: the intake's API keys and Flower's login.
OTHER_SECRETS = {"ERASURE_BOOTSTRAP_KEY", "METRICS_API_KEY", "FLOWER_BASIC_AUTH"}
#: Services run on demand (`docker compose run`), not kept up: no healthcheck to keep.
ONE_OFF = {"cli"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())  # type: ignore[no-any-return]


def secret_variables() -> set[str]:
    settings = {f"ERASURE_{name.upper()}" for name, field in Settings.model_fields.items() if field.annotation is SecretStr}
    return settings | OTHER_SECRETS


def seconds(duration: str) -> int:
    """A compose duration (``15m``, ``1h30m``, ``90s``) in seconds."""
    parts = re.findall(r"(\d+)(h|m|s)", duration)
    assert "".join(n + u for n, u in parts) == duration, f"not a duration: {duration}"
    return sum(int(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)


def test_every_service_has_a_healthcheck_and_waits_for_what_it_needs_to_be_healthy(compose):
    services = compose["services"]
    for name, service in services.items():
        if name in ONE_OFF:
            assert service["profiles"] == [name] and service["healthcheck"] == {"disable": True}
        else:
            check = service["healthcheck"]
            assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1, name
            assert seconds(check["timeout"]) < seconds(check["interval"]), name
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on as a list only orders the start"
        for needed, condition in depends.items():
            assert condition == {"condition": "service_healthy"}, f"{name} -> {needed}"
            assert needed in services and needed not in ONE_OFF
    for pool in POOLS:
        assert set(services[pool]["depends_on"]) == {"redis", "simulator"}
    assert set(services["intake"]["depends_on"]) == {"redis"}


def test_the_health_checks_ask_the_right_thing(compose):
    services = compose["services"]
    redis_check = services["redis"]["healthcheck"]["test"][1]
    assert "REDISCLI_AUTH=" in redis_check and "-a " not in redis_check and "grep -q PONG" in redis_check
    for pool in POOLS:
        worker_check = services[pool]["healthcheck"]["test"][1].replace("$$", "$")
        assert "celery -A shared.celery_app inspect ping -d celery@$HOSTNAME" in worker_check
        assert "env -u PROMETHEUS_MULTIPROC_DIR" in worker_check  # the probe must not touch the worker's metrics
        assert " -n " not in " ".join(services[pool]["command"])  # so the node is celery@<hostname>
    intake = services["intake"]
    port = re.search(r"--port (\d+)", intake["entrypoint"][-1])
    assert port and f"http://127.0.0.1:{port.group(1)}/health" in " ".join(intake["healthcheck"]["test"])


def test_a_stopped_worker_has_time_to_finish_its_task(compose):
    limit = Settings.model_fields["task_time_limit_s"].default
    for pool in POOLS:
        assert seconds(compose["services"][pool]["stop_grace_period"]) >= limit


def test_no_secret_has_a_default_and_every_one_is_in_the_env_file_example():
    text = COMPOSE.read_text()
    uses = re.findall(r"\$\{([A-Z0-9_]+)(:?[-?+]?)([^}]*)\}", text)
    secrets = {name for name, _, _ in uses if name in secret_variables()}
    assert {"ERASURE_REDIS_PASSWORD", "ERASURE_HMAC_KEY", "ERASURE_SIGNING_KEY", "ERASURE_GENESYS_CLIENT_SECRET",
            "ERASURE_BOOTSTRAP_KEY", "METRICS_API_KEY", "FLOWER_BASIC_AUTH"} <= secrets
    for name, operator, message in uses:
        if name in secrets:
            assert operator == ":?" and message.strip(), f"${{{name}}} must be required with a message, not defaulted"
    literal = re.findall(r"^\s+([A-Z0-9_]+): (?!\$\{)(.+)$", text, re.M)
    assert not [name for name, _ in literal if name in secret_variables()], "a secret written into the file"
    example = dict(line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines()
                   if line and not line.startswith("#"))
    assert set(example) == secrets and set(example.values()) == {""}


def test_workers_serve_metrics_and_prometheus_scrapes_each_pool_and_the_intake(compose):
    services = compose["services"]
    ports = {services[pool]["environment"]["ERASURE_METRICS_PORT"] for pool in POOLS}
    assert len(ports) == 1
    [port] = ports
    for pool in POOLS:
        env = services[pool]["environment"]
        assert env["ERASURE_METRICS_HOST"] == "0.0.0.0" and env["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/")
    config = yaml.safe_load(PROMETHEUS.read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    [dns] = jobs["erasure-workers"]["dns_sd_configs"]
    assert set(dns["names"]) == set(POOLS) and str(dns["port"]) == port
    intake_port = re.search(r"--port (\d+)", services["intake"]["entrypoint"][-1]).group(1)  # type: ignore[union-attr]
    assert jobs["erasure-intake"]["static_configs"][0]["targets"] == [f"intake:{intake_port}"]
    secret_file = jobs["erasure-intake"]["authorization"]["credentials_file"]
    [secret] = services["prometheus"]["secrets"]
    assert secret_file == f"/run/secrets/{secret}" and compose["secrets"][secret] == {"environment": "METRICS_API_KEY"}
    assert "--scope metrics:read --from-env METRICS_API_KEY" in services["intake"]["entrypoint"][-1]
    mounts = dict(volume.split(":")[:2] for volume in services["prometheus"]["volumes"] if volume.startswith("./"))
    assert mounts["./deploy/prometheus/prometheus-compose.yml"] == "/etc/prometheus/prometheus.yml"
    assert config["rule_files"] == [mounts["./deploy/prometheus/alerts.yml"]]


def test_promtool_accepts_the_prometheus_configuration(tmp_path):
    """promtool also reads the rule file the configuration loads (deploy/prometheus/alerts.yml, or an empty one
    where this checkout has none yet) and the key file (a stand-in)."""
    if not shutil.which("promtool"):
        reason = "needs promtool (Debian's prometheus package) to check deploy/prometheus/prometheus-compose.yml"
        if in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    rules = ROOT / "deploy" / "prometheus" / "alerts.yml"
    if not rules.exists():
        rules = tmp_path / "alerts.yml"
        rules.write_text("groups: []\n")
    key = tmp_path / "key"
    key.write_text("stand-in\n")
    config = PROMETHEUS.read_text().replace("/etc/prometheus/alerts.yml", str(rules)).replace(
        "/run/secrets/erasure_metrics_key", str(key))
    (tmp_path / "prometheus.yml").write_text(config)
    result = subprocess.run(["promtool", "check", "config", str(tmp_path / "prometheus.yml")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr


def test_flower_uses_the_workers_broker_with_the_password_and_key_prefix(compose, monkeypatch):
    """Without the workers' key prefix Flower would connect and see no worker and no task event."""
    flower = compose["services"]["flower"]
    assert flower["environment"]["ERASURE_KEY_PREFIX"] == compose["x-worker"]["environment"]["ERASURE_KEY_PREFIX"]
    assert "127.0.0.1:" in flower["ports"][0]
    monkeypatch.setenv("ERASURE_REDIS_PASSWORD", "p@ss/word:1")
    monkeypatch.setenv("ERASURE_KEY_PREFIX", "acme")
    spec = importlib.util.spec_from_file_location("flowerapp", FLOWER_APP)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    workers = celery_config(Settings(key_prefix="acme"))
    assert module.app.conf.broker_transport_options["global_keyprefix"] == \
        workers["broker_transport_options"]["global_keyprefix"]
    assert module.app.conf.broker_url == "redis://:p%40ss%2Fword%3A1@redis:6379/0"


def test_the_cli_service_runs_an_erasure_command_with_the_workers_settings(compose):
    """`docker compose run --rm cli erasure status`: the words after the service name are the command, run as is."""
    cli, worker = compose["services"]["cli"], compose["x-worker"]
    assert cli["entrypoint"] == ["/usr/bin/env"] and cli["command"][0] == "erasure"
    assert cli["environment"] == worker["environment"]
    assert "docker compose --env-file deploy/compose.env run --rm cli erasure status" in \
        (ROOT / "deploy" / "README.md").read_text()


def compose_value(value: str) -> str:
    """A compose environment value as compose gives it: ``${X:-default}`` its default, ``${X:?...}`` a stand-in."""
    return re.sub(r"\$\{\w+(?::-([^}]*)|:\?[^}]*)\}", lambda m: m.group(1) if m.group(1) is not None else "stand-in",
                  value)


def test_every_service_reaching_the_simulator_over_http_is_allowed_to_and_only_to_it(compose, monkeypatch, tmp_path):
    """The Genesys URLs must be https except to a loopback host or one in ERASURE_GENESYS_INSECURE_HOSTS: the
    simulator's service name is listed, so the stack starts, and nothing else is."""
    monkeypatch.chdir(tmp_path)  # no .env of the working directory
    reaching = {name: service["environment"] for name, service in compose["services"].items()
                if "ERASURE_GENESYS_BASE_URL" in service.get("environment", {})}
    assert set(POOLS) <= set(reaching)
    for name, environment in reaching.items():
        for variable in [n for n in os.environ if n.upper().startswith("ERASURE_")]:
            monkeypatch.delenv(variable)
        for variable, value in environment.items():
            monkeypatch.setenv(variable, compose_value(str(value)))
        settings = load_settings()
        assert settings.genesys_insecure_hosts == ["simulator"], name
        assert settings.api_base_url.startswith("http://simulator:") and settings.genesys_unknown_hosts() == [], name
