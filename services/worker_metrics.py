"""A worker's Prometheus endpoint (``ERASURE_METRICS_PORT``) and the store gauges every worker serves.

One endpoint per worker node (a ``celery worker`` command), served by its main process: a prefork pool's
children run the tasks and count into ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode),
and the main process serves the merged counts, so one scrape target per worker node sees every child's,
however often children are replaced. A threads or solo pool is one process: its own registry is served,
and the directory is optional. A prefork worker without the directory would serve none of its children's
counts: it refuses to start instead (one line naming the variable).

Beside the counters it serves the store gauges (``shared.store_gauges``): a thread reads the store once per
``metrics_interval_s`` when this worker holds the lease, and every scrape serves the last snapshot.

The endpoint has no authentication: it serves counts by pool, state, kind, endpoint template and status,
never an identifier or a ticket (``tests/unit/test_metric_labels.py``). It listens on ``ERASURE_METRICS_HOST``
(loopback by default); in a container, listen on all addresses and let only Prometheus reach the port.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIServer

from celery.signals import worker_init, worker_ready, worker_shutdown
from prometheus_client import REGISTRY, CollectorRegistry, Metric, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from services.watchdog_thread import run_loop
from shared.config import Settings, get_settings
from shared.metrics_dir import ENV, multiproc_dir
from shared.runtime import get_runtime
from shared.store_gauges import StoreCollector, refresh

log = logging.getLogger("erasure.metrics")

#: Celery execution pools that run tasks in the worker's own process.
SINGLE_PROCESS_POOLS = ("threads", "solo", "eventlet", "gevent")

_stop = threading.Event()
_thread: threading.Thread | None = None


def pool_name(pool_cls: Any) -> str:
    """The execution pool's name, from what Celery's ``WorkController`` holds (a name or a class)."""
    if isinstance(pool_cls, str):
        return pool_cls.lower()
    return f"{getattr(pool_cls, '__module__', '')}.{getattr(pool_cls, '__name__', '')}".lower()


def single_process(pool_cls: Any) -> bool:
    name = pool_name(pool_cls)
    return any(kind in name for kind in SINGLE_PROCESS_POOLS)


def serving_registry(settings: Settings, pool_cls: Any) -> CollectorRegistry:
    """What the endpoint serves: the children's merged counts (multiprocess) or this process's registry,
    plus the store gauges. SystemExit (one line) for a prefork worker without the directory."""
    directory = multiproc_dir()
    registry = CollectorRegistry()
    if directory is not None:
        MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    elif single_process(pool_cls):
        registry.register(_Process())
    else:
        raise SystemExit(f"ERASURE_METRICS_PORT={settings.metrics_port} with the {pool_name(pool_cls)} pool needs "
                         f"{ENV} (an empty directory for this worker): its children's counts are kept there")
    runtime = get_runtime()
    registry.register(StoreCollector(runtime.redis, runtime.keys))
    return registry


class _Process(Collector):
    """This process's own registry (a one-process pool), served beside the store gauges."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def serve(settings: Settings, pool_cls: Any) -> WSGIServer:
    """Start the endpoint (a daemon thread; ``shutdown()`` stops it). SystemExit (one line) if it cannot listen."""
    registry = serving_registry(settings, pool_cls)
    try:
        server, _ = start_http_server(settings.metrics_port, addr=settings.metrics_host, registry=registry)
    except OSError as exc:
        raise SystemExit(f"ERASURE_METRICS_PORT={settings.metrics_port}: cannot listen on "
                         f"{settings.metrics_host} ({exc.strerror or type(exc).__name__})") from None
    return server


def start_gauges(interval_s: float, owner: str) -> threading.Thread:
    """The thread that reads the store for the gauges whenever this worker holds the interval's lease."""
    global _thread
    if _thread is not None and _thread.is_alive():
        return _thread
    _stop.clear()
    _thread = threading.Thread(target=gauges_loop, args=(lambda: _refresh(owner, interval_s), interval_s, _stop),
                               name="erasure-store-gauges", daemon=True)
    _thread.start()
    return _thread


def _refresh(owner: str, interval_s: float) -> bool:
    runtime = get_runtime()
    return refresh(runtime.redis, runtime.keys, interval_s, owner)


def gauges_loop(pass_once: Callable[[], object], interval_s: float, stop_event: threading.Event) -> None:
    """A pass at once (the gauges are wanted from the start), then one per interval (``run_loop``: an error
    backs off, never ends the thread)."""
    try:
        pass_once()
    except Exception as exc:
        log.warning("store gauges: first pass failed (%s)", type(exc).__name__)
    run_loop(pass_once, interval_s, stop_event, what="store gauges pass")


def stop(timeout_s: float = 10.0) -> None:
    _stop.set()
    if _thread is not None:
        _thread.join(timeout=timeout_s)


@worker_init.connect
def _on_worker_init(sender: Any = None, **_: Any) -> None:
    settings = get_settings()
    if settings.metrics_port:
        server = serve(settings, getattr(sender, "pool_cls", "prefork"))
        log.info("metrics served on %s:%d", settings.metrics_host, server.server_port)


@worker_ready.connect
def _on_worker_ready(**_: Any) -> None:
    settings = get_settings()
    if settings.metrics_port:
        start_gauges(settings.metrics_interval_s, f"{socket.gethostname()}:{os.getpid()}")


@worker_shutdown.connect
def _on_worker_shutdown(**_: Any) -> None:
    stop()
