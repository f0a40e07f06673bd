"""Exactly-once side effects on the platform: an intent before the call, the platform's id after.

A task that finds ``done`` stops. A task that finds ``intent`` without an id cannot know whether
the call reached the platform (the worker died in between), so it must reconcile against the
platform's own list before submitting anything again.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from shared.keys import Keys
from shared.models import utcnow


class ReconcileIncomplete(Exception):
    """The platform's list was searched as far as the budget allows without finding the end.

    Not finding our earlier call there proves nothing, so nothing may be resubmitted: the request
    fails with this reason and an operator checks the platform by hand."""


@dataclass(frozen=True)
class EffectRecord:
    state: str  # "intent" | "done"
    platform_id: str | None


class EffectLedger:
    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self._r = client
        self._keys = keys

    def get(self, request_id: str, effect: str) -> EffectRecord | None:
        data = self._r.hgetall(self._keys.effect(request_id, effect))
        if not data:
            return None
        platform_id = data.get("platform_id")
        return EffectRecord(state=str(data["state"]), platform_id=str(platform_id) if platform_id else None)

    def record_intent(self, request_id: str, effect: str) -> bool:
        """Record that we are about to call; False if an intent or result already exists."""
        key = self._keys.effect(request_id, effect)
        created = self._r.hsetnx(key, "state", "intent")
        if created:
            self._r.hset(key, "intent_at", utcnow().isoformat())
        return bool(created)

    def record_done(self, request_id: str, effect: str, platform_id: str) -> None:
        self._r.hset(
            self._keys.effect(request_id, effect),
            mapping={"state": "done", "platform_id": platform_id, "done_at": utcnow().isoformat()},
        )
