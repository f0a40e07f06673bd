"""Redis key names in one place, so that a prefix isolates deployments and tests.

Everything lives under one hash tag ``{<prefix>}`` so multi-key scripts work on Redis Cluster.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    prefix: str = "erasure"

    @property
    def _root(self) -> str:
        return "{" + self.prefix + "}"

    @property
    def all_patterns(self) -> tuple[str, ...]:
        """SCAN patterns covering every key of this prefix: its records, Celery's queues
        (``<prefix>:celery:``), the benchmarks' counters and the rate limiter's buckets and leases
        (``erasure:rl:{<prefix>:...}``). For wiping a test or benchmark prefix."""
        return (f"{self._root}*", f"{self.prefix}:celery:*", f"{self.prefix}:bench:*", f"erasure:rl:{{{self.prefix}:*")

    def request(self, request_id: str) -> str:
        return f"{self._root}:req:{request_id}"

    def request_lock(self, request_id: str) -> str:
        return f"{self._root}:lock:{request_id}"

    def ticket(self, ticket: str) -> str:
        return f"{self._root}:ticket:{ticket}"

    @property
    def requests_index(self) -> str:
        return f"{self._root}:requests"

    @property
    def request_summaries(self) -> str:
        """Hash: request id -> its light row for lists (``shared.summaries``), written with the record."""
        return f"{self._root}:summaries"

    @property
    def progress(self) -> str:
        """Sorted set: open request id -> when it last made progress (``shared.progress``)."""
        return f"{self._root}:progress"

    @property
    def watchdog_lease(self) -> str:
        """Held by the worker whose watchdog runs this interval's pass (``services.watchdog_thread``)."""
        return f"{self._root}:watchdog:lease"

    @property
    def metrics_lease(self) -> str:
        """Held by the worker that reads the store for this interval's gauges (``shared.store_gauges``)."""
        return f"{self._root}:metrics:lease"

    @property
    def metrics_snapshot(self) -> str:
        """The last gauges read from the store (JSON, counts only), served by every worker."""
        return f"{self._root}:metrics:snapshot"

    def effect(self, request_id: str, effect: str) -> str:
        return f"{self._root}:effect:{request_id}:{effect}"

    def certificate(self, request_id: str) -> str:
        """The request's current signed certificate (``shared.certificate_store``)."""
        return f"{self._root}:cert:{request_id}"

    def certificate_history(self, request_id: str) -> str:
        """List: the certificates an amendment superseded, oldest first (kept readable, never changed)."""
        return f"{self._root}:cert:{request_id}:superseded"

    def certificate_deliveries(self, request_id: str) -> str:
        """Set: the downstream targets (scheme and host) told of the certificate. Bookkeeping after issue,
        kept outside the signed certificate so that recording a delivery does not change it."""
        return f"{self._root}:cert:{request_id}:delivered"

    @property
    def audit_log(self) -> str:
        return f"{self._root}:audit:log"

    @property
    def audit_head(self) -> str:
        return f"{self._root}:audit:head"

    def audit_of_request(self, request_id: str) -> str:
        """List: the ``seq`` of each audit entry about one request, in order (``AuditLog.entries_of``)."""
        return f"{self._root}:audit:req:{request_id}"

    @property
    def audit_indexed_since(self) -> str:
        """The ``received_at`` of the first request stored by a version that indexes the audit log by request
        (``RequestStore.create`` sets it once): an older request's history is read from the whole log."""
        return f"{self._root}:audit:indexed-since"

    @property
    def audit_checkpoints(self) -> str:
        """List of signed checkpoints of the audit head (``shared.audit_checkpoints``), oldest first."""
        return f"{self._root}:audit:checkpoints"

    @property
    def audit_turn(self) -> str:
        """The token of the writer whose turn it is to append, with a lease (``shared.audit``)."""
        return f"{self._root}:audit:turn"

    @property
    def audit_baton(self) -> str:
        """List of at most one element: the next turn's token, naming the head; a waiting writer takes it (BLPOP)."""
        return f"{self._root}:audit:baton"

    def audit_done(self, head: str) -> str:
        """Set for a minute once the entry whose head is ``head`` is written: a replayed append (its reply was
        lost and the connection retried it) answers "written" instead of writing the entry again."""
        return f"{self._root}:audit:done:{head}"

    def delivery(self, task_id: str) -> str:
        return f"{self._root}:delivery:{task_id}"

    def details_job(self, fingerprint: str) -> str:
        """The async analytics job serving one batch's query, so a rescheduled task picks it up."""
        return f"{self._root}:discovery:job:{fingerprint}"

    def transcript(self, request_id: str) -> str:
        """The subject's transcripts with personal data masked: kept while the request is open, with a TTL,
        and deleted when it is final (``shared.retention``)."""
        return f"{self._root}:transcript:{request_id}"

    @property
    def scrubbed_since_rewrite(self) -> str:
        """Set by a scrub: Redis's append-only file still holds the values it overwrote (``shared.retention``)."""
        return f"{self._root}:aof:scrubbed"

    @property
    def aof_rewrite_lease(self) -> str:
        """Held for ``ERASURE_AOF_REWRITE_INTERVAL_S`` by the worker that last asked for an AOF rewrite."""
        return f"{self._root}:aof:lease"

    @property
    def holds(self) -> str:
        return f"{self._root}:holds"

    @property
    def webhook_dead_letters(self) -> str:
        return f"{self._root}:webhooks:dead"

    @property
    def webhook_delivered(self) -> str:
        return f"{self._root}:webhooks:delivered"

    @property
    def pending_gdpr(self) -> str:
        """Hash: platform GDPR request id -> our request id, for every request being polled."""
        return f"{self._root}:polling:pending"

    @property
    def sweep_scheduled(self) -> str:
        return f"{self._root}:polling:sweep-scheduled"

    @property
    def sweep_lock(self) -> str:
        return f"{self._root}:polling:sweep-lock"

    def api_key(self, key_id: str) -> str:
        """Hash: one API key of the intake (its name, scopes and SHA-256, never the key itself)."""
        return f"{self._root}:apikey:{key_id}"

    @property
    def api_key_names(self) -> str:
        """Hash: API key name -> key id, so a name is taken once and ``keys revoke NAME`` finds its key."""
        return f"{self._root}:apikey-names"

    def api_key_refusal(self, key_id: str, reason: str) -> str:
        """Set for a minute after a refusal naming ``key_id`` is audited, so a flood adds one entry a minute."""
        return f"{self._root}:apikey-refused:{key_id}:{reason}"

    def console_session(self, session_hash: str) -> str:
        """Hash: one web-console session (by the SHA-256 of its cookie, so a reader of Redis holds no cookie):
        the signed-in key's id, the CSRF token, when it began; it expires unused."""
        return f"{self._root}:console:session:{session_hash}"

    def console_sign_in_failures(self, client: str) -> str:
        """Sorted set: when each recent failed console sign-in from one client was (``client``: a keyed digest
        of its address, never the address); at most the limit's worth, expiring with the window."""
        return f"{self._root}:console:sign-in-failures:{client}"

    def console_sign_in_throttled(self, client: str) -> str:
        """Set for a minute after a throttled client's refusal is audited, so a flood adds one entry a minute."""
        return f"{self._root}:console:sign-in-throttled:{client}"

    def export_links(self, request_id: str) -> str:
        """An access request's export download links (a bearer secret), expiring with them in Redis."""
        return f"{self._root}:export-links:{request_id}"
