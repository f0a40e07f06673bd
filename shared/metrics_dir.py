"""prometheus-client's multiprocess directory (``PROMETHEUS_MULTIPROC_DIR``) of a prefork worker.

Each process of the worker (the main one and every pool child) counts into files of its own there, and the
worker's metrics endpoint merges them (``services.worker_metrics``). Files left by an earlier run of the
worker would be merged too, their counts added to this run's (and a container's main process is often
pid 1 every run), so the worker empties the directory when it starts, before any process of this run
has counted (``shared.celery_app``'s ``import_modules`` handler). One directory per worker node: two
workers sharing one would empty each other's.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

log = logging.getLogger("erasure.metrics")

ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiproc_dir() -> Path | None:
    value = os.environ.get(ENV, "").strip()
    return Path(value) if value else None


def empty_for_this_run() -> int:
    """Remove the counts of earlier runs from the directory (created if missing); how many files went.

    Run before prometheus-client is imported in this process; if it was (it opened its files already),
    this process's own files stay, named by its pid."""
    directory = multiproc_dir()
    if directory is None:
        return 0
    directory.mkdir(parents=True, exist_ok=True)
    own = f"_{os.getpid()}.db" if "prometheus_client" in sys.modules else None
    removed = 0
    for path in directory.glob("*.db"):
        if own is not None and path.name.endswith(own):
            continue
        path.unlink(missing_ok=True)
        removed += 1
    if removed:
        log.info("metrics: removed %d file(s) of an earlier run from %s", removed, ENV)
    return removed
