"""An access request's download links: held only as long as they work, never next to anything else.

The platform's GDPR_EXPORT answers with ``resultsUrl``/``resultsUrls`` (VERIFIED, SDK ``GDPRRequest``): links
to an archive of the subject's data, so whoever holds one holds the data. This system hands them to the
upstream system (the authenticated API and the signed final event) and keeps nothing of the export itself.
The links live in one Redis key of their own that Redis deletes when they expire (``PEXPIREAT``), never
in the request's record, the certificate, the audit log or a log line. Their expiry is read from the link
when it says (an S3-style pre-signed link: ``X-Amz-Date`` + ``X-Amz-Expires``), else assumed
(``Settings.export_link_ttl_s``): the platform documents none.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import redis

from shared.keys import Keys

LINK = "link"
ASSUMED = "assumed"


def link_expiry(urls: list[str], completed_at: datetime, default_ttl_s: float) -> tuple[datetime, str]:
    """When the links stop working (the earliest any of them says), and whether that was read from a link
    (``LINK``) or assumed from ``completed_at`` (``ASSUMED``)."""
    said = [when for url in urls if (when := _presigned_expiry(url)) is not None]
    if said and len(said) == len(urls):
        return min(said), LINK
    return completed_at + timedelta(seconds=default_ttl_s), ASSUMED


def _presigned_expiry(url: str) -> datetime | None:
    query = parse_qs(urlsplit(url).query)
    try:
        signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return signed + timedelta(seconds=int(query["X-Amz-Expires"][0]))
    except (KeyError, IndexError, ValueError):
        return None


def keep_links(client: redis.Redis, keys: Keys, request_id: str, urls: list[str], expires_at: datetime) -> None:
    """Hold the links until ``expires_at``; Redis drops them then. An already-expired link is not kept."""
    key = keys.export_links(request_id)
    if expires_at <= datetime.now(UTC):
        client.delete(key)
        return
    pipe = client.pipeline(transaction=True)
    pipe.set(key, json.dumps(urls))
    pipe.pexpireat(key, int(expires_at.timestamp() * 1000))
    pipe.execute()


def read_links(client: redis.Redis, keys: Keys, request_id: str) -> list[str] | None:
    """The links while they work; None once expired (or never had)."""
    raw = client.get(keys.export_links(request_id))
    return [str(u) for u in json.loads(str(raw))] if raw else None
