"""One settings object, read from the environment (prefix ``ERASURE_``) and an optional ``.env`` file.

Secrets are ``SecretStr`` so that printing the settings never prints them. Every field is a row of the
README's settings table (tests/unit/test_settings_doc.py holds them equal). Variables read by something
other than ``Settings`` are listed in ``OTHER_VARIABLES``, so that an unknown ``ERASURE_*`` name (a typo)
can be told apart and warned about (``shared.settings_guard``).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from shared.errors import ErasureError
from shared.signing import Signer

#: API host of each Genesys Cloud region (SDK ``PureCloudRegionHosts``); login is ``login.<domain>``.
REGION_DOMAINS: dict[str, str] = {
    "us_east_1": "mypurecloud.com",
    "eu_west_1": "mypurecloud.ie",
    "ap_southeast_2": "mypurecloud.com.au",
    "ap_northeast_1": "mypurecloud.jp",
    "eu_central_1": "mypurecloud.de",
    "us_west_2": "usw2.pure.cloud",
    "ca_central_1": "cac1.pure.cloud",
    "ap_northeast_2": "apne2.pure.cloud",
    "eu_west_2": "euw2.pure.cloud",
    "ap_south_1": "aps1.pure.cloud",
    "us_east_2": "use2.us-gov-pure.cloud",
    "sa_east_1": "sae1.pure.cloud",
    "me_central_1": "mec1.pure.cloud",
    "ap_northeast_3": "apne3.pure.cloud",
    "eu_central_2": "euc2.pure.cloud",
    "mx_central_1": "mxc1.pure.cloud",
    "ap_southeast_1": "apse1.pure.cloud",
    "eusc_de_east_1": "edee1.eusc-pure.cloud",
}

POOLS: tuple[str, ...] = ("discovery", "redaction", "deletion", "polling")

#: Names the settings file: a dotenv file whose ``ERASURE_*`` lines are read under the environment's
#: (a variable set in the environment wins). Unset: ``.env`` in the working directory, if there is one.
ENV_FILE_VARIABLE = "ERASURE_ENV_FILE"
DEFAULT_ENV_FILE = ".env"

#: ``ERASURE_*`` variables that are not settings, and what reads them: not typos of a setting.
OTHER_VARIABLES: dict[str, str] = {
    ENV_FILE_VARIABLE: "the settings file to read (default: .env in the working directory, if present)",
    "ERASURE_BOOTSTRAP_KEY": "compose's intake entrypoint: `erasure keys create ... --from-env ERASURE_BOOTSTRAP_KEY`",
    "ERASURE_REDIS_HOSTPORT": "deploy/k8s: KEDA's Redis address for queue-length scaling, not read by the product",
    "ERASURE_TEST_REDIS_URL": "the test suite only (tests/support/stack.py): the Redis integration tests use",
    "ERASURE_BENCH_REDIS_URL": "the benchmarks only (bench/_stack.py): the Redis they use",
    "ERASURE_CI_NO_KUSTOMIZE": "CI only (.ci/run): kubectl could not be installed, the manifest render tests skip",
    "ERASURE_PII_ENGINE": "shared/pii/_compiled.py at import: `source` runs the PII engine's source, not its compiled build",
    "ERASURE_PII_COMPILE": "setup.py at install: `0` skips compiling the PII engine with mypyc",
}


class ConfigError(ErasureError, ValueError):
    """The configuration cannot work; the message names the variable to set."""


class Settings(BaseSettings):
    """Everything a process of this project needs to know, from ``ERASURE_*`` variables."""

    # hide_input_in_errors: a refused setting's error would otherwise quote every value given, secrets too.
    model_config = SettingsConfigDict(env_prefix="ERASURE_", extra="ignore", hide_input_in_errors=True)

    # Genesys Cloud: either a region (enum name like ``eu_west_1`` or a domain like ``mypurecloud.ie``)
    # or an explicit base URL (the simulator). The login host is derived like the SDK does. Both URLs carry
    # the client secret and bearer tokens: https only; plain http only to a loopback host or a host in
    # genesys_insecure_hosts (comma-separated or a JSON list of exact host names: a simulator's service name).
    genesys_region: str | None = None
    genesys_base_url: str | None = None
    genesys_login_url: str | None = None
    genesys_insecure_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    genesys_client_id: str = ""
    genesys_client_secret: SecretStr = SecretStr("")
    genesys_timeout_s: float = 30.0

    # repr=False: a URL may carry a password, a webhook path a token; neither belongs in a printed Settings.
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", repr=False)
    key_prefix: str = "erasure"

    # Redis Sentinel (high availability), instead of redis_url: a JSON list of the sentinels' "host:port"
    # and the name they monitor the master under. The store, the ledgers, the limiter and the Celery broker
    # then ask the sentinels for the master and ask again after a failover. All sentinels of the group:
    # any one that answers is enough to find the master.
    redis_sentinels: list[str] = Field(default_factory=list)
    redis_sentinel_master: str = ""
    # With sentinels only: the master's database. The sentinels' own password (their requirepass) is often a
    # different one from the master's.
    redis_db: int = 0
    # Redis's ACL user and password (or its requirepass, with no user): for the URL too, where the URL has none
    # of its own (the URL's win), so the password can come from a secret while the URL stays in a ConfigMap.
    redis_username: str = ""
    redis_password: SecretStr = SecretStr("")
    redis_sentinel_password: SecretStr = SecretStr("")
    # A ``rediss://`` URL (or ``redis_tls`` with sentinels) speaks TLS and checks the server's certificate
    # against this CA bundle (PEM; the system's CAs when unset). Client certificates (mutual TLS) are optional.
    redis_tls: bool = False
    redis_tls_ca_file: str | None = None
    redis_tls_cert_file: str | None = None
    redis_tls_key_file: str | None = None
    # With sentinels: the sentinels speak TLS too (same CA and client files). Off, their connections (and the
    # sentinel password on them) are plain: only the master's use TLS with ``redis_tls``.
    redis_sentinel_tls: bool = False

    # Keep nothing longer than needed (shared.retention). Masked transcripts expire after this many seconds
    # even if their request never ends (they are deleted when it does). After scrubs, one worker asks Redis
    # to rewrite its append-only file at most once per ``aof_rewrite_interval_s`` (0: never; then run
    # ``redis-cli BGREWRITEAOF`` from cron), so values overwritten by scrubbing leave the AOF too.
    transcript_ttl_s: int = 30 * 86400
    aof_rewrite_interval_s: float = 900.0

    # Rate budget of the OAuth client (the platform allows 300/min per client-credentials token).
    rate_per_minute: float = 300.0
    rate_burst: int = 5
    rate_max_block_s: float = 5.0
    # While interactive work asks for tokens, bulk-lane work gets at most this share of the budget; all of
    # it otherwise (issue 21, ``shared.lanes``). 1.0: no cap.
    bulk_rate_share: float = Field(default=0.8, gt=0.0, le=1.0)

    hmac_key: SecretStr = SecretStr("")
    # The Ed25519 key that signs certificates and audit checkpoints (shared.signing): a PEM in the
    # environment, or the path of a mounted file holding one. Never stored in Redis.
    signing_key: SecretStr = SecretStr("")
    signing_key_file: str | None = None
    # A signed checkpoint of the audit head every this many entries (and one with every certificate): one
    # Redis write per N appends, so a bulk run pays next to nothing; 0 leaves only the certificates' ones.
    audit_checkpoint_every: int = Field(default=1000, ge=0)
    sentry_dsn: SecretStr = SecretStr("")

    require_approval: bool = True
    default_phone_region: str | None = None
    discovery_lookback_days: int = 365
    # Longer intervals go to the async details jobs (the sync query is for short ranges).
    sync_query_max_days: int = 31
    details_job_wait_s: float = 5.0
    # Async details jobs see conversations only up to the data lake's ``dataAvailabilityDate``; the gap up
    # to now is asked with the sync query from this long before that date, because a conversation that
    # started before it and ended after it is in neither the job nor a sync query over the gap alone.
    data_lag_overlap_s: float = 86400.0
    # Recording jobs may not see recordings younger than this (the SDK: "up to 48 h" for new recordings):
    # the recordings of conversations that ended more recently are also deleted one by one.
    recording_lag_s: float = 48 * 3600.0
    identity_max_rounds: int = 4
    identity_max_identifiers: int = 40

    # Bulk: how many requests one task handles (one analytics query, one list call serve them all).
    batch_size: int = 25
    # "list": one sweep lists the platform's GDPR requests for all pending ones; "each": GET per request.
    poll_mode: Literal["list", "each"] = "list"
    # A subject with a conversation still in progress is looked at again after this long.
    active_revisit_s: float = 300.0
    # A conversation that never ends (a stuck session) must not hold a request past its deadline unseen.
    active_max_revisits: int = 288

    poll_interval_s: float = 2.0
    poll_max_interval_s: float = 60.0
    gdpr_timeout_s: float = 7 * 24 * 3600.0

    # How long work may sit with a worker before Redis hands it to another (see ``_check_redelivery``).
    # A message of a worker that died comes back after this long; a request lock lasts a task's time
    # limit, so a dead holder's locks are gone by then.
    visibility_timeout_s: int = 900
    # A task's hard time limit (the prefork pool kills it then; its soft limit comes a little earlier).
    task_time_limit_s: int = 600
    # The longest backoff between retries of a platform hiccup (with full jitter below it).
    retry_backoff_cap_s: float = 120.0

    # Downstream systems told of each final request: a JSON object of name -> URL (the names are what a
    # dead letter keeps), or a JSON list of URLs (each then named ``url-`` + 8 hex digits of its URL's
    # SHA-256, so a changed URL is a new target). https only; http only to a host in webhook_http_hosts
    # (local receivers: tests, the demo). Bodies carry no personal data and are Standard Webhooks
    # (shared.webhooks), signed with webhook_secret: ``whsec_`` + base64 of 24 to 64 random bytes (the
    # spec's form), or, as before, a plain string of at least 16 characters whose UTF-8 bytes are the key.
    webhook_targets: dict[str, str] | list[str] = Field(default_factory=list, repr=False)
    webhook_http_hosts: list[str] = Field(default_factory=list)
    webhook_secret: SecretStr = SecretStr("")
    webhook_attempts: int = 3
    webhook_timeout_s: float = 10.0
    # Per-request callback URLs (``callback_url`` at intake) are allowed only to these hosts (JSON lists;
    # an entry is a host, or ``.example.com`` for its subdomains): https to callback_hosts, http or https
    # to callback_http_hosts. Both empty: callback URLs are refused. Checked again before every send.
    callback_hosts: list[str] = Field(default_factory=list)
    callback_http_hosts: list[str] = Field(default_factory=list)

    # Deletion pool: recording jobs, retention purges.
    # The platform allows 2 recording jobs PENDING/PROCESSING per organisation; we hold one lease
    # per job from before its creation until polling sees it final (renewed while polling).
    recording_job_slots: int = 2
    # "per_request": each request deletes its conversations' recordings with its own jobs (the default).
    # "deferred": a bulk run leaves recordings to `erasure purge`, which packs up to 100 conversations
    # per job; with 2 jobs per organisation, one job per subject cannot keep up with thousands of them.
    # The request's record and certificate say the recordings were deferred.
    recordings: Literal["per_request", "deferred"] = "per_request"
    recording_lease_ttl_s: float = 300.0
    # No free slot: give the worker back and try again after this long.
    recording_slot_retry_s: float = 2.0
    # How long a deletion task waits in place for a job to become READY before handing the worker back.
    recording_ready_wait_s: float = 5.0
    recording_poll_s: float = 0.5
    # Conversations per recording DELETE job (the conversationQuery's id list).
    recording_job_batch: int = 100
    # A job not final after this long ends its request PARTIAL (it is never resubmitted blindly).
    recording_job_timeout_s: float = 24 * 3600.0

    # Retention purges run under this standing policy (its reference and a short description) instead
    # of a per-request approval; without it, `erasure purge` only does dry runs.
    retention_policy: str = ""
    # How far back a purge looks for old conversations (the async details job's interval).
    purge_lookback_days: int = 5 * 365
    purge_job_wait_s: float = 120.0

    output_dir: Path = Path("erasure-output")

    # The HTTP intake (services.intake.api). Ids (never names: a name is free again once its key is revoked)
    # of API keys trusted to send requests already
    # approved (``approved_by`` in the body): an upstream system that runs its own four-eyes check. Empty
    # (the default): ``approved_by`` in a body is refused, and a second key must approve over HTTP.
    preapprove_keys: list[str] = Field(default_factory=list)
    # The largest request body the intake reads (bytes); larger ones are refused with 413 unread.
    api_max_body_bytes: int = 64 * 1024
    # Calls one API key (principal) may make: a steady rate per minute, and a burst it may spend at once
    # (a GCRA bucket per key in Redis, shared by every API process). Past it: 429 with Retry-After.
    api_rate_per_minute: float = Field(default=600.0, gt=0)
    api_rate_burst: int = Field(default=60, ge=1)
    # The web console (services.console, under /console of the intake): how long a person's session lasts
    # without use (each page renews it), and at most after sign-in however used; and whether its cookie
    # is Secure over plain HTTP too (by default it is: behind a proxy that terminates TLS the intake sees
    # http; a request straight to a loopback host, local development, gets none). false: only over https.
    console_session_ttl_s: int = Field(default=8 * 3600, ge=60)
    console_cookie_secure: bool = True
    # Failed console sign-ins one client address may make within a sliding window (services.console.throttle);
    # past them its attempts are refused (429 with Retry-After) without the key being checked until the
    # oldest failure leaves the window. The address is uvicorn's (a trusted proxy's X-Forwarded-For only).
    console_sign_in_max_failures: int = Field(default=10, ge=1)
    console_sign_in_window_s: int = Field(default=300, ge=1, le=86400)

    # The watchdog (services.watchdog): every worker process looks this often (0: never) for requests
    # that made no progress (no write, no task taking them up) for stall_after_s, and sends them on
    # again the way `erasure resume` does, once per stall. One worker's pass runs per interval.
    watchdog_interval_s: float = 60.0
    # Longer than any wait a deferred task may have (checked below), or a request that is only
    # waiting would be sent again; by default also longer than Redis's own redelivery of a dead
    # worker's messages (the visibility timeout plus kombu's sweep), so the watchdog acts on what
    # nothing else will. Bounds how long a lost message can strand a request.
    stall_after_s: float = 1200.0
    # Anonymise (issue 17): what happens to the subject's external contacts. "delete" (the default): deleted
    # as by an erasure, since whether a GDPR_UPDATE reaches contact profiles is unconfirmed and a deletion is
    # certain and verifiable; the conversations keep a placeholder where the contact id was. "keep": left to
    # the GDPR_UPDATE, and verification then reads each contact back and counts any old email, phone or
    # identifier on it as a remnant (its first and last name stay unless erase_by_name).
    anonymise_contacts: Literal["delete", "keep"] = "delete"
    # How long the platform's GDPR_EXPORT download link is assumed valid when the link does not say (an
    # S3-style pre-signed link carries X-Amz-Date and X-Amz-Expires and is read instead). The platform
    # documents no expiry: ASSUMED, configurable.
    export_link_ttl_s: float = Field(default=24 * 3600.0, gt=0)
    # Review before delete for every erasure and anonymisation (a request can also ask for it at intake):
    # the platform's GDPR_EXPORT of the subject is read for what it holds and shown at the approval step.
    review_export: bool = False
    # The most of an export review downloads, and unpacks over all its files; larger is refused as unreadable.
    review_export_max_bytes: int = Field(default=16 * 1024 * 1024, gt=0)

    # Prometheus metrics of a worker (services.worker_metrics): its HTTP port (0: none served) and the address
    # it listens on. Unauthenticated (the metrics carry no identifier or ticket), so loopback by default: set
    # 0.0.0.0 in a container and let only Prometheus reach the port (NetworkPolicy). A prefork worker also
    # needs PROMETHEUS_MULTIPROC_DIR (prometheus-client's own variable): an empty directory of its own.
    metrics_port: int = Field(default=0, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    # How often one worker (a lease in Redis) reads the store for the gauges every worker serves (requests
    # by state, deadlines, queues, dead letters, platform jobs): one pass over the request index per interval.
    metrics_interval_s: float = Field(default=30.0, gt=0)
    # Celery task events (worker_send_task_events, task_send_sent_event), for Flower and celery-exporter.
    # Published on the broker's pub/sub and dropped when nobody listens; the intake door's arguments (the
    # subject's identifiers) are withheld from them (services.intake.tasks).
    task_events: bool = True

    @model_validator(mode="after")
    def _check_redelivery(self) -> Settings:
        """Nothing may wait with a worker longer than the visibility timeout.

        Redis has no acknowledgement timer of its own: kombu puts a message back on its queue once it
        has been unacknowledged for ``visibility_timeout_s``, whether its worker died or is still busy.
        Messages are acknowledged late (after the task), so a task running past it runs twice, and a
        message sent with a countdown (a Celery ETA task) is held unacknowledged by the worker while it
        waits: a countdown past it is handed out again, and again, while it waits. So the task time
        limit and every countdown must stay below it; the defaults also leave room for a task's run
        after its countdown (300 s + 600 s within 900 s).
        """
        limit = self.visibility_timeout_s
        waits = {"task_time_limit_s": self.task_time_limit_s, "active_revisit_s": self.active_revisit_s,
                 "poll_interval_s": self.poll_interval_s, "poll_max_interval_s": self.poll_max_interval_s,
                 "retry_backoff_cap_s": self.retry_backoff_cap_s,
                 "recording_slot_retry_s": self.recording_slot_retry_s, "details_job_wait_s": self.details_job_wait_s}
        too_long = [f"ERASURE_{name.upper()}={value:g}" for name, value in waits.items() if value >= limit]
        if too_long:
            raise ConfigError(f"ERASURE_VISIBILITY_TIMEOUT_S={limit} must be longer than {', '.join(too_long)}: "
                              "Redis hands a message out again once it has waited that long with a worker, "
                              "so a longer task or countdown would run twice; raise the visibility timeout "
                              "or lower these")
        if self.task_time_limit_s < 2:
            raise ConfigError("ERASURE_TASK_TIME_LIMIT_S must be at least 2 (seconds)")
        return self

    @property
    def task_soft_time_limit_s(self) -> int:
        """The soft limit: a tenth (at most a minute) before the hard one, so a task can fail its batch
        with a reason before it is killed."""
        return self.task_time_limit_s - max(1, min(60, self.task_time_limit_s // 10))

    @property
    def request_lock_s(self) -> int:
        """How long a request lock lives: a task's time limit, since no task (in the prefork pool) runs
        longer, so the locks of a killed holder are gone within minutes and before Redis redelivers."""
        return self.task_time_limit_s

    @model_validator(mode="after")
    def _check_region(self) -> Settings:
        region = self.genesys_region
        if region and region not in REGION_DOMAINS and region not in REGION_DOMAINS.values():
            raise ConfigError("ERASURE_GENESYS_REGION must be a region name (e.g. eu_west_1) "
                              "or domain (e.g. mypurecloud.ie)")
        return self

    @field_validator("genesys_insecure_hosts", mode="before")
    @classmethod
    def _split_insecure_hosts(cls, value: object) -> object:
        """A comma-separated list (``simulator,sim2``) or a JSON list (how ``to_environ`` writes it); each
        entry a bare host name, lower-cased: a URL or ``host:port`` would never match and only mislead."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except ValueError:
                    raise ValueError("not a JSON list nor comma-separated host names") from None
            else:
                value = [entry for entry in text.split(",") if entry.strip()]
        if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
            raise ValueError("must be host names, comma-separated (e.g. simulator) or a JSON list")
        hosts = [_canonical_host(entry.strip().lower()) for entry in value]
        if not all(_HOST_NAME.fullmatch(host) or _is_ip(host) for host in hosts):
            raise ValueError("each entry must be a bare host name (e.g. simulator): no scheme, port, path or wildcard")
        return hosts

    @model_validator(mode="after")
    def _check_genesys_urls(self) -> Settings:
        """Refuse at start-up a Genesys URL the client secret or a token would cross in clear (the message
        names the variable and at most the scheme and host: a URL may carry a password or a token)."""
        for variable, url in self._genesys_urls():
            problem = _genesys_url_problem(url, self.genesys_insecure_hosts)
            if problem:
                raise ConfigError(f"{variable} {problem}")
        return self

    def _genesys_urls(self) -> list[tuple[str, str]]:
        """The explicit Genesys URLs and the variable that sets each (a region's are https by construction)."""
        urls = []
        if self.genesys_base_url:
            urls.append(("ERASURE_GENESYS_BASE_URL", self.api_base_url))
        if self.genesys_login_url:
            urls.append(("ERASURE_GENESYS_LOGIN_URL", self.login_base_url))
        elif self.genesys_base_url:  # the token host derived from it (api. -> login.) gets the secret
            urls.append(("ERASURE_GENESYS_BASE_URL (its token host)", self.login_base_url))
        return urls

    def genesys_unknown_hosts(self) -> list[tuple[str, str]]:
        """(variable, host) of each explicit https Genesys URL whose host is no Genesys Cloud region's domain,
        nor loopback or listed in ``genesys_insecure_hosts``: allowed (a proxy), but worth a line at start."""
        unknown = []
        for variable, url in self._genesys_urls():
            host = (urlsplit(url).hostname or "").lower()
            if not (_is_region_host(host) or _is_loopback(host) or _canonical_host(host) in self.genesys_insecure_hosts):
                unknown.append((variable, host))
        return unknown

    @model_validator(mode="after")
    def _check_watchdog(self) -> Settings:
        if self.watchdog_interval_s < 0:
            raise ConfigError("ERASURE_WATCHDOG_INTERVAL_S must be 0 (watchdog off) or a positive number of seconds")
        name, longest = self.longest_deferral()
        needed = longest + self.watchdog_interval_s
        if self.stall_after_s <= needed:
            raise ConfigError(
                f"ERASURE_STALL_AFTER_S ({self.stall_after_s:g}) must be greater than {needed:g}: the longest wait "
                f"a deferred task may have ({name}, {longest:g} s) plus ERASURE_WATCHDOG_INTERVAL_S "
                f"({self.watchdog_interval_s:g} s); otherwise the watchdog re-sends requests that are only waiting")
        return self

    def longest_deferral(self) -> tuple[str, float]:
        """The longest countdown a task may give its request before it is loaded again, and what sets it."""
        waits = {
            "ERASURE_POLL_INTERVAL_S": self.poll_interval_s,
            "ERASURE_POLL_MAX_INTERVAL_S": self.poll_max_interval_s,
            "ERASURE_ACTIVE_REVISIT_S": self.active_revisit_s,
            "ERASURE_DETAILS_JOB_WAIT_S": self.details_job_wait_s,
            "ERASURE_RECORDING_SLOT_RETRY_S": self.recording_slot_retry_s,
            "2 x ERASURE_RECORDING_POLL_S": 2 * self.recording_poll_s,
            "ERASURE_RETRY_BACKOFF_CAP_S": self.retry_backoff_cap_s,
        }
        name = max(waits, key=lambda n: waits[n])
        return name, waits[name]

    @model_validator(mode="after")
    def _check_webhook_targets(self) -> Settings:
        """Refuse at start-up a target that could never be sent to (the message names no URL: it may hold a token)."""
        for name, url in self.webhook_target_urls.items():
            if not _TARGET_NAME.fullmatch(name) or name == "callback":
                raise ConfigError(f"ERASURE_WEBHOOK_TARGETS: {name[:40]!r} is not a target name (letters, digits, "
                                  "'_', '-', '.'; at most 64; 'callback' is reserved for request callbacks)")
            problem = _target_problem(url, self.webhook_http_hosts)
            if problem:
                raise ConfigError(f"ERASURE_WEBHOOK_TARGETS: target {name!r} {problem}")
        return self

    @property
    def webhook_target_urls(self) -> dict[str, str]:
        """The global webhook targets by name (see ``webhook_targets``)."""
        if isinstance(self.webhook_targets, dict):
            return dict(self.webhook_targets)
        return {"url-" + hashlib.sha256(url.encode()).hexdigest()[:8]: url for url in self.webhook_targets}

    def webhook_target_url(self, name: str) -> str | None:
        """The URL of the global target ``name`` now, if it is configured (every configured one was found
        allowed when these settings were read: ``_check_webhook_targets``); None otherwise."""
        return self.webhook_target_urls.get(name)

    @model_validator(mode="after")
    def _check_sentinels(self) -> Settings:
        if bool(self.redis_sentinels) != bool(self.redis_sentinel_master):
            raise ConfigError("ERASURE_REDIS_SENTINELS and ERASURE_REDIS_SENTINEL_MASTER go together: "
                              "set both to use Redis Sentinel, or neither to use ERASURE_REDIS_URL")
        for address in self.redis_sentinels:
            _sentinel_address(address)
        if self.redis_sentinel_tls and not self.redis_sentinels:
            raise ConfigError("ERASURE_REDIS_SENTINEL_TLS is for sentinels (ERASURE_REDIS_SENTINELS); unset it")
        if self.redis_tls and not self.redis_sentinels and not self.redis_url.startswith("rediss://"):
            raise ConfigError("ERASURE_REDIS_TLS is for sentinels; with ERASURE_REDIS_URL, TLS is its rediss:// scheme")
        return self

    @model_validator(mode="after")
    def _check_retention(self) -> Settings:
        if self.transcript_ttl_s <= 0:
            raise ConfigError("ERASURE_TRANSCRIPT_TTL_S must be a positive number of seconds")
        if self.aof_rewrite_interval_s < 0:
            raise ConfigError("ERASURE_AOF_REWRITE_INTERVAL_S must be 0 (never) or a positive number of seconds")
        return self

    @property
    def redis_uses_tls(self) -> bool:
        """TLS to Redis: a ``rediss://`` URL, or ``ERASURE_REDIS_TLS`` (with sentinels, which have no URL)."""
        return self.redis_tls or self.redis_url.startswith("rediss://")

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        """The sentinels as (host, port); empty when Redis is one URL."""
        return [_sentinel_address(address) for address in self.redis_sentinels]

    @property
    def api_base_url(self) -> str:
        """The API root, e.g. ``https://api.mypurecloud.ie`` or the simulator's URL."""
        if self.genesys_base_url:
            return self.genesys_base_url.rstrip("/")
        if not self.genesys_region:
            raise ConfigError("set ERASURE_GENESYS_REGION or ERASURE_GENESYS_BASE_URL")
        domain = REGION_DOMAINS.get(self.genesys_region, self.genesys_region)
        return f"https://api.{domain}"

    @property
    def login_base_url(self) -> str:
        """Where ``/oauth/token`` lives: ``login.<domain>`` (never ``api.<domain>``)."""
        if self.genesys_login_url:
            return self.genesys_login_url.rstrip("/")
        return self.api_base_url.replace("//api.", "//login.", 1)

    @property
    def rate_per_s(self) -> float:
        return self.rate_per_minute / 60.0

    def require_webhook_secret(self) -> bytes:
        """The key that signs webhooks, shared with downstream receivers. ``whsec_`` + base64 (the Standard
        Webhooks form: the key is the decoded bytes) or a plain string (its UTF-8 bytes; receivers then
        use ``whsec_`` + base64 of it). Never the digest key: a receiver holding that could compute the
        digest of any phone number and so unmask subjects."""
        secret = self.webhook_secret.get_secret_value()
        if secret.startswith("whsec_"):
            try:
                key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
            except ValueError:
                key = b""
            if not 24 <= len(key) <= 64:
                raise ConfigError("ERASURE_WEBHOOK_SECRET: a whsec_ secret must be whsec_ followed by the base64 of "
                                  "24 to 64 random bytes (e.g. python -c \"import base64,os; "
                                  "print('whsec_'+base64.b64encode(os.urandom(32)).decode())\")")
        elif len(secret) < 16:
            raise ConfigError("ERASURE_WEBHOOK_SECRET must be set (whsec_ + base64 of 24 to 64 random bytes, or at "
                              "least 16 characters; not the HMAC key) when ERASURE_WEBHOOK_TARGETS or callbacks are")
        else:
            key = secret.encode()
        if key == self.hmac_key.get_secret_value().encode() or secret == self.hmac_key.get_secret_value():
            raise ConfigError("ERASURE_WEBHOOK_SECRET must differ from ERASURE_HMAC_KEY")
        return key

    def to_environ(self) -> dict[str, str]:
        """These settings as ``ERASURE_*`` variables: a process started with them (a worker the demo
        starts) reads the same settings. Secrets are in clear: for a child's environment only."""
        environ: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            elif isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, list | dict):
                value = json.dumps(value)
            environ[f"ERASURE_{name.upper()}"] = str(value)
        return environ

    def require_signer(self) -> Signer:
        """The signing key from ``ERASURE_SIGNING_KEY`` or ``ERASURE_SIGNING_KEY_FILE`` (one of them)."""
        pem = self.signing_key.get_secret_value()
        if pem and self.signing_key_file:
            raise ConfigError("set ERASURE_SIGNING_KEY or ERASURE_SIGNING_KEY_FILE, not both")
        source = "ERASURE_SIGNING_KEY"
        if self.signing_key_file:
            source = "ERASURE_SIGNING_KEY_FILE"
            try:
                pem = Path(self.signing_key_file).read_text()
            except OSError as exc:
                raise ConfigError(f"ERASURE_SIGNING_KEY_FILE: cannot read the file ({exc.strerror})") from None
        if not pem:
            raise ConfigError("ERASURE_SIGNING_KEY (a PEM) or ERASURE_SIGNING_KEY_FILE must be set: certificates "
                              "and audit checkpoints are signed (erasure keys generate makes a key)")
        try:
            return Signer.from_pem(pem, source)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def require_hmac_key(self) -> bytes:
        key = self.hmac_key.get_secret_value()
        if len(key) < 16:
            raise ConfigError("ERASURE_HMAC_KEY must be set to a secret of at least 16 characters")
        return key.encode()


_TARGET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def _scheme_and_host(url: str, example: str = "") -> tuple[str, str] | str:
    """An absolute http(s) URL's scheme and lower-case host, or why it is none (naming nothing of the URL)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return "is not a valid absolute URL"
    if parts.scheme not in ("https", "http") or not host:
        return "must be an absolute https URL" + example
    return parts.scheme, host


def _target_problem(url: str, http_hosts: list[str]) -> str | None:
    """Why a global target URL may not be sent to (naming its scheme and host at most), or None."""
    split = _scheme_and_host(url)
    if isinstance(split, str):
        return split
    scheme, host = split
    if scheme == "http" and host not in {h.strip().lower() for h in http_hosts}:
        return f"must be https (http://{host} is allowed only when listed in ERASURE_WEBHOOK_HTTP_HOSTS)"
    return None


#: A bare host name or IPv4 address (an IPv6 literal is checked with ``ipaddress``).
_HOST_NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]{0,251}[a-z0-9_])?")


def _canonical_host(host: str) -> str:
    """An IP address in its one spelling (``fd00:0::1`` is ``fd00::1``), anything else as given."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1: traffic that never leaves the machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_region_host(host: str) -> bool:
    """A host of a Genesys Cloud region (``api.mypurecloud.ie``, ``login.euw2.pure.cloud``)."""
    return any(host == domain or host.endswith("." + domain) for domain in REGION_DOMAINS.values())


def _genesys_url_problem(url: str, insecure_hosts: list[str]) -> str | None:
    """Why a Genesys URL may not be used (naming its scheme and host at most), or None."""
    split = _scheme_and_host(url, " (e.g. https://api.mypurecloud.ie)")
    if isinstance(split, str):
        return split
    scheme, host = split
    if scheme == "http" and not _is_loopback(host) and _canonical_host(host) not in insecure_hosts:
        return (f"must be https: the client secret and tokens would cross the network in clear (http://{host} is "
                "allowed only to a loopback host or a host listed in ERASURE_GENESYS_INSECURE_HOSTS)")
    return None


def _sentinel_address(address: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` too) as a pair; a sentinel has no default port worth guessing."""
    host, _, port = address.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"ERASURE_REDIS_SENTINELS: {address!r} is not host:port (e.g. sentinel-1:26379)")
    return host, int(port)


def env_file(environ: Mapping[str, str] | None = None) -> Path | None:
    """The settings file this process reads: ``ERASURE_ENV_FILE`` (which must exist: a file named and
    missing is a mistake), else ``.env`` in the working directory if there is one, else none."""
    environ = os.environ if environ is None else environ
    named = environ.get(ENV_FILE_VARIABLE)
    if named:
        if not Path(named).is_file():
            raise ConfigError(f"{ENV_FILE_VARIABLE}: no such file (unset it to read ./{DEFAULT_ENV_FILE} if present)")
        return Path(named)
    default = Path(DEFAULT_ENV_FILE)
    return default if default.is_file() else None


def describe_invalid(exc: ValidationError) -> str:
    """A refused ``Settings`` as one line naming each variable, never its value: a field's own error
    gets the field's variable name in front; a cross-field check's message names its variables already."""
    problems = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        location = error.get("loc") or ()
        if location:
            message = f"ERASURE_{str(location[0]).upper()}: {message}"
        problems.append(message)
    return "; ".join(problems)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment over the settings file; ``ConfigError`` (one line, naming the
    variable) instead of pydantic's multi-line ``ValidationError`` when a value is refused."""
    try:
        # _env_file: pydantic-settings' own init parameter, which mypy sees only with pydantic's plugin.
        return Settings(_env_file=env_file(environ))  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigError(describe_invalid(exc)) from None
    except SettingsError as exc:  # a list or object that is not JSON: pydantic-settings names the field
        field = re.search(r'field "(\w+)"', str(exc))
        raise ConfigError(f"ERASURE_{field.group(1).upper() if field else '*'}: not valid JSON") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once; tests build their own ``Settings``)."""
    return load_settings()
