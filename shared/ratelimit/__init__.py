"""One rate budget per Genesys Cloud OAuth client, shared by every worker of every pool.

The platform limits each client-credentials token (300 requests/min by default), while Celery's
own ``rate_limit`` is per worker. This package keeps the budget in Redis instead: a GCRA token
bucket decided by one Lua script on Redis's clock (``gcra.lua``), pushed forward by 429s and
corrected by the ``inin-ratelimit-*`` headers (``pause.lua``), plus expiring leases for slots that
are not rates (``lease.lua``).

Usage in a task::

    try:
        limiter.acquire("deletion", max_block_s=5)
    except RateLimitWait as exc:
        raise self.retry(countdown=exc.wait_s)
    response = send()
    limiter.on_response_headers(response.headers)
    if response.status_code == 429:
        limiter.on_rate_limited(float(response.headers.get("Retry-After", 0)))

Policy when Redis is unreachable: **fail closed**. ``acquire``, ``try_acquire``, ``paused_for``,
``on_rate_limited`` and every ``LeasePool`` method raise ``LimiterUnavailable``, so no request
goes out unmetered and no scarce slot is taken on trust; the task should retry with backoff.
The only exception is ``on_response_headers``: it is a best-effort correction made after a
response already arrived, so it logs and returns rather than lose that response.

Exceptions::

    RateLimitError
     ├── RateLimitWait       wait longer than max_block_s: retry with countdown=wait_s
     └── LimiterUnavailable  Redis unreachable: fail closed
"""

from .config import BucketConfig
from .errors import LimiterUnavailable, RateLimitError, RateLimitWait
from .lease import LeasePool
from .limiter import Decision, RateLimiter

__all__ = [
    "BucketConfig",
    "Decision",
    "LeasePool",
    "LimiterUnavailable",
    "RateLimitError",
    "RateLimitWait",
    "RateLimiter",
]
