"""Where certificates live once issued: issued once, amended by a new one, delivery bookkeeping apart.

``keys.certificate`` holds the request's current signed certificate. It is never edited: issuing again
with the same statement keeps it (a delivery that died before the record was scrubbed repeats the
issue), and a different statement (release-held erasing what a hold kept) is a *new* certificate whose
``supersedes`` names the previous one, which moves to ``keys.certificate_history``, still readable.
Which downstream systems were told is written after issue, so it lives in a set of its own.
"""

from __future__ import annotations

import json
from typing import Any

import redis

from shared.certificate import certificate_json
from shared.certificate_signing import reference, same_statement, sign
from shared.keys import Keys
from shared.signing import Signer


def issue(client: redis.Redis, keys: Keys, signer: Signer, certificate: dict[str, Any]) -> dict[str, Any]:
    """Store ``certificate`` signed, or keep the stored one when it says the same; return what is stored."""
    request_id = str(certificate["request_id"])
    key, history = keys.certificate(request_id), keys.certificate_history(request_id)
    while True:
        with client.pipeline() as pipe:
            try:
                pipe.watch(key, history)  # type: ignore[no-untyped-call]
                raw = pipe.get(key)
                current = None if raw is None else json.loads(str(raw))
                if current is not None and current.get("signature") and same_statement(current, certificate):
                    pipe.reset()
                    return dict(current)
                number = int(pipe.llen(history)) + (1 if current is None else 2)
                signed = sign(signer, certificate, certificate_id=f"{request_id}.{number}",
                              supersedes=reference(current) if current is not None else None)
                pipe.multi()
                if raw is not None:
                    pipe.rpush(history, str(raw))
                pipe.set(key, certificate_json(signed))
                pipe.execute()
                return signed
            except redis.WatchError:
                continue


def superseded(client: redis.Redis, keys: Keys, request_id: str) -> list[str]:
    """The certificates an amendment replaced, oldest first, as they were stored."""
    return [str(raw) for raw in client.lrange(keys.certificate_history(request_id), 0, -1)]


def record_delivery(client: redis.Redis, keys: Keys, request_id: str, target_label: str) -> None:
    """A downstream target (scheme and host) took the final event."""
    client.sadd(keys.certificate_deliveries(request_id), target_label)


def deliveries(client: redis.Redis, keys: Keys, request_id: str) -> list[str]:
    """The downstream targets told of the request's certificate, sorted."""
    return sorted(str(label) for label in client.smembers(keys.certificate_deliveries(request_id)))
