"""A limit on failed console sign-ins per client address: a sliding window in Redis.

A person key's secret is 256 random bits, so guessing one is hopeless; the limit is there so that one client
cannot hammer the key store and the metrics without end, and so that a leaked key id is not an invitation.
After ``ERASURE_CONSOLE_SIGN_IN_MAX_FAILURES`` failed sign-ins from one client within
``ERASURE_CONSOLE_SIGN_IN_WINDOW_S`` (sliding: the limit holds over every such span, not per calendar
slot a client could straddle), its further attempts are refused without the key being looked at, until the
oldest of those failures leaves the window.

*Which client.* The address uvicorn reports (``request.client``): the TCP peer, or the X-Forwarded-For hop
when, and only when, the peer is a proxy uvicorn trusts (its ``--forwarded-allow-ips``/``FORWARDED_ALLOW_IPS``,
the loopback by default). The console never reads forwarding headers for this itself: a client can write
any it likes (``web.secure`` only reads them to refuse to take a forwarded request for a local one). An IPv6
client counts by its /64, which one host usually holds whole. Behind a proxy uvicorn does not trust, every
client is the proxy: name the proxy in FORWARDED_ALLOW_IPS, or one client's failures throttle all.

*What is kept.* Per client a sorted set of the times of its recent failures (at most the limit's worth,
expiring with the window), under a keyed digest of the address (HMAC with ``ERASURE_HMAC_KEY``): Redis,
the audit log and the logs never hold the address.

*A success does not clear the client's failures.* The limit bounds failures per address whatever else
that address does: were a success to clear it, anyone holding one valid person key could sign in between
guesses and go on guessing others' keys, and people behind one NAT would clear each other's record. The
cost is small: a person who mistyped a few times keeps those failures for at most the window.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import secrets
import time
from dataclasses import dataclass

import redis
from fastapi import Request

from shared.config import Settings
from shared.keys import Keys

_CLIENT_LABEL = b"erasure console sign-in client\x1f"  # the digest's own key, apart from subject digests'


def now() -> float:
    """The throttle's clock, seconds since the epoch (looked up at each call, so a test can move it on)."""
    return time.time()


def client_address(request: Request) -> str:
    """The address a sign-in counts against: uvicorn's client address (see the module's doc), an IPv6
    one as its /64, an IPv4-mapped one as the IPv4 address; a client that is no address (a Unix socket, a
    test client) by its name."""
    host = request.client.host if request.client is not None else ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass(frozen=True)
class Throttled:
    """A client refused: its failures in the window, and whole seconds until it may try again."""

    failures: int
    retry_after_s: int


class SignInThrottle:
    def __init__(self, client: redis.Redis, keys: Keys, settings: Settings) -> None:
        self._r = client
        self._keys = keys
        self._limit = settings.console_sign_in_max_failures
        self.window_s = settings.console_sign_in_window_s
        self._digest_key = settings.require_hmac_key()

    def client(self, address: str) -> str:
        """The name a client's failures are kept under: a keyed digest of its address (never the address)."""
        return hmac.new(self._digest_key, _CLIENT_LABEL + address.encode(), hashlib.sha256).hexdigest()[:32]

    def check(self, client: str) -> Throttled | None:
        """None if ``client`` may try a key now; else its failures and how long until it may."""
        key = self._keys.console_sign_in_failures(client)
        at = now()
        with self._r.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", at - self.window_s)
            pipe.zcard(key)
            # The failure that must leave the window before one more try is allowed: the limit-th newest.
            pipe.zrange(key, -self._limit, -self._limit, withscores=True)
            _, failures, pivot = pipe.execute()
        if failures < self._limit or not pivot:
            return None
        wait = float(pivot[0][1]) + self.window_s - at
        return Throttled(int(failures), max(1, math.ceil(wait)))

    def failed(self, client: str) -> None:
        """Count a failed sign-in of ``client``: kept for the window, at most the limit's worth."""
        key = self._keys.console_sign_in_failures(client)
        at = now()
        with self._r.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {f"{at!r}:{secrets.token_hex(4)}": at})
            pipe.zremrangebyscore(key, "-inf", at - self.window_s)
            pipe.zremrangebyrank(key, 0, -(self._limit + 1))  # the newest `limit` are all a check needs
            pipe.expire(key, self.window_s)
            pipe.execute()

    def first_this_minute(self, client: str) -> bool:
        """Whether this is ``client``'s first refusal this minute (to audit): one entry a minute per client."""
        return bool(self._r.set(self._keys.console_sign_in_throttled(client), 1, nx=True, ex=60))
