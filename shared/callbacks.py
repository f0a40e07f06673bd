"""Per-request callback URLs: which targets the final event may go to besides the global webhooks.

A callback URL comes from whoever submits a request, so it is a way to make this service send signed
POSTs to a place of the submitter's choosing. It is therefore allowed only to hosts the deployment names
(ERASURE_CALLBACK_HOSTS, https; ERASURE_CALLBACK_HTTP_HOSTS, http too), checked at the edge and again
before every send (a dead letter or a record in Redis may have been written by someone else).

The URL is parsed with ``httpx.URL``, the parser that sends it, and must agree with ``urllib.parse``
on the host (a URL the two read differently is refused). The URL may carry a token in its query:
errors never repeat it, and logs, audit entries and certificates name its scheme and host only.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from shared.config import Settings

MAX_CALLBACK_URL = 2048


class CallbackRefused(ValueError):
    """The URL may not be a callback target; the message says why, never repeating the URL."""


def _normal_host(host: str) -> str:
    return host.strip().lower().rstrip(".")


def host_allowed(host: str, patterns: Iterable[str]) -> bool:
    """``host`` equals an entry, or ends with an entry that starts with a dot (``.example.com``
    allows ``hooks.example.com``, not ``example.com`` itself nor ``badexample.com``)."""
    host = _normal_host(host)
    for pattern in patterns:
        entry = pattern.strip().lower()
        if entry.startswith("."):
            suffix = "." + _normal_host(entry[1:])
            if suffix != "." and host.endswith(suffix) and len(host) > len(suffix):
                return True
        elif entry and host == _normal_host(entry):
            return True
    return False


@dataclass(frozen=True)
class CallbackPolicy:
    """The allow-list: ``hosts`` over https; ``http_hosts`` over http or https. Empty: no callbacks."""

    hosts: tuple[str, ...] = ()
    http_hosts: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> CallbackPolicy:
        return cls(tuple(settings.callback_hosts), tuple(settings.callback_http_hosts))

    @property
    def configured(self) -> bool:
        return bool(self.hosts or self.http_hosts)

    def check(self, url: str) -> str:
        """The URL if it may be a callback target; ``CallbackRefused`` (without the URL) otherwise."""
        if not self.configured:
            raise CallbackRefused("refused: this deployment allows no callback URLs (ERASURE_CALLBACK_HOSTS is empty)")
        if len(url) > MAX_CALLBACK_URL:
            raise CallbackRefused(f"must be at most {MAX_CALLBACK_URL} characters")
        # Spaces, backslashes and control characters are where URL parsers disagree; none belongs in a URL.
        if any(c.isspace() or c == "\\" or unicodedata.category(c).startswith("C") for c in url):
            raise CallbackRefused("must not contain spaces, backslashes or control characters")
        try:
            parsed = httpx.URL(url)
            split = urlsplit(url)
            split_host = split.hostname
            split_port = split.port  # raises ValueError on a bad port
        except (httpx.InvalidURL, ValueError):
            raise CallbackRefused("not a valid absolute URL") from None
        scheme = parsed.scheme.lower()
        if scheme not in ("https", "http") or not parsed.host:
            raise CallbackRefused("must be an absolute https URL")
        if parsed.userinfo or split.username is not None or split.password is not None:
            raise CallbackRefused("must not carry a user name or password")
        host = parsed.raw_host.decode("ascii", "replace")
        if split_host is None or _normal_host(split_host) != _normal_host(host) or split_port != parsed.port:
            raise CallbackRefused("not a valid absolute URL")
        if scheme == "http":
            if not host_allowed(host, self.http_hosts):
                raise CallbackRefused("must be https (http only to a host in ERASURE_CALLBACK_HTTP_HOSTS)")
        elif not host_allowed(host, self.hosts + self.http_hosts):
            raise CallbackRefused("refused: its host is not in ERASURE_CALLBACK_HOSTS")
        return url

    def allows(self, url: str) -> bool:
        try:
            self.check(url)
        except CallbackRefused:
            return False
        return True
