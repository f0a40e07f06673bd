"""Person keys as a deployment may still hold them: two live ones whose names differ only in case, made
before ``ApiKeyStore.create`` refused a second person key under one name."""

from __future__ import annotations

from shared.api_keys import ApiKeyStore
from shared.runtime import Runtime


def stored_before_the_rule(runtime: Runtime, keys: ApiKeyStore, name: str, scopes: list[str]) -> tuple[str, str]:
    """A live person key stored under ``name`` whatever other person keys exist: (key id, token).

    Made under a free name, then renamed in Redis as the record and the names index would read had it been
    made before the rule (the name and the record still agree, as ``create`` writes them)."""
    info, token = keys.create(f"tmp-{len(keys.all())}", scopes, person=True)
    with runtime.redis.pipeline(transaction=True) as pipe:
        pipe.hdel(runtime.keys.api_key_names, info.name)
        pipe.hset(runtime.keys.api_key_names, name, info.key_id)
        pipe.hset(runtime.keys.api_key(info.key_id), "name", name)
        pipe.execute()
    return info.key_id, token
