"""The one Celery app: four queues, one per pool, and the reliability settings that keep work.

Workers start with the standard command, one pool per queue, e.g.
``celery -A shared.celery_app worker -Q deletion -c 8``.
Tasks carry request ids only; state lives in Redis (``shared.store``).
"""

from __future__ import annotations

from celery import Celery
from celery.signals import setup_logging
from kombu import Exchange, Queue

from shared.config import POOLS, get_settings

TASK_MODULES = [
    "services.intake.tasks",
    "services.discovery.tasks",
    "services.redaction.tasks",
    "services.deletion.tasks",
    "services.polling.tasks",
]


def create_app() -> Celery:
    settings = get_settings()
    app = Celery("genesys_erasure", broker=settings.redis_url, include=TASK_MODULES)
    exchange = Exchange("erasure", type="direct")
    transport = {
        # Longer than any task run time plus any countdown, or Redis redelivers running tasks.
        "visibility_timeout": settings.visibility_timeout_s,
        "global_keyprefix": f"{settings.key_prefix}:celery:",
    }
    app.conf.update(
        task_queues=[Queue(pool, exchange, routing_key=pool) for pool in POOLS],
        task_routes={
            # The Celery door of the intake shares the discovery queue: it only validates and enqueues.
            "erasure.intake.*": {"queue": "discovery", "routing_key": "discovery"},
            **{f"erasure.{pool}.*": {"queue": pool, "routing_key": pool} for pool in POOLS},
        },
        task_default_queue="discovery",
        task_default_exchange="erasure",
        task_default_routing_key="discovery",
        task_create_missing_queues=False,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_time_limit=900,
        task_soft_time_limit=840,
        enable_utc=True,
    )
    return app


app = create_app()


@setup_logging.connect
def _setup_logging(loglevel: int | str | None = None, **_: object) -> None:
    """Take over Celery's logging: JSON lines, scrubbed of personal data, Sentry scrubbed too."""
    from shared.observability import setup_observability

    setup_observability(get_settings(), loglevel or "WARNING")
