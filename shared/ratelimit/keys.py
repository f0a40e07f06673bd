"""Redis key layout and script loading.

Every key of one OAuth client sits under one hash tag, so each script touches a single slot
and also runs on Redis Cluster::

    erasure:rl:{<client>}:tat                org bucket, TAT in µs since EPOCH_S
    erasure:rl:{<client>}:pool:<pool>:tat    a pool's own bucket (only with a share)
    erasure:rl:{<client>}:lease:<name>       sorted set of leases, score = expiry in µs
    erasure:rl:{<client>}:lane:interactive   marker: interactive work asked for a token lately (PX)
    erasure:rl:{<client>}:lane:bulk:tat      the bulk lane's bucket while the marker exists
"""

from __future__ import annotations

from importlib import resources

import redis
from redis.commands.core import Script

# Scripts count microseconds from here, not from 1970: values stay near 1e14, far below 2**53.
EPOCH_S = 1_700_000_000
PREFIX = "erasure:rl:"


def _check_part(part: str, what: str) -> str:
    if not part or any(c in part for c in "{}\r\n ") or len(part) > 200:
        raise ValueError(f"{what} must be a short non-empty string without braces or spaces")
    return part


def base(client: str) -> str:
    return f"{PREFIX}{{{_check_part(client, 'key')}}}"


def bucket(client: str) -> str:
    return f"{base(client)}:tat"


def pool_bucket(client: str, pool: str) -> str:
    return f"{base(client)}:pool:{_check_part(pool, 'pool')}:tat"


def interactive_marker(client: str) -> str:
    return f"{base(client)}:lane:interactive"


def bulk_lane_bucket(client: str) -> str:
    return f"{base(client)}:lane:bulk:tat"


def lease_set(client: str, name: str) -> str:
    return f"{base(client)}:lease:{_check_part(name, 'lease name')}"


def load_script(client: redis.Redis, filename: str) -> Script:
    """Register one of the package's ``.lua`` files (EVALSHA, falling back to EVAL)."""
    source = resources.files(__package__).joinpath(filename).read_text(encoding="utf-8")
    return client.register_script(source)
