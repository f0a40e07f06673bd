"""Per-process wiring: the settings turned into the objects tasks and commands use.

Built lazily once per process (a Celery worker child, the CLI), so importing a task module
opens no connection.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field

import httpx
import redis

from shared.audit import AuditLog, audit_key
from shared.audit_checkpoints import Checkpoints, configured_signer
from shared.callbacks import CallbackPolicy
from shared.certificate_signing import configured_public_key
from shared.config import Settings, get_settings
from shared.digest import subject_digest
from shared.effects import EffectLedger
from shared.genesys import GenesysClient, TokenProvider
from shared.genesys.token_seal import token_cache_key
from shared.holds import HoldRegister
from shared.keys import Keys
from shared.models import ErasureRecord
from shared.ratelimit import BucketConfig, RateLimiter
from shared.redis_sentinel import redis_for
from shared.store import RequestStore, UnknownRequest
from shared.webhooks import CALLBACK, WebhookSender


@dataclass
class Runtime:
    settings: Settings
    redis: redis.Redis
    keys: Keys
    store: RequestStore
    audit: AuditLog
    effects: EffectLedger
    checkpoints: Checkpoints = field(init=False)
    _clients: dict[str, GenesysClient] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _http: httpx.Client | None = None
    _webhook_http: httpx.Client | None = None
    _tokens: TokenProvider | None = None
    _limiter: RateLimiter | None = None
    # How the API client's connections are made (httpx's own seam): None for the network; a test routes
    # api.<region> and login.<region> to a simulator's two ports with it.
    http_transport: httpx.BaseTransport | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        client = redis_for(settings)
        keys = Keys(settings.key_prefix)
        audit = AuditLog(client, keys, lambda: audit_key(settings.require_hmac_key()),
                         checkpoint_every=settings.audit_checkpoint_every)
        runtime = cls(settings=settings, redis=client, keys=keys, store=RequestStore(client, keys),
                      audit=audit, effects=EffectLedger(client, keys))
        audit.checkpointer = runtime.checkpoints.write
        return runtime

    def __post_init__(self) -> None:
        # Built here so a Runtime made by hand (the tests') has one too.
        self.checkpoints = Checkpoints(self.redis, self.keys, lambda: configured_signer(self.settings))

    @property
    def limiter(self) -> RateLimiter:
        with self._lock:
            if self._limiter is None:
                s = self.settings
                config = BucketConfig(rate_per_s=s.rate_per_s, burst=s.rate_burst, bulk_share=s.bulk_rate_share)
                self._limiter = RateLimiter(self.redis, self.limiter_key, config)
            return self._limiter

    @property
    def limiter_key(self) -> str:
        """The bucket is per OAuth client (the platform's limit is per token); the id is hashed."""
        client_id = self.settings.genesys_client_id or "anonymous"
        return f"{self.settings.key_prefix}:" + hashlib.sha256(client_id.encode()).hexdigest()[:16]

    def genesys(self, pool: str) -> GenesysClient:
        """The API client for one pool: the pool name is what the limiter's shares see."""
        limiter = self.limiter
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(timeout=self.settings.genesys_timeout_s, transport=self.http_transport)
                self._tokens = TokenProvider(
                    self._http, self.settings.login_base_url, self.settings.genesys_client_id,
                    self.settings.genesys_client_secret.get_secret_value(),
                    cache=self.redis, cache_prefix=self.settings.key_prefix,
                    cache_key=token_cache_key(self.settings.require_hmac_key()))
            if pool not in self._clients:
                assert self._tokens is not None
                self._clients[pool] = GenesysClient(
                    api_base_url=self.settings.api_base_url, tokens=self._tokens,
                    limiter=limiter,
                    http=self._http, pool=pool, max_block_s=self.settings.rate_max_block_s)
            return self._clients[pool]

    def holds(self) -> HoldRegister:
        return HoldRegister(self.redis, self.keys, self.settings.require_hmac_key())

    def webhooks(self) -> WebhookSender:
        with self._lock:
            if self._webhook_http is None:
                self._webhook_http = httpx.Client(timeout=self.settings.webhook_timeout_s)
        return WebhookSender(self.redis, self.keys, self.settings.require_webhook_secret(), self._webhook_http,
                             resolve=self.webhook_target_url, public_key=lambda: configured_public_key(self.settings))

    def webhook_target_names(self) -> list[str]:
        """Every target name a parked event may name now: the global targets' and ``callback``."""
        return [*self.settings.webhook_target_urls, CALLBACK]

    def webhook_target_url(self, request_id: str, name: str) -> str | None:
        """The URL a target name stands for now, whatever a record or dead letter in Redis says: a global
        target configured now, or the request's own callback URL if the current allow-list accepts it."""
        if name != CALLBACK:
            return self.settings.webhook_target_url(name)
        try:
            url = self.store.get(request_id).callback_url
        except UnknownRequest:  # a dead letter forged for a request that does not exist
            return None
        return url if url is not None and CallbackPolicy.from_settings(self.settings).allows(url) else None

    def digest(self, record: ErasureRecord) -> str:
        """The subject's keyed digest: fixed at intake, so it is the same before and after scrubbing."""
        return record.subject_digest or subject_digest(self.settings.require_hmac_key(), record.subject)


_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def get_runtime() -> Runtime:
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = Runtime.from_settings(get_settings())
        return _runtime
