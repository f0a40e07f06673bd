"""TEST ONLY: a Celery worker whose acknowledgements (ack, reject) reach Redis only once Redis answers again.

    python -m tests.support.late_ack_worker -A shared.celery_app worker -Q polling ...

A task that fails while Redis is down ends, in the worker, with an ack or a reject; a prefork worker's
main process handles it once it has reconnected, a busy fleet has some task ending just as Redis
comes back. Either way the decision reaches a Redis that is back: an ack (or a reject without requeue)
deletes the message, a reject with requeue puts it back. This seam makes that moment certain instead
of a race: ``Request.acknowledge`` and ``Request.reject`` wait until the broker answers a PING.
Production code carries no seam and reads no setting for it.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import redis
from celery.worker.request import Request

log = logging.getLogger("erasure.tests.late_ack")

WAIT_S = 120.0


def answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.exceptions.RedisError:
        return False


def once_redis_answers(decide: Callable[..., Any], url: str) -> Callable[..., Any]:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)

    def late(request: Request, *args: Any, **kwargs: Any) -> Any:
        if not answers(client):
            log.warning("TEST: %s of %s waits for Redis", decide.__name__, request.name)
            deadline = time.monotonic() + WAIT_S
            while not answers(client) and time.monotonic() < deadline:
                time.sleep(0.1)
        return decide(request, *args, **kwargs)

    return late


def install(url: str) -> None:
    Request.acknowledge = once_redis_answers(Request.acknowledge, url)  # type: ignore[method-assign]
    Request.reject = once_redis_answers(Request.reject, url)  # type: ignore[method-assign]


def main() -> None:
    install(os.environ["ERASURE_REDIS_URL"])
    from celery.__main__ import main as celery_main

    sys.argv = ["celery", *sys.argv[1:]]
    celery_main()


if __name__ == "__main__":
    main()
