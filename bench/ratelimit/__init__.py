"""Rate-limit benchmark: one shared budget across 1, 2, 4 and 8 worker processes.

``python -m bench ratelimit`` (or ``make bench``) runs the simulator with a fixed-window limit of
R requests per window and a bulk backlog of one-call Celery tasks on all four queues, served by
1, 2, 4 and 8 worker processes in two modes:

* ``shared``: the project's GCRA limiter in Redis, set a little under R;
* ``baseline``: no shared limiter, Celery's per-worker ``rate_limit`` set to R instead.

It prints utilization (successful answers per second / R per second) and the share of 429 answers,
measured on the simulator's own counters over a fixed interval after every worker has started, and
writes ``bench/results/ratelimit.json``. ``--quick`` is the smoke-test size and writes nothing unless
``--output`` is given.
"""

from __future__ import annotations


def main(argv: list[str]) -> int:
    # Imported here: the worker processes import this package (for ``bench.ratelimit.tasks``) and need
    # none of the runner's dependencies.
    from .runner import main as run

    return run(argv)
