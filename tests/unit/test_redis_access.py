"""Redis credentials and TLS come from the settings, through one place, to every client and the broker;
a refused password is not an outage (never retried). Without a server: what the clients are built with.
(A real server with requirepass, an ACL user and TLS: tests/integration/test_redis_auth.py.)"""

from __future__ import annotations

import pytest
import redis
import redis.connection
import redis.retry

from shared.celery_app import celery_config, create_app
from shared.config import Settings
from shared.redis_conn import get_redis, is_auth_error
from shared.redis_sentinel import broker_url, credentials_refused, redis_for


def test_the_password_and_user_of_the_settings_reach_the_client_and_the_broker():
    settings = Settings(redis_url="redis://127.0.0.1:6398/3", redis_username="erasure",
                        redis_password="p@ss/word:1", key_prefix="unit-auth")
    kwargs = redis_for(settings).connection_pool.connection_kwargs
    assert (kwargs["username"], kwargs["password"], kwargs["db"]) == ("erasure", "p@ss/word:1", 3)
    assert broker_url(settings) == "redis://erasure:p%40ss%2Fword%3A1@127.0.0.1:6398/3"
    connection = create_app(settings).connection_for_write()
    assert (connection.userid, connection.password) == ("erasure", "p@ss/word:1")


def test_a_url_with_its_own_credentials_keeps_them():
    settings = Settings(redis_url="redis://alice:url-pass@127.0.0.1:6398/0", redis_password="other",
                        key_prefix="unit-auth")
    assert redis_for(settings).connection_pool.connection_kwargs["password"] == "url-pass"
    assert broker_url(settings) == "redis://alice:url-pass@127.0.0.1:6398/0"


def test_rediss_gives_the_client_and_the_broker_tls_with_the_certificate_checked(tmp_path):
    ca = tmp_path / "ca.pem"
    settings = Settings(redis_url="rediss://127.0.0.1:6397/0", redis_password="pw", redis_tls_ca_file=str(ca),
                        key_prefix="unit-tls")
    pool = redis_for(settings).connection_pool
    assert pool.connection_class is redis.connection.SSLConnection
    assert pool.connection_kwargs["ssl_ca_certs"] == str(ca)
    assert pool.connection_kwargs["ssl_cert_reqs"] == "required"
    config = celery_config(settings)
    assert config["broker_url"].startswith("rediss://")
    assert config["broker_use_ssl"] == {"ssl_cert_reqs": "required", "ssl_ca_certs": str(ca)}
    # Without TLS asked for, none: a plain redis:// broker must not get ssl options.
    assert celery_config(Settings(redis_url="redis://127.0.0.1:6397/0", key_prefix="unit-tls"))["broker_use_ssl"] is None


def test_a_refused_password_is_raised_at_once_not_retried_as_an_outage(monkeypatch):
    waits: list[float] = []
    attempts: list[int] = []

    def refuse(self, *args, **kwargs):
        attempts.append(1)
        raise redis.AuthenticationError("invalid username-password pair or user is disabled.")

    monkeypatch.setattr(redis.connection.AbstractConnection, "connect_check_health", refuse)
    monkeypatch.setattr(redis.retry, "sleep", waits.append)
    client = get_redis("redis://127.0.0.1:1/14")
    with pytest.raises(redis.AuthenticationError):
        client.get("k")
    assert (len(attempts), waits) == (1, [])


@pytest.mark.parametrize(("error", "refused"), [
    (redis.AuthenticationError("invalid username-password pair"), True),
    (redis.AuthenticationError("Authentication required."), True),  # NOAUTH, as redis-py maps it
    (redis.exceptions.NoPermissionError("this user has no permissions to run the command"), False),
    (redis.ResponseError("WRONGPASS invalid username-password pair"), True),
    (redis.ConnectionError("Connection refused"), False),
    (redis.exceptions.BusyLoadingError("LOADING"), False),
    (redis.TimeoutError("Timeout"), False),
])
def test_what_counts_as_refused_credentials(error, refused):
    assert is_auth_error(error) is refused


def test_the_refusal_names_the_setting_to_fix_and_never_the_password():
    by_variable = credentials_refused(Settings(redis_url="redis://127.0.0.1:6379/0", redis_password="s3cret",
                                               redis_username="erasure"))
    assert "ERASURE_REDIS_PASSWORD" in by_variable and "ERASURE_REDIS_USERNAME" in by_variable
    by_url = credentials_refused(Settings(redis_url="redis://:s3cret@127.0.0.1:6379/0"))
    assert "ERASURE_REDIS_URL" in by_url
    assert "s3cret" not in by_variable + by_url
    assert "\n" not in by_variable + by_url


def test_with_sentinels_and_tls_the_master_is_reached_over_tls_as_the_acl_user():
    from redis.sentinel import SentinelManagedSSLConnection

    settings = Settings(redis_sentinels=["sentinel-1:26379"], redis_sentinel_master="erasure", redis_tls=True,
                        redis_username="erasure", redis_password="pw", key_prefix="unit-sentinel-tls")
    pool = redis_for(settings).connection_pool
    assert pool.connection_class is SentinelManagedSSLConnection
    assert (pool.connection_kwargs["username"], pool.connection_kwargs["ssl_cert_reqs"]) == ("erasure", "required")
    config = celery_config(settings)
    assert config["broker_use_ssl"] == {"ssl_cert_reqs": "required"}
    assert config["broker_url"].startswith("sentinel://erasure:pw@")


def test_tls_with_a_url_is_its_scheme_so_client_and_broker_cannot_disagree():
    with pytest.raises(ValueError, match="rediss://"):
        Settings(redis_url="redis://127.0.0.1:6379/0", redis_tls=True)
    assert Settings(redis_url="rediss://127.0.0.1:6379/0", redis_tls=True).redis_uses_tls


def test_with_sentinel_tls_the_sentinels_are_asked_over_tls_too():
    """ERASURE_REDIS_SENTINEL_TLS: the sentinels' own connections (which carry their password) use TLS with
    the same CA and client files, for the project's client and the broker's; off, they stay plain."""
    from redis.connection import SSLConnection

    settings = Settings(redis_sentinels=["sentinel-1:26379"], redis_sentinel_master="erasure", redis_tls=True,
                        redis_sentinel_tls=True, redis_sentinel_password="sentinel-pw",
                        redis_tls_ca_file="/etc/ca.pem", key_prefix="unit-sentinel-tls-on")
    [sentinel] = redis_for(settings).connection_pool.sentinel_manager.sentinels
    assert sentinel.connection_pool.connection_class is SSLConnection
    kwargs = sentinel.connection_pool.connection_kwargs
    assert (kwargs["ssl_cert_reqs"], kwargs["ssl_ca_certs"], kwargs["password"]) == ("required", "/etc/ca.pem",
                                                                                      "sentinel-pw")
    broker = celery_config(settings)["broker_transport_options"]["sentinel_kwargs"]
    assert (broker["ssl"], broker["ssl_cert_reqs"], broker["ssl_ca_certs"]) == (True, "required", "/etc/ca.pem")

    plain = Settings(redis_sentinels=["sentinel-1:26379"], redis_sentinel_master="erasure", redis_tls=True,
                     key_prefix="unit-sentinel-tls-off")
    [sentinel] = redis_for(plain).connection_pool.sentinel_manager.sentinels
    assert sentinel.connection_pool.connection_class is not SSLConnection
    assert "ssl" not in celery_config(plain)["broker_transport_options"]["sentinel_kwargs"]
    with pytest.raises(ValueError, match="ERASURE_REDIS_SENTINEL_TLS"):
        Settings(redis_sentinel_tls=True)
