"""A Runtime on fakeredis, for unit tests of code that takes one."""

from __future__ import annotations

import fakeredis
import pytest

from shared.audit import AuditLog
from shared.config import Settings
from shared.effects import EffectLedger
from shared.keys import Keys
from shared.runtime import Runtime
from shared.store import RequestStore


@pytest.fixture
def runtime() -> Runtime:
    client = fakeredis.FakeRedis(decode_responses=True)
    keys = Keys("unit")
    settings = Settings(hmac_key="k" * 32, key_prefix="unit")
    return Runtime(settings=settings, redis=client, keys=keys, store=RequestStore(client, keys),
                   audit=AuditLog(client, keys), effects=EffectLedger(client, keys))
