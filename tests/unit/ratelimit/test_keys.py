"""The budget is per OAuth client: one bucket for every pool of a client, none shared between clients.

The Runtime derives the limiter's key from the client id (hashed); these tests build two Runtimes the
way two worker processes would and watch the buckets, never the key derivation itself.
"""

from __future__ import annotations

from importlib import resources

import fakeredis
import httpx
import pytest
from pydantic import SecretStr
from redis.crc import key_slot

from shared.audit import AuditLog, audit_key
from shared.config import Settings
from shared.effects import EffectLedger
from shared.keys import Keys
from shared.ratelimit import LeasePool, RateLimiter, RateLimitWait
from shared.ratelimit import keys as rl_keys
from shared.runtime import Runtime
from shared.store import RequestStore
from tests.support.ratelimit_clock import FakeClock

SECRET_A = "s3cret-of-client-a-0123456789"


def worker_runtime(client: fakeredis.FakeRedis, client_id: str, secret: str = SECRET_A, max_block_s: float = 5.0,
                   transport: httpx.BaseTransport | None = None) -> Runtime:
    """What one worker process builds from its settings: 300/min (5/s) with a burst of 5."""
    settings = Settings(
        hmac_key=SecretStr("k" * 32), key_prefix="rl-test", genesys_base_url="https://genesys.invalid",
        genesys_client_id=client_id, genesys_client_secret=SecretStr(secret), rate_per_minute=300, rate_burst=5,
        rate_max_block_s=max_block_s,
    )
    keys = Keys("rl-test")
    return Runtime(settings=settings, redis=client, keys=keys, store=RequestStore(client, keys),
                   audit=AuditLog(client, keys, audit_key(settings.require_hmac_key())), effects=EffectLedger(client, keys),
                   http_transport=transport)


def drain(limiter: RateLimiter, pool: str) -> int:
    n = 0
    while limiter.try_acquire(pool).granted:
        n += 1
    return n


def test_every_pool_of_one_client_draws_on_one_budget(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    # Four worker processes of the same OAuth client, one per pool, each with its own Runtime.
    workers = {pool: worker_runtime(fake, "client-a") for pool in ("discovery", "redaction", "deletion", "polling")}
    assert drain(workers["discovery"].limiter, "discovery") == 5  # the whole burst
    for pool, runtime in workers.items():
        assert runtime.limiter.try_acquire(pool).wait_s == 0.2, pool  # everyone waits for the same next token
    clock.advance(0.2)
    assert workers["deletion"].limiter.try_acquire("deletion").granted
    assert not workers["polling"].limiter.try_acquire("polling").granted


def test_the_api_clients_of_all_pools_meter_against_that_budget(
    fake: fakeredis.FakeRedis, clock: FakeClock
) -> None:
    sent: list[str] = []

    def platform(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "tok", "expires_in": 86400})
        sent.append(request.url.path)
        return httpx.Response(200, json={"entities": []})

    # max_block_s=0: hand back at once instead of sleeping.
    runtime = worker_runtime(fake, "client-a", max_block_s=0, transport=httpx.MockTransport(platform))
    pools = ("discovery", "redaction", "deletion", "polling", "discovery")
    for pool in pools:  # the burst of 5, spent by four pools together
        assert runtime.genesys(pool).search_gdpr_subjects("EMAIL", "a@example.org") == []
    for pool in ("discovery", "redaction", "deletion", "polling"):
        with pytest.raises(RateLimitWait):
            runtime.genesys(pool).search_gdpr_subjects("EMAIL", "a@example.org")
    assert len(sent) == 5  # nothing unmetered went out


def test_two_clients_do_not_share_a_budget(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    a, b = worker_runtime(fake, "client-a"), worker_runtime(fake, "client-b")
    assert drain(a.limiter, "deletion") == 5
    assert drain(b.limiter, "deletion") == 5  # b's budget is untouched by a's
    a.limiter.on_rate_limited(30)  # a 429 for client a pauses a only
    assert b.limiter.paused_for() == 0.2
    assert a.limiter.paused_for() == 30.2
    # Scarce slots (recording jobs) are per client too.
    assert LeasePool(fake, a.limiter_key).try_acquire("recording", 1, 60) is not None
    assert LeasePool(fake, b.limiter_key).try_acquire("recording", 1, 60) is not None


def test_a_rotated_secret_keeps_the_clients_budget(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    # The platform meters the client, not the secret: a worker on the new secret sees the old one's spending.
    old, new = worker_runtime(fake, "client-a", "old-secret-0000"), worker_runtime(fake, "client-a", "new-secret-1111")
    assert drain(old.limiter, "deletion") == 5
    assert not new.limiter.try_acquire("deletion").granted


def test_no_key_carries_the_client_secret_or_id_in_clear(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    runtime = worker_runtime(fake, "client-a-id-0001")
    drain(runtime.limiter, "polling")
    runtime.limiter.on_rate_limited(5)
    LeasePool(fake, runtime.limiter_key).try_acquire("recording", 1, 60)
    names = [k.decode() for k in fake.keys("*")]
    assert any(n.startswith("erasure:rl:") for n in names)
    for name in [runtime.limiter_key, *names]:
        assert SECRET_A not in name and "client-a-id-0001" not in name, name


# --- key layout ---------------------------------------------------------------------------------


def test_key_layout_puts_every_key_of_a_client_under_one_hash_tag() -> None:
    # The layout is what Redis already holds: changing it would silently reset every budget.
    assert rl_keys.bucket("c1") == "erasure:rl:{c1}:tat"
    assert rl_keys.pool_bucket("c1", "polling") == "erasure:rl:{c1}:pool:polling:tat"
    assert rl_keys.lease_set("c1", "recording") == "erasure:rl:{c1}:lease:recording"
    slots = {key_slot(k.encode()) for k in (rl_keys.bucket("c1"), rl_keys.pool_bucket("c1", "p"), rl_keys.lease_set("c1", "r"))}
    assert len(slots) == 1  # one slot: each script touches a single Redis Cluster node


@pytest.mark.parametrize("good", ["erasure:0123abcd", "ORG-X1", "x" * 200])
def test_ordinary_key_parts_are_accepted(good: str) -> None:
    assert rl_keys.bucket(good) == f"erasure:rl:{{{good}}}:tat"
    assert rl_keys.pool_bucket("c", good).endswith(f":pool:{good}:tat")
    assert rl_keys.lease_set("c", good).endswith(f":lease:{good}")


@pytest.mark.parametrize("bad", ["", "a{b", "a}b", "a b", "a\rb", "a\nb", "x" * 201])
def test_key_parts_that_would_break_the_hash_tag_or_the_protocol_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"^key must be a short non-empty string"):
        rl_keys.bucket(bad)
    with pytest.raises(ValueError, match=r"^pool must be"):
        rl_keys.pool_bucket("c", bad)
    with pytest.raises(ValueError, match=r"^lease name must be"):
        rl_keys.lease_set("c", bad)


def test_scripts_are_plain_ascii() -> None:
    # Why the encoding passed to read_text cannot matter (see bench/mutation_equivalent.toml).
    for name in ("gcra.lua", "pause.lua", "lease.lua"):
        assert resources.files(rl_keys.__package__).joinpath(name).read_bytes().isascii(), name
