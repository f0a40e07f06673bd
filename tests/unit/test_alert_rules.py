"""The alert rules (deploy/prometheus/alerts.yml) pass ``promtool check rules`` and each alert's unit test
(``promtool test rules``); every alert has a test that expects it to fire; the rules and the Grafana dashboard
name only metrics this project serves."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

from shared.celery_app import TASK_MODULES
from shared.store_gauges import StoreGauges, families
from tests.support.promtool_required import require_promtool

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts_test.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "genesys-erasure.json"
METRIC = re.compile(r"\b(erasure_[a-z0-9_]+|up)\b")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def served_names() -> set[str]:
    """Every sample name a worker or the API can serve: the registry's metrics (every module that defines
    some imported) and the store gauges."""
    for module in [*TASK_MODULES, "services.intake.api", "shared.ratelimit.metrics"]:
        importlib.import_module(module)
    names = {"up"}  # Prometheus's own, per scrape target
    for family in [*REGISTRY.collect(), *families(StoreGauges(computed_at=0.0), 0.0)]:
        names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
    return names


def rule_expressions() -> dict[str, str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_promtool_checks_the_rules():
    promtool = require_promtool()
    result = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass_for_every_alert():
    promtool = require_promtool()
    result = subprocess.run([promtool, "test", "rules", str(RULE_TESTS)], capture_output=True, text=True,
                            timeout=120, cwd=RULE_TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_test_that_expects_it_to_fire():
    fired = {case["alertname"] for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
             for case in test.get("alert_rule_test", []) if case.get("exp_alerts")}
    assert set(rule_expressions()) == fired


def test_every_alert_says_what_it_means_and_how_bad_it_is():
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
            assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]


@pytest.mark.parametrize("source", ["rules", "dashboard"])
def test_rules_and_dashboard_name_only_served_metrics(source):
    expressions = list(rule_expressions().values()) if source == "rules" else dashboard_expressions()
    named = {name for expr in expressions for name in METRIC.findall(expr)}
    assert named, source
    assert named <= served_names(), sorted(named - served_names())


def test_the_dashboard_is_grafana_json_with_a_query_per_panel():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"]
    assert dashboard["panels"] and all(panel["targets"] and panel["title"] for panel in dashboard["panels"])
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])


def test_the_name_check_would_see_a_misspelt_metric():
    assert "erasure_requests_overdue" in served_names()
    assert "erasure_request_overdue" not in served_names()
