"""A worker's metrics endpoint: the merged counts of its prefork children, the store gauges, one line and no
start when it cannot work; task events on with the intake door's arguments withheld."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap

import httpx
import pytest
from celery.app.task import Task
from prometheus_client import REGISTRY

from services import worker_metrics
from services.intake import tasks as intake_tasks
from shared import celery_app
from shared.config import Settings
from shared.metrics_dir import ENV, empty_for_this_run
from shared.store_gauges import refresh


@pytest.fixture
def wired(runtime, monkeypatch):
    monkeypatch.setattr(worker_metrics, "get_runtime", lambda: runtime)
    return runtime


def test_a_prefork_worker_without_the_multiprocess_directory_refuses_to_start_with_one_line(wired, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(SystemExit) as refused:
        worker_metrics.serving_registry(Settings(metrics_port=9808), "prefork")
    assert ENV in str(refused.value) and "\n" not in str(refused.value)
    served = worker_metrics.serving_registry(Settings(metrics_port=9808), "threads")  # this process's own
    assert served.get_sample_value("erasure_ratelimit_429_total") == REGISTRY.get_sample_value("erasure_ratelimit_429_total")


def test_the_endpoint_serves_the_counts_of_other_processes_of_the_worker(wired, monkeypatch, tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    child = textwrap.dedent("""
        from shared.metrics import TASKS
        TASKS.labels("erasure.deletion.delete", "ok").inc(3)
    """)
    subprocess.run([sys.executable, "-c", child], env={**__import__("os").environ, ENV: str(directory)}, check=True,
                   timeout=60)
    monkeypatch.setenv(ENV, str(directory))
    registry = worker_metrics.serving_registry(Settings(metrics_port=9808), "prefork")
    assert registry.get_sample_value("erasure_tasks_total", {"task": "erasure.deletion.delete", "outcome": "ok"}) == 3


def test_the_endpoint_answers_over_http_with_counters_and_store_gauges(wired, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    refresh(wired.redis, wired.keys, 30.0, "me")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = worker_metrics.serve(Settings(metrics_port=port), "threads")
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        server.shutdown()
        server.server_close()
    assert 'erasure_requests{kind="erase",state="received"} 0.0' in text
    assert "erasure_queue_messages" in text and "erasure_ratelimit_429_total" in text


def test_a_port_in_use_stops_the_worker_with_one_line_naming_the_setting(wired, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as refused:
            worker_metrics.serve(Settings(metrics_port=port), "threads")
    assert str(refused.value).startswith(f"ERASURE_METRICS_PORT={port}: cannot listen on 127.0.0.1")


def test_an_earlier_runs_counts_are_removed_when_the_worker_starts(monkeypatch, tmp_path):
    for name in ("counter_1.db", "histogram_77.db"):
        (tmp_path / name).write_bytes(b"old")
    (tmp_path / "keep.txt").write_text("not ours")
    monkeypatch.setenv(ENV, str(tmp_path))
    monkeypatch.delitem(sys.modules, "prometheus_client")  # as at a worker's start, before anything counted
    assert empty_for_this_run() == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_pool_names_tell_one_process_pools_from_prefork():
    assert worker_metrics.single_process("threads") and worker_metrics.single_process("solo")
    assert not worker_metrics.single_process("prefork")
    from celery.concurrency.prefork import TaskPool
    assert not worker_metrics.single_process(TaskPool)


def test_task_events_are_on_by_default_and_can_be_switched_off():
    on = celery_app.celery_config(Settings())
    off = celery_app.celery_config(Settings(task_events=False))
    assert on["worker_send_task_events"] is True and on["task_send_sent_event"] is True
    assert off["worker_send_task_events"] is False and off["task_send_sent_event"] is False


def test_every_message_is_stamped_with_when_it_was_sent():
    headers: dict = {}
    celery_app._stamp_sent_at(headers=headers)
    assert isinstance(headers[celery_app.SENT_AT_HEADER], float)


def test_the_intake_doors_arguments_are_withheld_from_task_events(monkeypatch):
    """The door's message carries the subject's identifiers: neither the worker's task-received event nor
    the sender's task-sent event (nor ``inspect``) repeats them."""
    import json

    from kombu import Message

    payload = {"ticket": "EV-1", "emails": ["jane.doe@example.org"]}
    headers, properties, body, _ = celery_app.app.amqp.as_task_v2("t-1", "erasure.intake.submit", args=[payload])
    message = Message(body=json.dumps(body), headers=headers, properties=properties,
                      content_type="application/json", content_encoding="utf-8")
    request = intake_tasks.WithheldArguments(message, app=celery_app.app, task=intake_tasks.submit_task)
    assert request.argsrepr == request.kwargsrepr == intake_tasks.WITHHELD
    assert "jane" not in json.dumps(request.info(safe=True))

    sent: list[dict] = []
    monkeypatch.setattr(Task, "apply_async", lambda self, args=None, kwargs=None, **options: sent.append(options))
    intake_tasks.submit_task.delay(payload)
    assert sent[0]["argsrepr"] == sent[0]["kwargsrepr"] == intake_tasks.WITHHELD


def test_the_store_gauges_are_read_at_start_and_a_failed_pass_does_not_end_the_loop(caplog):
    import threading

    import redis

    calls: list[int] = []
    stop = threading.Event()

    def once() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise redis.exceptions.ConnectionError("Redis restarting")
        if len(calls) == 3:
            stop.set()

    worker_metrics.gauges_loop(once, 0.001, stop)  # returns once stop is set: the third pass
    assert len(calls) == 3
    assert "store gauges: first pass failed (ConnectionError)" in caplog.text
