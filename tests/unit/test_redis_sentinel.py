"""Redis Sentinel settings and wiring, without a server: the settings refuse what cannot work, the store's
client and the Celery broker are built to ask the sentinels, and without sentinels nothing changes.
(A real sentinel and a real failover: tests/integration/test_sentinel.py.)"""

from __future__ import annotations

import os

import pytest
from kombu.utils.url import url_to_parts
from redis.sentinel import SentinelConnectionPool

from shared.celery_app import celery_config, create_app
from shared.config import Settings
from shared.redis_conn import get_redis
from shared.redis_sentinel import redis_for

SENTINELS = ["sentinel-1:26379", "[fd00::2]:26380"]


def sentinel_settings(**changes: object) -> Settings:
    values: dict[str, object] = {"redis_sentinels": SENTINELS, "redis_sentinel_master": "erasure", "redis_db": 2,
                                 "redis_password": "data p@ss/word", "redis_sentinel_password": "sentinel-s3cret",
                                 "key_prefix": "unit-sentinel", **changes}
    return Settings(**values)  # type: ignore[arg-type]


def test_sentinels_and_the_master_name_go_together():
    # pydantic reports a validator's ConfigError as a ValidationError (a ValueError) with its message.
    with pytest.raises(ValueError, match="ERASURE_REDIS_SENTINEL_MASTER go together"):
        Settings(redis_sentinels=SENTINELS)
    with pytest.raises(ValueError, match="ERASURE_REDIS_SENTINELS and"):
        Settings(redis_sentinel_master="erasure")
    assert Settings().sentinel_addresses == []  # neither: the single URL, as before


@pytest.mark.parametrize("address", ["sentinel-1", "sentinel-1:", ":26379", "sentinel-1:port", "sentinel-1:0",
                                     "sentinel-1:65536", "[::1]"])
def test_a_sentinel_address_without_a_usable_port_is_refused(address):
    with pytest.raises(ValueError, match="is not host:port") as refused:
        sentinel_settings(redis_sentinels=[address])
    # The error names the setting, never the other values given (the passwords among them).
    assert "s3cret" not in str(refused.value) and "p@ss" not in str(refused.value)


def test_sentinel_addresses_are_host_and_port_pairs():
    settings = sentinel_settings(redis_sentinels=[" sentinel-1:26379", "[fd00::2]:26380", "10.0.0.3:1"])
    assert settings.sentinel_addresses == [("sentinel-1", 26379), ("fd00::2", 26380), ("10.0.0.3", 1)]


def test_the_passwords_are_never_printed_and_reach_a_child_process(monkeypatch):
    given = sentinel_settings()
    shown = repr(given) + str(given)
    assert "data p@ss/word" not in shown and "sentinel-s3cret" not in shown
    for name in [n for n in os.environ if n.upper().startswith("ERASURE_")]:
        monkeypatch.delenv(name)
    for name, value in given.to_environ().items():  # what a worker the demo or the tests start reads
        monkeypatch.setenv(name, value)
    assert Settings() == given


def test_without_sentinels_the_client_and_the_broker_are_the_url():
    settings = Settings(redis_url="redis://127.0.0.1:6399/4", key_prefix="unit-url")
    assert redis_for(settings) is get_redis("redis://127.0.0.1:6399/4")
    config = celery_config(settings)
    assert config["broker_url"] == "redis://127.0.0.1:6399/4"
    assert not {"master_name", "sentinel_kwargs"} & set(config["broker_transport_options"])


def test_with_sentinels_the_client_asks_them_for_the_master():
    settings = sentinel_settings(redis_url="redis://127.0.0.1:1/9")  # ignored: nothing may use it
    client = redis_for(settings)
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool) and pool.is_master and pool.service_name == "erasure"
    kwargs = pool.connection_kwargs
    assert (kwargs["db"], kwargs["password"], kwargs["decode_responses"]) == (2, "data p@ss/word", True)
    assert kwargs["socket_timeout"] and kwargs["socket_connect_timeout"]  # fail fast, like get_redis
    sentinels = pool.sentinel_manager.sentinels
    assert [(s.connection_pool.connection_kwargs["host"], s.connection_pool.connection_kwargs["port"])
            for s in sentinels] == [("sentinel-1", 26379), ("fd00::2", 26380)]
    assert {s.connection_pool.connection_kwargs["password"] for s in sentinels} == {"sentinel-s3cret"}
    assert redis_for(settings) is client  # one client per process, as get_redis


def test_with_sentinels_the_broker_is_kombus_sentinel_transport():
    settings = sentinel_settings()
    config = celery_config(settings)
    options = config["broker_transport_options"]
    assert options["master_name"] == "erasure"
    assert options["sentinel_kwargs"]["password"] == "sentinel-s3cret" and options["sentinel_kwargs"]["socket_timeout"]
    assert options["global_keyprefix"] == "unit-sentinel:celery:"  # the reliability options stay
    assert options["visibility_timeout"] == settings.visibility_timeout_s
    # Each URL as kombu reads it: every sentinel, the master's password intact and its database.
    alternates = config["broker_url"].split(";")
    parts = [url_to_parts(url) for url in alternates]
    assert [(p.scheme, p.hostname, p.port, p.password, p.path) for p in parts] == [
        ("sentinel", "sentinel-1", 26379, "data p@ss/word", "2"), ("sentinel", "fd00::2", 26380, "data p@ss/word", "2")]
    connection = create_app(settings).connection_for_write()
    assert connection.transport_cls == "sentinel" and connection.alt == alternates


def test_without_passwords_no_password_is_sent():
    settings = sentinel_settings(redis_password="", redis_sentinel_password="")
    assert celery_config(settings)["broker_url"].startswith("sentinel://sentinel-1:26379/2;")
    assert "password" not in celery_config(settings)["broker_transport_options"]["sentinel_kwargs"]
    client = redis_for(settings)
    assert client.connection_pool.connection_kwargs["password"] is None
    assert "password" not in client.connection_pool.sentinel_manager.sentinel_kwargs
