"""A Runtime on fakeredis, and the project's client on a module's own simulator (its ``sim`` fixture)."""

from __future__ import annotations

import fakeredis
import httpx
import pytest

from shared.audit import AuditLog, audit_key
from shared.config import Settings
from shared.effects import EffectLedger
from shared.genesys import GenesysClient, TokenProvider
from shared.keys import Keys
from shared.runtime import Runtime
from shared.signing import generate_private_pem
from shared.store import RequestStore

#: The unit runtime's certificate signing key (one per test session: generating one per test costs little,
#: but a test comparing two certificates wants the same key in both).
UNIT_SIGNING_KEY = generate_private_pem()


@pytest.fixture
def runtime() -> Runtime:
    client = fakeredis.FakeRedis(decode_responses=True)
    keys = Keys("unit")
    settings = Settings(hmac_key="k" * 32, key_prefix="unit", signing_key=UNIT_SIGNING_KEY)
    return Runtime(settings=settings, redis=client, keys=keys, store=RequestStore(client, keys),
                   audit=AuditLog(client, keys, audit_key(settings.require_hmac_key())), effects=EffectLedger(client, keys))


class NoLimiter:
    """The client's limiter, never waiting: these tests are about answers, not pacing."""

    def acquire(self, pool="default", *, max_block_s=5.0, lane=None):
        return 0.0

    def on_rate_limited(self, retry_after_s):
        pass

    def on_response_headers(self, headers):
        pass


@pytest.fixture()
def client(sim):
    http = httpx.Client(timeout=10)
    tokens = TokenProvider(http, sim.url, "sim-client", "sim-secret")
    yield GenesysClient(api_base_url=sim.url, tokens=tokens, limiter=NoLimiter(), http=http)
    http.close()
