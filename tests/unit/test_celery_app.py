"""The Celery app takes its settings when first used, not at import: from the environment for
``celery -A shared.celery_app worker``, or from ``configure`` for a process that builds its own."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from shared.celery_app import configure, create_app, new_app
from shared.config import Settings
from shared.task_names import DELETE_TASK


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("ERASURE_")}
    return subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True, timeout=60)


def test_the_worker_module_reads_the_environment_on_first_use_not_at_import():
    # What `celery -A shared.celery_app worker` does: import the module, then use its app.
    code = ("from shared.celery_app import app\n"
            "print('imported', flush=True)\n"
            "print(app.conf.broker_url, app.conf.broker_transport_options['global_keyprefix'],"
            " app.conf.broker_transport_options['visibility_timeout'])\n")
    used = run_python(code, ERASURE_REDIS_URL="redis://127.0.0.1:6399/4", ERASURE_KEY_PREFIX="from-env",
                      ERASURE_VISIBILITY_TIMEOUT_S="1200")
    assert used.returncode == 0, used.stderr
    assert used.stdout.splitlines() == ["imported", "redis://127.0.0.1:6399/4 from-env:celery: 1200"]
    broken = run_python(code, ERASURE_GENESYS_REGION="nowhere")  # settings that cannot load
    assert broken.stdout.splitlines() == ["imported"]  # the import read nothing...
    assert broken.returncode != 0 and "ERASURE_GENESYS_REGION" in broken.stderr  # ...the first use did


def test_settings_given_before_first_use_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("ERASURE_KEY_PREFIX", "from-env")
    app = configure(new_app(), Settings(redis_url="redis://127.0.0.1:6399/5", key_prefix="demo"))
    assert app.conf.broker_url == "redis://127.0.0.1:6399/5"
    assert app.conf.broker_transport_options["global_keyprefix"] == "demo:celery:"


def test_an_app_already_used_refuses_other_settings():
    app = create_app(Settings(redis_url="redis://127.0.0.1:6399/1", key_prefix="first"))
    with app.connection_for_write() as connection:
        assert connection.as_uri().endswith(":6399/1")
    with pytest.raises(RuntimeError, match="before its first use"):
        configure(app, Settings(redis_url="redis://127.0.0.1:6399/2", key_prefix="second"))
    assert app.conf.broker_transport_options["global_keyprefix"] == "first:celery:"


def test_every_pool_has_its_queue_and_work_is_kept_until_done():
    app = create_app(Settings())
    assert {q.name for q in app.conf.task_queues} == {"discovery", "redaction", "deletion", "polling"}
    assert app.amqp.router.route({}, DELETE_TASK)["queue"].name == "deletion"
    assert app.amqp.router.route({}, "erasure.intake.submit")["queue"].name == "discovery"
    # A worker lost mid-task gives its message back; a message is acknowledged only when done.
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1 and app.conf.task_create_missing_queues is False


def test_a_worker_keeps_reconnecting_while_redis_is_away():
    conf = create_app(Settings()).conf
    # No retry limit: a worker that gave up would leave its pool down after a long outage.
    assert conf.broker_connection_retry and conf.broker_connection_max_retries is None
    # Running tasks finish across a reconnection (cancelling them ends a threads-pool worker on celery 5.6).
    assert conf.worker_cancel_long_running_tasks_on_connection_loss is False
    # A read on a silent connection times out, and never before a BRPOP (1 s server-side) can answer.
    transport = conf.broker_transport_options
    assert transport["socket_timeout"] > 1 and transport["health_check_interval"] > 0
    # A message sent while Redis restarts is retried for seconds, not Celery's default 0.6 s.
    policy = conf.task_publish_retry_policy
    waits = [min(policy["interval_start"] + n * policy["interval_step"], policy["interval_max"])
             for n in range(policy["max_retries"])]
    assert 10 <= sum(waits) <= 20
