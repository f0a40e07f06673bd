"""The console's sign-in throttle (FastAPI's TestClient on fakeredis): after too many failed sign-ins from one
client address within the window, that client's further attempts are refused (429, Retry-After) without the
key being looked at, other clients are not, the window passes, the throttle is audited without the key or the
address, and a Redis error is a 503 with Retry-After, not a lock-out nor a traceback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from fastapi.testclient import TestClient

from services.console import web
from services.console.sessions import COOKIE
from services.intake import api
from services.intake.auth import current_runtime
from shared.api_keys import ApiKeyStore, split_token
from shared.config import Settings

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
LIMIT, WINDOW_S = 10, 300  # the defaults (test_the_defaults_are_ten_failures_in_five_minutes)
ATTACKER, OTHER = "203.0.113.7", "198.51.100.20"


@contextmanager
def browser(runtime, address: str) -> Iterator[TestClient]:
    """A browser at ``address`` (what uvicorn reports as the request's client) on plain http to loopback."""
    api.app.dependency_overrides[current_runtime] = lambda: runtime
    try:
        yield TestClient(api.app, base_url="http://127.0.0.1", client=(address, 50000))
    finally:
        api.app.dependency_overrides.clear()


@pytest.fixture
def keys(runtime):
    return ApiKeyStore(runtime.redis, runtime.keys)


@pytest.fixture
def anna(keys):
    return keys.create("dpo-anna", ["requests:read"], person=True)[1]


@pytest.fixture
def clock(monkeypatch):
    """The throttle's clock, moved on by the test (no sleeping): ``clock.now`` is the time it reads."""
    from services.console import throttle

    class Clock:
        now = 1_900_000_000.0

    monkeypatch.setattr(throttle, "now", lambda: Clock.now)
    return Clock


def sign_in(client, token, headers=None):
    form = client.get("/console/sign-in")
    return client.post("/console/sign-in", data={"csrf": CSRF.search(form.text).group(1), "key": token},
                       headers=headers or {}, follow_redirects=False)


def wrong(token):
    """The same key id with another secret: a wrong_secret refusal, as a guess would be."""
    key_id, _ = split_token(token)
    return f"ek_{key_id}_{'A' * 43}"


def fail(client, token, times):
    for _ in range(times):
        answer = sign_in(client, wrong(token))
        assert answer.status_code == 303 and answer.headers["location"] == "/console/sign-in?failed=true"


@pytest.fixture
def spied(monkeypatch):
    """The sign-in method's attempts (each one a look at a key), counted."""
    calls = []
    real = web.sign_in_method.attempt

    def attempt(runtime, form):
        calls.append(1)
        return real(runtime, form)

    monkeypatch.setattr(web.sign_in_method, "attempt", attempt)
    return calls


def test_the_defaults_are_ten_failures_in_five_minutes():
    fields = Settings.model_fields
    assert fields["console_sign_in_max_failures"].default == LIMIT
    assert fields["console_sign_in_window_s"].default == WINDOW_S


def test_past_the_limit_even_the_right_key_is_refused_without_being_looked_at(runtime, anna, spied):
    with browser(runtime, ATTACKER) as client:
        fail(client, anna, LIMIT)
        assert len(spied) == LIMIT
        answer = sign_in(client, anna)
    assert answer.status_code == 429 and len(spied) == LIMIT  # the key was not checked
    retry_after = int(answer.headers["retry-after"])
    assert 0 < retry_after <= WINDOW_S
    assert f"Too many failed sign-ins from your address: try again in {retry_after} s" in answer.text
    assert 'id="sign-in-throttled"' in answer.text and 'name="csrf"' in answer.text  # the form, as a failure shows it
    assert f"{COOKIE}=" not in answer.headers.get("set-cookie", "") and COOKIE not in client.cookies


def test_another_client_is_unaffected(runtime, anna, keys):
    ben = keys.create("dpo-ben", ["requests:read"], person=True)[1]
    with browser(runtime, ATTACKER) as attacker:
        fail(attacker, anna, LIMIT)
        assert sign_in(attacker, anna).status_code == 429
    with browser(runtime, OTHER) as other:
        answer = sign_in(other, anna)
        assert answer.status_code == 303 and answer.headers["location"] == "/console/"
        fail(other, ben, 1)  # its own failures are its own: one is far from the limit
        assert sign_in(other, ben).headers["location"] == "/console/"


def test_forwarding_headers_from_a_client_do_not_make_it_another_client(runtime, anna):
    """X-Forwarded-For is uvicorn's to honour (from a proxy it trusts), never the console's: a client that
    writes a new one with every guess is still the one client."""
    with browser(runtime, ATTACKER) as client:
        for n in range(LIMIT):
            answer = sign_in(client, wrong(anna), headers={"X-Forwarded-For": f"192.0.2.{n}"})
            assert answer.status_code == 303
        assert sign_in(client, anna, headers={"X-Forwarded-For": "192.0.2.200"}).status_code == 429


def test_an_ipv6_client_counts_by_its_64_prefix(runtime, anna):
    with browser(runtime, "2001:db8:1:2::1") as first:
        fail(first, anna, LIMIT)
    with browser(runtime, "2001:db8:1:2:ffff::9") as same_network:
        assert sign_in(same_network, anna).status_code == 429
    with browser(runtime, "2001:db8:1:3::1") as next_network:
        assert sign_in(next_network, anna).status_code == 303


def test_the_window_passes_and_nothing_is_kept_without_a_ttl(runtime, anna, clock):
    start = clock.now
    with browser(runtime, ATTACKER) as client:
        fail(client, anna, LIMIT)
        clock.now = start + WINDOW_S - 1
        answer = sign_in(client, anna)
        assert answer.status_code == 429 and answer.headers["retry-after"] == "1"
        kept = list(runtime.redis.scan_iter(f"{{{runtime.keys.prefix}}}:console:sign-in*"))
        assert kept and all(0 < runtime.redis.ttl(key) <= WINDOW_S for key in kept)
        assert all(ATTACKER not in key for key in kept)  # the address is not kept, not even in a key's name
        clock.now = start + WINDOW_S  # the first failures leave the window
        answer = sign_in(client, anna)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/"


def test_a_sliding_window_failures_spread_over_it_still_count(runtime, anna, clock):
    """Not a fixed window that a client could straddle: the limit holds over every WINDOW_S."""
    start = clock.now
    with browser(runtime, ATTACKER) as client:
        for n in range(LIMIT):
            clock.now = start + n * (WINDOW_S - 10) / LIMIT
            fail(client, anna, 1)
        clock.now = start + WINDOW_S - 5
        assert sign_in(client, anna).status_code == 429
        clock.now = start + WINDOW_S  # only the first failure left the window: one more try
        fail(client, anna, 1)
        assert sign_in(client, anna).status_code == 429


def test_a_success_does_not_clear_the_clients_failures(runtime, anna):
    """The choice (services.console.throttle): the limit bounds failures per address whatever else the
    address does, so a person holding one valid key cannot sign in between guesses to go on guessing."""
    with browser(runtime, ATTACKER) as client:
        fail(client, anna, LIMIT - 1)
        assert sign_in(client, anna).headers["location"] == "/console/"
        fail(client, anna, 1)
        assert sign_in(client, anna).status_code == 429


def test_the_throttle_is_audited_once_a_minute_per_client_without_the_key_or_the_address(runtime, anna):
    with browser(runtime, ATTACKER) as client:
        fail(client, anna, LIMIT)
        for _ in range(3):
            assert sign_in(client, anna).status_code == 429
    with browser(runtime, OTHER) as other:
        fail(other, anna, LIMIT)
        assert sign_in(other, anna).status_code == 429
    throttled = [e for e in runtime.audit.entries() if e["event"] == "console.sign_in_throttled"]
    assert len(throttled) == 2  # one per client, however many refusals within the minute
    assert throttled[0]["details"] == {"reason": "too_many_failures", "failures": LIMIT, "window_s": WINDOW_S}
    everything = str(runtime.audit.entries())
    secret = split_token(anna)[1]
    assert anna not in everything and secret not in everything and wrong(anna) not in everything
    assert ATTACKER not in everything and OTHER not in everything


def test_a_redis_error_in_the_throttle_is_a_503_with_retry_after_not_a_lock_out_or_a_traceback(runtime, anna,
                                                                                               spied):
    def down(*_, **__):
        raise redis.ConnectionError("Connection refused")

    with browser(runtime, ATTACKER) as client:
        form = client.get("/console/sign-in")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(redis.client.Pipeline, "execute", down)
            answer = client.post("/console/sign-in", data={"csrf": CSRF.search(form.text).group(1), "key": anna},
                                 follow_redirects=False)
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert "unreachable" in answer.text and "Traceback" not in answer.text
    assert spied == []  # nothing was decided without the throttle
    with browser(runtime, ATTACKER) as client:  # Redis back: the person signs in
        assert sign_in(client, anna).headers["location"] == "/console/"
