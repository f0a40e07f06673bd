"""Which Redis the project talks to: the one at ``redis_url``, or the master the sentinels name.

With ``redis_sentinels`` set, every client of the project (store, effect ledger, audit, limiter, holds,
webhooks) and the Celery broker find the master through Redis Sentinel and find it again after a
failover, so a failover costs the moment it takes, not an operator. Without them, nothing changes:
``get_redis(redis_url)`` and the URL as the broker.

The one place where a client, the broker and the startup check get their credentials and TLS from the
settings (``ERASURE_REDIS_USERNAME``/``_PASSWORD``, ``rediss://`` or ``ERASURE_REDIS_TLS``, the CA file),
so no process can reach Redis with some of them and not the others.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import redis
from redis.sentinel import Sentinel

from shared.config import ConfigError, Settings
from shared.redis_conn import NO_ACCESS, Access, client_options, get_redis, is_auth_error

# Talking to a sentinel is one short question; a sentinel that hangs must not hang the caller.
SENTINEL_TIMEOUT_S = 5.0


def redis_for(settings: Settings) -> redis.Redis:
    """The project's Redis client for ``settings`` (one per process per endpoint, like ``get_redis``)."""
    if not settings.redis_sentinels:
        return get_redis(settings.redis_url, access(settings))
    return get_sentinel_redis(tuple(settings.sentinel_addresses), settings.redis_sentinel_master, settings.redis_db,
                              settings.redis_password.get_secret_value(),
                              settings.redis_sentinel_password.get_secret_value(), access(settings),
                              settings.redis_sentinel_tls)


def access(settings: Settings) -> Access:
    """The credentials and TLS of ``settings`` (TLS only where they ask for it)."""
    return Access(username=settings.redis_username, password=settings.redis_password.get_secret_value(),
                  tls=settings.redis_uses_tls, ca_file=settings.redis_tls_ca_file,
                  cert_file=settings.redis_tls_cert_file, key_file=settings.redis_tls_key_file)


def check_credentials(settings: Settings) -> None:
    """Raise ``ConfigError`` naming the setting to fix if Redis refuses these credentials.

    One PING on a client of its own with no retries: a Redis that is down or restarting passes (every
    process rides out an outage, see ``shared.redis_conn``), only a refusal fails the process at start.
    """
    if settings.redis_sentinels:
        probe = redis_for(settings)  # the sentinels name the master: their client is the one to ask
    else:
        probe = redis.Redis.from_url(settings.redis_url, socket_timeout=5.0, socket_connect_timeout=2.0,
                                     retry=None, **access(settings).url_options(settings.redis_url))
    try:
        probe.ping()
    except redis.exceptions.RedisError as exc:
        if is_auth_error(exc):
            raise ConfigError(credentials_refused(settings)) from None
    finally:
        if not settings.redis_sentinels:
            probe.close()  # its own: the process's client (``redis_for``) stays open


def credentials_refused(settings: Settings) -> str:
    """One line saying which settings to fix when Redis refuses the credentials (never their values)."""
    if urlsplit(settings.redis_url).password is not None and not settings.redis_sentinels:
        where = "the user:password in ERASURE_REDIS_URL"
    else:
        where = "ERASURE_REDIS_PASSWORD" + (" and ERASURE_REDIS_USERNAME" if settings.redis_username else "")
    return f"Redis refused the credentials: check {where} (the server's requirepass or ACL user)"


@lru_cache(maxsize=8)
def get_sentinel_redis(sentinels: tuple[tuple[str, int], ...], master: str, db: int = 0, password: str = "",
                       sentinel_password: str = "", master_access: Access = NO_ACCESS,
                       sentinel_tls: bool = False) -> redis.Redis:
    """A client of the master ``master``: every new connection asks the sentinels where it is, and a
    connection that finds the master gone or demoted (READONLY) is dropped, so the next try reaches the
    new one. Same timeouts and bounded retries as ``get_redis``, which carry the callers over the switch.
    With ``sentinel_tls`` the sentinels are asked over TLS too, with ``master_access``'s CA and client files."""
    manager = Sentinel(list(sentinels), sentinel_kwargs=_sentinel_kwargs(  # type: ignore[no-untyped-call]
        sentinel_password, master_access.tls_options() if sentinel_tls else None))
    client: redis.Redis = manager.master_for(  # type: ignore[no-untyped-call]
        master,
        db=db,
        password=password or None,
        **({"username": master_access.username} if master_access.username else {}),
        **({"ssl": True, **master_access.tls_options()} if master_access.tls else {}),
        **client_options(),
    )
    return client


def broker_url(settings: Settings) -> str:
    """Celery's broker: the URL, or kombu's sentinel form ``sentinel://[:password@]host:port/db`` once per
    sentinel, joined by ``;`` (kombu asks them all for the master named in the transport options)."""
    if not settings.redis_sentinels:
        return _with_credentials(settings.redis_url, settings.redis_username, settings.redis_password.get_secret_value())
    password = settings.redis_password.get_secret_value()
    user = quote(settings.redis_username, safe="")
    auth = f"{user}:{quote(password, safe='')}@" if password else ""
    return ";".join(f"sentinel://{auth}{_netloc(host, port)}/{settings.redis_db}"
                    for host, port in settings.sentinel_addresses)


def broker_sentinel_options(settings: Settings) -> dict[str, Any]:
    """What kombu's sentinel transport needs besides the URL (none without sentinels): the master's name,
    and how to talk to the sentinels themselves (their password, timeouts, TLS)."""
    if not settings.redis_sentinels:
        return {}
    tls = access(settings).tls_options() if settings.redis_sentinel_tls else None
    return {"master_name": settings.redis_sentinel_master,
            "sentinel_kwargs": _sentinel_kwargs(settings.redis_sentinel_password.get_secret_value(), tls)}


def broker_ssl(settings: Settings) -> dict[str, Any] | None:
    """Celery's ``broker_use_ssl`` for a TLS Redis (kombu speaks TLS only with it, even to ``rediss://``)."""
    return access(settings).tls_options() if settings.redis_uses_tls else None


def _with_credentials(url: str, username: str, password: str) -> str:
    """``url`` with the settings' user and password in it, unless it carries a password of its own."""
    parts = urlsplit(url)
    if not password or parts.password is not None or parts.scheme == "unix":
        return url
    user = quote(parts.username or username, safe="")
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}"))


def _sentinel_kwargs(password: str, tls_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Connection options for the sentinels (not the master): given explicitly, redis-py uses these alone,
    so TLS to the master says nothing about them; ``tls_options`` (ERASURE_REDIS_SENTINEL_TLS) does."""
    kwargs: dict[str, Any] = {"socket_timeout": SENTINEL_TIMEOUT_S, "socket_connect_timeout": SENTINEL_TIMEOUT_S}
    if password:
        kwargs["password"] = password
    if tls_options is not None:
        kwargs.update({"ssl": True, **tls_options})
    return kwargs


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
