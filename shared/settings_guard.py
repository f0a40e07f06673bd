"""What a process checks of its configuration before it does anything: unknown ``ERASURE_*`` names, and
the settings its role cannot work without.

An unknown name is almost always a typo, and a typo silently falls back to the default: a misspelt
``ERASURE_REDIS_URI`` would send a worker to the Redis at 127.0.0.1:6379. Every unknown name is warned
about with the closest known one. One kind is refused instead of warned about: a typo of a variable that
says *where the data is* (``DANGEROUS``) while that variable itself is unset, since the process would
then read and write another store (or another deployment's keys) than the operator meant.

``check_can_start`` is what a worker (``shared.worker_checks``) and the HTTP intake check at start-up: a
bad configuration stops the process with one line naming the variable, before it takes any message or
request, instead of failing every request it touches.
"""

from __future__ import annotations

import difflib
import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, NoReturn

from dotenv import dotenv_values

from shared.config import OTHER_VARIABLES, ConfigError, Settings, env_file, load_settings

log = logging.getLogger("erasure.settings")

#: The exit status of a process refused by its configuration (the CLI's "configuration" status too).
EXIT_CONFIG = 2
PREFIX = "ERASURE_"
#: Where the data is: a typo of one of these, with the variable itself unset, is refused, not warned.
DANGEROUS = ("ERASURE_REDIS_URL", "ERASURE_REDIS_SENTINELS", "ERASURE_REDIS_SENTINEL_MASTER", "ERASURE_KEY_PREFIX")
#: How alike a name must be to a known one to be suggested (difflib's ratio).
CUTOFF = 0.8

Role = Literal["worker", "api"]


def known_variables() -> frozenset[str]:
    """Every ``ERASURE_*`` name something reads: the settings and ``OTHER_VARIABLES``."""
    return frozenset({PREFIX + name.upper() for name in Settings.model_fields} | set(OTHER_VARIABLES))


@dataclass(frozen=True)
class Unknown:
    """An ``ERASURE_*`` name nothing reads, where it was given, and the known name it most resembles."""

    name: str
    source: str
    closest: str | None

    def describe(self) -> str:
        hint = f" (did you mean {self.closest}?)" if self.closest else ""
        return f"{self.name} in the {self.source} is not a setting and is ignored{hint}"


def _given(environ: Mapping[str, str]) -> dict[str, str]:
    """The ``ERASURE_*`` names given (upper-cased: settings are read case-insensitively) and where."""
    given = {name.upper(): "environment" for name in environ if name.upper().startswith(PREFIX)}
    path = env_file(environ)
    if path is not None:
        for name in dotenv_values(path):
            if name.upper().startswith(PREFIX):
                given.setdefault(name.upper(), f"settings file {path.name}")
    return given


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[Unknown]:
    """The ``ERASURE_*`` names in the environment and the settings file that nothing reads."""
    environ = os.environ if environ is None else environ
    known = known_variables()
    unknown = []
    for name, source in sorted(_given(environ).items()):
        if name not in known:
            closest = difflib.get_close_matches(name, known, n=1, cutoff=CUTOFF)
            unknown.append(Unknown(name, source, closest[0] if closest else None))
    return unknown


def check_variables(environ: Mapping[str, str] | None = None,
                    warn: Callable[[str], None] | None = None) -> list[Unknown]:
    """Warn about every unknown ``ERASURE_*`` name (``warn``: the log by default); raise ``ConfigError``
    for a typo of a ``DANGEROUS`` variable that is itself unset. Names only: never a value."""
    environ = os.environ if environ is None else environ
    unknown = unknown_variables(environ)
    given = _given(environ)
    for entry in unknown:
        (warn or log.warning)(entry.describe())
    for entry in unknown:
        if entry.closest in DANGEROUS and entry.closest not in given:
            raise ConfigError(f"{entry.name} is not a setting: did you mean {entry.closest}? Without it this "
                              f"process would use the default {entry.closest}, another store than intended")
    return unknown


def check_can_start(role: Role, environ: Mapping[str, str] | None = None) -> Settings:
    """The settings, if a process of ``role`` can do its work with them; ``ConfigError`` naming the
    variable otherwise. A worker calls the platform, digests subjects and signs certificates; the
    intake digests subjects (and shows signatures, if a key is configured)."""
    check_variables(environ)
    settings = load_settings(environ)
    settings.require_hmac_key()
    unknown_hosts = settings.genesys_unknown_hosts()
    if unknown_hosts:  # allowed (a proxy, a new region), but the secret goes there: say so once
        named = ", ".join(f"{variable} -> {host}" for variable, host in unknown_hosts)
        log.warning("%s: not a Genesys Cloud region's host (api./login. of a domain in shared.config.REGION_DOMAINS); "
                    "the OAuth client secret and tokens are sent there", named)
    if role == "worker":
        _ = settings.api_base_url  # the region or the base URL
        settings.require_signer()
        if settings.webhook_target_urls:
            settings.require_webhook_secret()
    elif settings.signing_key.get_secret_value() or settings.signing_key_file:
        settings.require_signer()  # configured: it must be usable
    return settings


def refuse_to_start(role: str, exc: ConfigError) -> NoReturn:
    """One line on stderr naming the variable, and the configuration exit status."""
    print(f"{role} refuses to start: {exc}", file=sys.stderr, flush=True)
    raise SystemExit(EXIT_CONFIG)

