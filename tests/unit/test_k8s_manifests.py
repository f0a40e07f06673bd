"""deploy/k8s renders (``kubectl kustomize``) into manifests Kubernetes accepts and that run as a deployment.

Every rendered resource validates against the Kubernetes 1.30 OpenAPI schemas (the ``kubernetes-validate``
package, strict: an unknown field is an error, as ``kubectl apply --validate=strict`` makes it), and the KEDA
and prometheus-operator resources against their CRDs' schemas (tests/support/crd_schemas, also strict). Then
what a deployment needs: probes, budgets, a non-root numeric user the image really has, a read-only root,
CronJobs whose commands the CLI parses, KEDA watching the queues the workers use, no secret in a ConfigMap or
committed at all, Redis reachable only by the project's pods. Offline; about a second.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import typer.main
import yaml
from pydantic import SecretStr

from shared.celery_app import celery_config
from shared.config import POOLS, Settings, load_settings
from shared.lanes import queue_key
from shared.models import Lane
from tests.support.kustomize_required import render

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
EXAMPLE = K8S / "overlays" / "example"
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
CRD_SCHEMAS = Path(__file__).resolve().parents[1] / "support" / "crd_schemas"
KUBERNETES_VERSION = "1.30"
CRD_GROUPS = ("keda.sh/", "monitoring.coreos.com/")
#: The Secrets the manifests reference, created out of band (deploy/README.md): never rendered with values.
SECRETS = {"genesys-erasure", "erasure-redis-ca", "erasure-intake-keys"}


@pytest.fixture(scope="module")
def example() -> list[dict[str, Any]]:
    return render(EXAMPLE)


@pytest.fixture(scope="module")
def base() -> list[dict[str, Any]]:
    return render(BASE)


def of_kind(resources: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def pod_spec(resource: dict[str, Any]) -> dict[str, Any]:
    if resource["kind"] == "CronJob":
        return resource["spec"]["jobTemplate"]["spec"]["template"]["spec"]  # type: ignore[no-any-return]
    return resource["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def pod_labels(resource: dict[str, Any]) -> dict[str, str]:
    template = resource["spec"]["jobTemplate"]["spec"]["template"] if resource["kind"] == "CronJob" \
        else resource["spec"]["template"]
    return template["metadata"]["labels"]  # type: ignore[no-any-return]


def workloads(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in resources if r["kind"] in ("Deployment", "CronJob")]


# --- schemas -------------------------------------------------------------------------------------------------

def strict(schema: Any) -> Any:
    """A CRD schema that refuses unknown fields, as the API server's strict field validation does: every object
    with declared properties and no other provision gets ``additionalProperties: false``."""
    if isinstance(schema, dict):
        schema = {key: strict(value) for key, value in schema.items()}
        if ("properties" in schema and "additionalProperties" not in schema
                and not schema.get("x-kubernetes-preserve-unknown-fields")):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    return schema


def crd_schema(resource: dict[str, Any]) -> dict[str, Any]:
    group, version = resource["apiVersion"].split("/")
    path = CRD_SCHEMAS / f"{resource['kind'].lower()}-{group}-{version}.json"
    assert path.exists(), f"no CRD schema for {resource['kind']} {resource['apiVersion']} in {CRD_SCHEMAS}"
    return strict(json.loads(path.read_text()))  # type: ignore[no-any-return]


def problems(resource: dict[str, Any]) -> list[str]:
    """Why Kubernetes (or the CRD's controller) would refuse ``resource``; empty when it would accept it."""
    name = f"{resource['kind']}/{resource['metadata']['name']}"
    if resource["apiVersion"].startswith(CRD_GROUPS):
        validator = jsonschema.Draft202012Validator(crd_schema(resource))
        return [f"{name}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(resource)]
    try:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{name}: {'/'.join(map(str, exc.absolute_path))}: {exc.message}"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"{name}: {resource['apiVersion']} is not a Kubernetes {KUBERNETES_VERSION} API"]
    return []


@pytest.mark.parametrize("folder", [BASE, EXAMPLE], ids=["base", "overlays/example"])
def test_every_rendered_manifest_validates_against_its_schema(folder):
    resources = render(folder)
    assert {r["kind"] for r in resources} >= {
        "ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "CronJob", "NetworkPolicy",
        "ScaledObject", "TriggerAuthentication", "ServiceMonitor", "PrometheusRule"}
    assert [p for r in resources for p in problems(r)] == []


def test_the_validation_refuses_what_kubernetes_and_keda_would(example):
    """The check above can fail: a misspelt probe field, a string for a number, a trigger without its type."""
    deployment = copy.deepcopy(of_kind(example, "Deployment")["erasure-deletion"])
    pod_spec(deployment)["containers"][0]["livenessProbe"]["exc"] = {}
    pod_spec(deployment)["terminationGracePeriodSeconds"] = "900"
    assert len(problems(deployment)) == 1  # jsonschema reports the first error of a built-in kind
    scaled = copy.deepcopy(of_kind(example, "ScaledObject")["erasure-deletion"])
    del scaled["spec"]["triggers"][0]["type"]
    scaled["spec"]["triggers"][0]["authRef"] = {"name": "erasure-redis"}
    assert len(problems(scaled)) == 2


# --- what a deployment needs ---------------------------------------------------------------------------------

def image_user() -> tuple[int, int]:
    """The uid and gid the product's image runs as (Dockerfile's USER), checked to exist in the image."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    [(uid, gid)] = re.findall(r"^USER (\d+):(\d+)\s*$", dockerfile, re.M)
    assert re.search(rf"useradd [^\n]*--uid {uid}\b", dockerfile), "the USER's uid is not the user the image creates"
    return int(uid), int(gid)


def test_every_pod_runs_as_the_images_numeric_non_root_user_on_a_read_only_root(example):
    uid, gid = image_user()
    assert uid >= 1000
    for workload in workloads(example):
        spec = pod_spec(workload)
        name = workload["metadata"]["name"]
        assert spec["securityContext"] | {"runAsNonRoot": True, "runAsUser": uid, "runAsGroup": gid} \
            == spec["securityContext"], name
        assert spec["automountServiceAccountToken"] is False, name
        volumes = {v["name"]: v for v in spec["volumes"]}
        for container in spec.get("initContainers", []) + spec["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            tmp = [m["name"] for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert tmp and "emptyDir" in volumes[tmp[0]], f"{name}: /tmp is not a writable emptyDir"
            assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]["memory"], name


def test_every_image_is_a_pinned_reference_to_a_registry(example):
    """Not the bare `genesys-erasure:latest` (Docker Hub's library, which has no such image): a registry host and
    a version tag or digest, set once by the overlay's images: for every container."""
    images = {c["image"] for w in workloads(example) for c in pod_spec(w).get("initContainers", []) + pod_spec(w)["containers"]}
    assert len(images) == 1
    [image] = images
    registry, _, rest = image.partition("/")
    assert "." in registry or ":" in registry, f"{image}: no registry host"
    assert re.fullmatch(r"[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})", rest), image
    assert not rest.endswith(":latest")


def test_each_pool_has_a_probed_worker_deployment_a_budget_and_a_scaler(example):
    deployments, budgets = of_kind(example, "Deployment"), of_kind(example, "PodDisruptionBudget")
    scaled, auths = of_kind(example, "ScaledObject"), of_kind(example, "TriggerAuthentication")
    task_limit = Settings.model_fields["task_time_limit_s"].default
    for pool in POOLS:
        deployment = deployments[f"erasure-{pool}"]
        spec = pod_spec(deployment)
        [container] = spec["containers"]
        assert container["command"][:4] == ["celery", "-A", "shared.celery_app", "worker"]
        assert container["args"][container["args"].index("-Q") + 1] == pool
        assert "replicas" not in deployment["spec"], "KEDA owns the replica count"
        assert spec["terminationGracePeriodSeconds"] >= task_limit, "a stopped worker must be let finish its task"
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            command = container[probe]["exec"]["command"][-1]
            assert "inspect ping -d celery@$HOSTNAME" in command and "-A shared.celery_app" in command, probe
        # Liveness tolerates a warm shutdown (no answers while the running tasks finish) up to the task limit.
        liveness = container["livenessProbe"]
        assert liveness["periodSeconds"] * liveness["failureThreshold"] >= task_limit
        selector = deployment["spec"]["selector"]["matchLabels"]
        [budget] = [b for b in budgets.values() if b["spec"]["selector"]["matchLabels"] == selector]
        assert budget["spec"]["maxUnavailable"] == 1
        triggers = scaled[f"erasure-{pool}"]["spec"]["triggers"]
        assert len(triggers) == 2  # the queue's two lanes (shared.lanes)
        assert scaled[f"erasure-{pool}"]["spec"]["scaleTargetRef"]["name"] == f"erasure-{pool}"
        env = {e["name"] for e in container.get("env", [])} | set(config_map(example))
        for trigger in triggers:
            assert trigger["authenticationRef"]["name"] in auths
            assert {trigger["metadata"]["addressFromEnv"], trigger["metadata"]["usernameFromEnv"]} <= env


def test_the_intake_has_a_service_probes_and_a_budget(example):
    intake = of_kind(example, "Deployment")["erasure-intake"]
    [container] = pod_spec(intake)["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    service = of_kind(example, "Service")["erasure-intake"]
    assert service["spec"]["selector"].items() <= pod_labels(intake).items()
    assert service["spec"]["ports"][0]["targetPort"] in {p["name"] for p in container["ports"]}
    assert "--port" in container["command"] and container["command"][container["command"].index("--port") + 1] \
        == str(container["ports"][0]["containerPort"])
    [budget] = [b for b in of_kind(example, "PodDisruptionBudget").values()
                if b["spec"]["selector"]["matchLabels"].items() <= pod_labels(intake).items()]
    assert budget["spec"]["minAvailable"] == 1 and intake["spec"]["replicas"] > 1


def cli_refusal(args: list[str]) -> str | None:
    """Why the ``erasure`` CLI would refuse these arguments (an unknown command or option, a bad value); None
    if it parses them. Parsed only: nothing runs."""
    from services import cli

    command = typer.main.get_command(cli.app)
    rest = list(args)
    while hasattr(command, "commands"):  # a group: the next argument names its subcommand
        if not rest or rest[0] not in command.commands:
            return f"no command {rest[:1]}"
        command, rest = command.commands[rest[0]], rest[1:]
    try:
        command.make_context(command.name or "erasure", rest)
    except Exception as exc:  # typer's own (vendored) click raises its UsageError and BadParameter
        return getattr(exc, "format_message", exc.__str__)()
    return None


def test_the_cronjobs_run_release_held_webhook_replay_and_purge_as_the_cli_parses_them(example):
    runs = {}
    for name, cronjob in of_kind(example, "CronJob").items():
        [container] = pod_spec(cronjob)["containers"]
        assert container["command"] == ["erasure"]
        assert cli_refusal(container["args"]) is None, f"{name}: erasure {' '.join(container['args'])}"
        assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
        runs[tuple(container["args"][:2])] = cronjob
    assert set(runs) == {("release-held",), ("webhooks", "replay"), ("purge", "--older-than")}
    assert runs[("purge", "--older-than")]["spec"]["suspend"] is False  # the example overlay sets a retention
    assert config_map(example)["ERASURE_RETENTION_POLICY"]  # without which the purge is refused
    assert cli_refusal(["purge", "--older-then", "730"]) and cli_refusal(["release-held", "--dry"])  # can fail


def test_the_base_leaves_the_retention_purge_to_the_organisation(base):
    [purge] = [c for c in of_kind(base, "CronJob").values() if pod_spec(c)["containers"][0]["args"][0] == "purge"]
    assert purge["spec"]["suspend"] is True


def config_map(resources: list[dict[str, Any]]) -> dict[str, str]:
    return of_kind(resources, "ConfigMap")["genesys-erasure"]["data"]  # type: ignore[no-any-return]


def test_keda_watches_the_queues_the_workers_consume_under_the_configured_prefix(example):
    """listName is the key in Redis of each lane of the Celery queue: kombu's global key prefix (from
    ERASURE_KEY_PREFIX) + the pool, and for the bulk lane kombu's priority suffix (``shared.lanes.queue_key``)."""
    prefix = config_map(example)["ERASURE_KEY_PREFIX"]
    queue_prefix = celery_config(Settings(key_prefix=prefix))["broker_transport_options"]["global_keyprefix"]
    for pool in POOLS:
        triggers = of_kind(example, "ScaledObject")[f"erasure-{pool}"]["spec"]["triggers"]
        assert [t["metadata"]["listName"] for t in triggers] == [queue_key(queue_prefix, pool, lane) for lane in Lane]


def test_an_overlay_that_changes_the_key_prefix_moves_the_scalers_with_it(tmp_path):
    overlay = tmp_path / "ours"
    shutil.copytree(EXAMPLE, overlay)
    kustomization = overlay / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace(
        "../../base", os.path.relpath(BASE, overlay)))
    settings = overlay / "settings.yaml"
    settings.write_text(settings.read_text().replace("ERASURE_KEY_PREFIX: erasure", 'ERASURE_KEY_PREFIX: "acme:prod"'))
    resources = render(overlay)
    assert config_map(resources)["ERASURE_KEY_PREFIX"] == "acme:prod"
    names = sorted(t["metadata"]["listName"] for s in of_kind(resources, "ScaledObject").values()
                   for t in s["spec"]["triggers"])
    assert names == sorted(queue_key("acme:prod:celery:", pool, lane) for pool in POOLS for lane in Lane)


def secret_settings() -> set[str]:
    return {f"ERASURE_{name.upper()}" for name, field in Settings.model_fields.items() if field.annotation is SecretStr}


def test_no_secret_is_committed_and_every_referenced_secret_is_a_documented_one(example):
    assert of_kind(example, "Secret") == {}, "Secrets are created out of band, never rendered with values"
    data = config_map(example)
    assert not set(data) & (secret_settings() | {"ERASURE_BOOTSTRAP_KEY", "METRICS_API_KEY"})
    assert not any(re.search(r"://[^/\s]*@", value) for value in data.values()), "a URL with credentials"
    text = json.dumps(example)
    referenced = set(re.findall(r'"secretName": "([^"]+)"', text))
    referenced |= {m for m in re.findall(r'"(?:secretRef|secretKeyRef|credentials)": \{[^}]*"name": "([^"]+)"', text)}
    referenced |= {ref["name"] for auth in of_kind(example, "TriggerAuthentication").values()
                   for ref in auth["spec"]["secretTargetRef"]}
    assert referenced == SECRETS


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels, matchExpressions In/NotIn/Exists) against one pod's labels."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        value, operator = labels.get(expression["key"]), expression["operator"]
        if operator == "In" and value not in expression["values"]:
            return False
        if operator == "NotIn" and value in expression["values"]:
            return False
        if operator == "Exists" and value is None:
            return False
    return True


def test_only_the_workers_the_intake_and_the_cli_jobs_of_this_namespace_reach_redis(example):
    policy = of_kind(example, "NetworkPolicy")["erasure-redis"]
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    peers = [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]]
    local = [p["podSelector"] for p in peers if "namespaceSelector" not in p]
    reaching = {pod_labels(w)["component"] for w in workloads(example) if any(selects(s, pod_labels(w)) for s in local)}
    assert reaching == {"worker", "intake", "cli"}
    assert not selects(local[0], {"app": "genesys-erasure", "component": "flower"})
    others = [p for p in peers if "namespaceSelector" in p]
    assert [p["namespaceSelector"]["matchLabels"] for p in others] == [{"kubernetes.io/metadata.name": "keda"}]


def test_prometheus_scrapes_every_worker_and_the_intake_under_the_job_names_the_alerts_use(example):
    services, monitors = of_kind(example, "Service"), of_kind(example, "ServiceMonitor")
    jobs = {}
    for monitor in monitors.values():
        [service] = [s for s in services.values()
                     if monitor["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()]
        jobs[service["metadata"]["name"]] = (service, monitor)  # the operator's job label: the Service's name
    assert set(jobs) == {"erasure-workers", "erasure-intake"}
    service, _ = jobs["erasure-workers"]
    scraped = {w["metadata"]["name"] for w in of_kind(example, "Deployment").values()
               if service["spec"]["selector"].items() <= pod_labels(w).items()}
    assert scraped == {f"erasure-{pool}" for pool in POOLS}
    assert service["spec"]["publishNotReadyAddresses"] is True  # a worker failing its probe is still a target
    _, intake_monitor = jobs["erasure-intake"]
    assert intake_monitor["spec"]["endpoints"][0]["authorization"]["credentials"]["key"] == "METRICS_API_KEY"
    if RULES.exists():
        assert set(re.findall(r'job="([^"]+)"', RULES.read_text())) <= set(jobs)


def test_the_prometheus_rule_is_the_alert_rule_file():
    """deploy/k8s/base/prometheusrule.yaml is generated from deploy/prometheus/alerts.yml (kustomize cannot read a
    file outside its folder): it must hold the same groups."""
    if not RULES.exists():
        pytest.skip(f"{RULES.relative_to(ROOT)} is not in this checkout")
    rule = yaml.safe_load((BASE / "prometheusrule.yaml").read_text())
    assert rule["spec"]["groups"] == yaml.safe_load(RULES.read_text())["groups"], \
        "out of date: run python scripts/prometheusrule.py"


@pytest.mark.parametrize("folder", [BASE, EXAMPLE], ids=["base", "example"])
def test_the_platform_is_reached_over_https_at_a_region_host(folder, monkeypatch, tmp_path):
    """The client secret and tokens go to the Genesys hosts: in a cluster only a region's https hosts, never
    plain http to a listed host (ERASURE_GENESYS_INSECURE_HOSTS is for a simulator in compose or a test rig)."""
    data = config_map(render(folder))
    assert "ERASURE_GENESYS_INSECURE_HOSTS" not in data
    monkeypatch.chdir(tmp_path)
    for variable in [n for n in os.environ if n.upper().startswith("ERASURE_")]:
        monkeypatch.delenv(variable)
    for variable, value in data.items():
        monkeypatch.setenv(variable, value)
    settings = load_settings()
    assert settings.api_base_url.startswith("https://") and settings.login_base_url.startswith("https://")
    assert settings.genesys_unknown_hosts() == []
