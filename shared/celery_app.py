"""The one Celery app: four queues, one per pool, and the reliability settings that keep work.

Workers start with the standard command, one pool per queue, e.g.
``celery -A shared.celery_app worker -Q deletion -c 8``.
Tasks carry request ids only; state lives in Redis (``shared.store``).

Importing this module reads no settings: ``app`` is configured on first use (sending a task,
starting a worker) from the process's ``ERASURE_*`` environment, unless a process that builds its
own ``Settings`` (the demo, a benchmark) has called ``configure(app, settings)`` first.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Any

from celery import Celery
from celery.signals import before_task_publish, import_modules, setup_logging, worker_init
from kombu import Exchange, Queue

from shared.config import POOLS, ConfigError, Settings, get_settings
from shared.redis_sentinel import broker_sentinel_options, broker_ssl, broker_url, check_credentials
from shared.settings_guard import refuse_to_start

TASK_MODULES = [
    "services.intake.tasks",
    "services.discovery.tasks",
    "services.redaction.tasks",
    "services.deletion.tasks",
    "services.deletion.review",
    "services.polling.tasks",
    "services.polling.review",
    # Not tasks: the watchdog's thread, started in every worker by its worker_ready signal, and the
    # settings every worker checks before it starts (the signing key), and the worker's metrics endpoint and
    # store gauges (ERASURE_METRICS_PORT).
    "services.watchdog_thread",
    "shared.worker_checks",
    "services.worker_metrics",
]

#: The header every message sent from here carries: when it was sent (epoch seconds), so the store gauges
#: (``shared.store_gauges``) can tell how long the oldest message of a queue has waited.
SENT_AT_HEADER = "erasure_sent_at"

# The broker's sockets (kombu's Redis transport options). A read timeout bounds every wait on a
# connection whose peer went silent (a failover, a dropped NAT entry), including the read of a
# pending BRPOP when the worker closes a lost connection (celery/celery#9705, a worker hung there);
# it must exceed the 1 s BRPOP timeout. Keepalive lets the kernel notice a dead peer too. Every
# ``health_check_interval`` seconds kombu pings the pub/sub connection and (kombu >= 5.7) drops a
# BRPOP whose answer is overdue, so a half-open consumer recovers within about 21 s.
BROKER_SOCKET_OPTIONS: dict[str, Any] = {
    "socket_timeout": 10.0,
    "socket_connect_timeout": 5.0,
    "socket_keepalive": True,
    "health_check_interval": 10,
}

#: The priority steps the Redis transport keeps a list for: kombu's default, so a message another producer
#: sends with priority 3 to 8 (its own kombu files it under 3 or 6) lands in a list the workers read. The
#: lanes are the first and the last step: interactive 0 (served first on Redis), bulk 9 (``shared.lanes``).
PRIORITY_STEPS = [0, 3, 6, 9]

# Apps given their settings by ``configure``: the environment must not override them on first use.
_configured: weakref.WeakSet[Celery] = weakref.WeakSet()


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery settings of this project for one ``Settings``: broker, queues, routes, reliability."""
    exchange = Exchange("erasure", type="direct")
    transport = {
        # Longer than any task run time plus any countdown, or Redis redelivers running tasks.
        "visibility_timeout": settings.visibility_timeout_s,
        # How often each worker looks for messages held past the visibility timeout (a dead worker's):
        # kombu's default (every 10th call of a 10 s timer) adds up to 100 s to every redelivery.
        "unacked_restore_interval": restore_sweep_s(settings),
        "unacked_restore_throttle": 1,
        "global_keyprefix": f"{settings.key_prefix}:celery:",
        # Two lanes per queue (issue 21, ``shared.lanes``): kombu keeps one list per priority step and a
        # worker's BRPOP names every priority-0 (interactive) list first and every priority-9 (bulk) one
        # last, with another producer's 3 and 6 in between.
        "priority_steps": PRIORITY_STEPS,
        **BROKER_SOCKET_OPTIONS,
    }
    return {
        "broker_url": broker_url(settings),
        "task_queues": [Queue(pool, exchange, routing_key=pool) for pool in POOLS],
        "task_routes": {
            # The Celery door of the intake shares the discovery queue: it only validates and enqueues.
            "erasure.intake.*": {"queue": "discovery", "routing_key": "discovery"},
            **{f"erasure.{pool}.*": {"queue": pool, "routing_key": pool} for pool in POOLS},
        },
        "task_default_queue": "discovery",
        "task_default_exchange": "erasure",
        "task_default_routing_key": "discovery",
        "task_create_missing_queues": False,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # A failure that reaches Celery is final: the tasks turn every failure that retrying may fix into a
        # retry, or into ``Reject(requeue=True)`` when Redis is unreachable (``shared.pipeline``). With this
        # False, Celery (5.6) rejects a failed message without requeue, which on Redis deletes it as an ack
        # would, and puts a task killed at its hard time limit back on its queue; the delivery count fails a
        # batch that keeps getting killed (``shared.pipeline.MAX_DELIVERIES``).
        "task_acks_on_failure_or_timeout": False,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "result_backend": None,
        "broker_transport_options": {**transport, **broker_sentinel_options(settings)},
        # TLS to Redis (``rediss://`` or ERASURE_REDIS_TLS), the server's certificate checked; None: plain TCP.
        "broker_use_ssl": broker_ssl(settings),
        # A worker that loses Redis reconnects with backoff (kombu: 2 s, then 2 s more per attempt, up
        # to 30 s) for as long as Redis is away: a worker that gave up would leave its pool down.
        "broker_connection_retry_on_startup": True,
        "broker_connection_retry": True,
        "broker_connection_max_retries": None,
        # A message sent while Redis restarts (a hand-on to the next stage, a submission) is retried
        # for about 16 s (0.5, 1.5, 2.5, 3.5, 4, 4 s) instead of Celery's default 0.6 s.
        "task_publish_retry_policy": {"max_retries": 6, "interval_start": 0.5, "interval_step": 1.0, "interval_max": 4.0},
        # Tasks running when the connection is lost finish (their Redis calls wait out a restart, see
        # shared.redis_conn) and acknowledge their messages once Redis is back. Cancelling them instead
        # would kill prefork children mid-batch, and with the threads pool it ends the worker on
        # celery < 5.7 (NotImplementedError from terminate_job; celery/celery#7185). A message put back
        # on its queue when the lost connection is closed (Redis up, the network blipped) meets the
        # request's lock and the ledger, as any redelivery does.
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "worker_hijack_root_logger": False,
        # Task events for Flower and celery-exporter (ERASURE_TASK_EVENTS). Task arguments are request ids,
        # except the intake door's, which its task withholds from events (services.intake.tasks).
        "worker_send_task_events": settings.task_events,
        "task_send_sent_event": settings.task_events,
        # Below the visibility timeout (``Settings._check_redelivery``), and the request locks' lifetime.
        # Enforced by the prefork pool (the default); the threads pool has no time limits.
        "task_time_limit": settings.task_time_limit_s,
        "task_soft_time_limit": settings.task_soft_time_limit_s,
        "enable_utc": True,
    }


def restore_sweep_s(settings: Settings) -> int:
    """Seconds between two looks for unacknowledged messages past the visibility timeout: a thirtieth of
    it (1 to 30 s), so a dead worker's message comes back within about 1.03 visibility timeouts."""
    return max(1, min(30, settings.visibility_timeout_s // 30))


def configure(target: Celery, settings: Settings) -> Celery:
    """Give ``target`` these settings (broker, key prefix, queues) instead of the environment's.

    Only before the app's first use: a used app has read its settings and may hold connections to
    its broker, and messages must not go to two brokers from one process.
    """
    if getattr(target, "configured", False):
        raise RuntimeError("configure the Celery app before its first use (it has read its settings already)")
    target.conf.update(celery_config(settings))
    _configured.add(target)
    return target


class _EnvironmentConfig(Mapping[str, Any]):
    """Celery's configuration source of an app: read on the app's first use, from the environment's
    settings unless ``configure`` gave it some. A config source, not an ``on_configure`` handler:
    Celery logs and swallows a handler's exception, and would then run on its default broker."""

    def __init__(self, target: Celery) -> None:
        self._target = weakref.ref(target)

    @cached_property
    def _values(self) -> dict[str, Any]:
        target = self._target()
        if target is None or target in _configured:
            return {}
        try:
            settings = get_settings()
        except ConfigError as exc:
            command = _celery_command()
            if command:  # a worker starting (or `celery inspect`): one line, not click's traceback
                refuse_to_start("worker" if command == "worker" else f"celery {command}", exc)
            raise  # a process of our own (the CLI) says it in its own way
        return celery_config(settings)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def _celery_command() -> str | None:
    """The subcommand (``worker``) when this process is Celery's own command line (``celery -A
    shared.celery_app worker``), which reads the configuration while it parses its options, before any
    signal a handler could stop it in; None in a process of our own."""
    import click
    from celery.bin.celery import celery as celery_command

    context = click.get_current_context(silent=True)
    if context is None or context.find_root().command is not celery_command:
        return None
    return context.find_root().invoked_subcommand or "celery"


def new_app() -> Celery:
    """An app with the project's tasks and no settings yet (see ``configure``)."""
    created = Celery("genesys_erasure", include=TASK_MODULES)
    created.config_from_object(_EnvironmentConfig(created))
    return created


def create_app(settings: Settings) -> Celery:
    """A separate app bound to ``settings`` (a benchmark's producer for its own key prefix)."""
    return configure(new_app(), settings)


app = new_app()


@worker_init.connect
def _check_redis_credentials(sender: Any = None, **_: object) -> None:
    """A worker whose Redis password is wrong stops at once with one line naming the setting: kombu would
    otherwise retry the refused broker connection forever, as it rightly does for an outage."""
    if getattr(sender, "app", None) in _configured:
        return  # a process that configured its own app (a benchmark) runs on settings it checked itself
    try:
        check_credentials(get_settings())
    except ConfigError as exc:
        refuse_to_start("worker", exc)


@setup_logging.connect
def _setup_logging(loglevel: int | str | None = None, **_: object) -> None:
    """Take over Celery's logging: JSON lines, scrubbed of personal data, Sentry scrubbed too."""
    from shared.observability import setup_observability

    setup_observability(get_settings(), loglevel or "WARNING")


@import_modules.connect
def _fresh_metrics_dir(**_: object) -> None:
    """A worker starting: empty PROMETHEUS_MULTIPROC_DIR of an earlier run's counts, before its task
    modules (and prometheus-client) are imported and anything is counted."""
    from shared.metrics_dir import empty_for_this_run

    empty_for_this_run()


@before_task_publish.connect
def _stamp_sent_at(headers: dict[str, Any] | None = None, **_: object) -> None:
    """Stamp each message with when it was sent (the queue-age gauge reads the oldest's)."""
    if headers is not None:
        headers[SENT_AT_HEADER] = time.time()  # stamped on every send, a retry's included
