"""API keys of the HTTP intake: random bearer tokens, shown once, stored only as a hash.

A key reads ``ek_<key id>_<secret>``: the ``ek_`` prefix makes a leaked key recognisable to secret
scanners, the key id finds its record without searching, and the secret is ``secrets.token_urlsafe(32)``
(256 random bits). Redis keeps the key's name, scopes and the SHA-256 of the whole token. A slow password
hash (bcrypt, argon2) protects guessable passwords; a 256-bit random secret cannot be guessed from its
SHA-256, so a fast hash is enough, and it does not depend on ERASURE_HMAC_KEY (rotating that key would
otherwise invalidate every API key). Hashes are compared with ``hmac.compare_digest``.

``Principal`` is what a verified key yields: the seam where an OIDC/JWT verifier can yield the same later.

A key is either a *person's* (``kind="person"``: one human, who may sign in to the console with it) or a
service's (an upstream system such as a DSAR tool). A service key may name the person who answers for it
(``owner``): four eyes then also keeps that person from approving what the service submitted.

Four eyes by person rests on names, so they are held to one rule: each human has exactly one person key,
an ``owner`` must name a live person key when the service key is made, and names of persons compare
case-insensitively (``same_person``); a second live person key under the same name in another case is
refused. Person keys stored before that refusal may still differ only in case: ``case_duplicates`` finds
them (``erasure keys list`` flags them, the intake warns of them at start-up, by key id).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import redis

from shared.errors import ErasureError
from shared.keys import Keys
from shared.models import utcnow

TOKEN_PREFIX = "ek_"
_KEY_ID = re.compile(r"[0-9a-f]{12}")
#: A key's name, and so every approver's (an approval records a name in the audit log and the signed certificate:
#: a name of this shape cannot carry a newline or a terminal's escape code there). One rule for every door.
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}"
#: What a name must be, as an error message says it (never repeating the name refused).
NAME_RULE = "1 to 64 of letters, digits and . _ : - (starting with a letter or digit)"
_NAME = re.compile(NAME_PATTERN)
# A stand-in hash compared when the key id is unknown, so an unknown id costs the same as a wrong secret.
_NO_KEY = hashlib.sha256(b"no such key").hexdigest()


class Scope(StrEnum):
    SUBMIT = "requests:submit"
    READ = "requests:read"
    APPROVE = "requests:approve"
    # GET /metrics only: what a Prometheus scraping the intake holds (counts, never a request or identifier).
    METRICS = "metrics:read"
    # The web console: see a subject's identifier in full (each reveal is audited), keep the legal-hold
    # register, replay webhook dead letters.
    REVEAL = "identifiers:reveal"
    HOLDS = "holds:write"
    REPLAY = "webhooks:replay"
    ADMIN = "admin"  # every scope


def is_name(value: str) -> bool:
    """Whether ``value`` has a key name's shape (``NAME_PATTERN``): what an approver's name must be at every door."""
    return _NAME.fullmatch(value) is not None


class ApiKeyError(ErasureError, ValueError):
    """A key cannot be made or found as asked; the message names the field, never a secret."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key today (an OIDC subject later), by id and name, with its scopes."""

    key_id: str
    name: str
    scopes: frozenset[Scope]
    #: The person behind the key: a person key's own name, a service key's ``owner`` (None: nobody named).
    person: str | None = None
    #: Whether the key itself is a person's (only those sign in to the console).
    is_person: bool = False

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes or Scope.ADMIN in self.scopes


@dataclass(frozen=True)
class ApiKeyInfo:
    """A stored key as ``keys list`` shows it: no secret, no hash."""

    key_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: str
    revoked_at: str | None
    kind: str = "service"  # "person" | "service"
    owner: str | None = None  # a service key's person


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking a presented token: a principal, or why not (``reason`` is a metric label)."""

    principal: Principal | None
    reason: str  # ok | missing | malformed | unknown | wrong_secret | revoked
    key_id: str | None = None  # when the token named a well-formed key id (never the secret)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_key_id() -> str:
    """Twelve random hex digits with at least one letter: a key id of digits alone reads as a phone number
    to the log and audit scrubbers, which would mask the one thing that says which key was refused."""
    while True:
        key_id = secrets.token_hex(6)
        if not key_id.isdigit():
            return key_id


def split_token(token: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed token, else None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    key_id, sep, secret = token[len(TOKEN_PREFIX):].partition("_")
    if not sep or not _KEY_ID.fullmatch(key_id) or not 20 <= len(secret) <= 100:
        return None
    return key_id, secret


def parse_scopes(values: list[str]) -> frozenset[Scope]:
    scopes: set[Scope] = set()
    for value in values:
        try:
            scopes.add(Scope(value))
        except ValueError:
            raise ApiKeyError(f"scope: one of {', '.join(s.value for s in Scope)}") from None
    if not scopes:
        raise ApiKeyError("scope: give at least one scope")
    return frozenset(scopes)


def same_person(a: str | None, b: str | None) -> bool:
    """Whether two person names (a person key's name, a service key's owner) are one person: compared
    case-insensitively, so "DPO-Anna" and "dpo-anna" cannot pass four eyes as two people."""
    return a is not None and b is not None and a.casefold() == b.casefold()


def principal_of(key_id: str, stored: Mapping[Any, Any]) -> Principal:
    """The principal a stored key record stands for (its name, scopes, and the person behind it)."""
    scopes = frozenset(Scope(s) for s in json.loads(str(stored["scopes"])))
    is_person = stored.get("kind") == "person"
    name = str(stored["name"])
    person = name if is_person else (str(stored["owner"]) if stored.get("owner") else None)
    return Principal(key_id, name, scopes, person=person, is_person=is_person)


class ApiKeyStore:
    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self._r = client
        self._keys = keys

    def create(self, name: str, scopes: list[str], token: str | None = None, *, person: bool = False,
               owner: str | None = None) -> tuple[ApiKeyInfo, str]:
        """Make a key; return its record and the token, which is not stored and cannot be shown again.

        ``token``: install a key made elsewhere (a deployment's bootstrap key from its secret store)
        instead of a new random one; it must have the same shape and at least as long a secret.
        ``person``: the key is one person's own (it signs in to the console); ``owner``: the person who
        answers for a service key (four eyes keeps them from approving what it submitted)."""
        if not _NAME.fullmatch(name):
            raise ApiKeyError(f"name: {NAME_RULE}")
        if owner is not None and (person or not _NAME.fullmatch(owner)):
            raise ApiKeyError("owner: a service key's person, by the name of their key (a person key has none)")
        parsed = sorted(s.value for s in parse_scopes(scopes))
        if owner is not None:
            found = self.live_person(owner)
            if found is None:
                raise ApiKeyError("owner: no live person key by that name (create the person's key first)")
            owner = found.name
        if person and self.live_person(name) is not None:
            raise ApiKeyError("name: a live person key by this name (in any case) exists: one person key per human")
        if token is None:
            key_id = _new_key_id()
            token = f"{TOKEN_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        else:
            parts = split_token(token)
            if parts is None or len(parts[1]) < 43:
                raise ApiKeyError("token: not an API key (ek_<12 hex digits>_<at least 43 random url-safe characters>)")
            key_id = parts[0]
            if self._r.exists(self._keys.api_key(key_id)):
                raise ApiKeyError("token: a key with this id is already installed")
        created = utcnow().isoformat()
        with self._r.pipeline() as pipe:  # the name and the record in one transaction: never one without the other
            while True:
                try:
                    pipe.watch(self._keys.api_key_names)  # type: ignore[no-untyped-call]
                    if pipe.hexists(self._keys.api_key_names, name):
                        raise ApiKeyError(f"name: a key named {name!r} exists (revoke it first, or choose another name)")
                    pipe.multi()
                    pipe.hset(self._keys.api_key_names, name, key_id)
                    pipe.hset(self._keys.api_key(key_id), mapping={
                        "name": name, "scopes": json.dumps(parsed), "hash": token_hash(token), "created_at": created,
                        "kind": "person" if person else "service"})
                    if owner is not None:
                        pipe.hset(self._keys.api_key(key_id), "owner", owner)
                    pipe.execute()
                    break
                except redis.WatchError:
                    continue
        return ApiKeyInfo(key_id, name, tuple(parsed), created, None, "person" if person else "service", owner), token

    def verify(self, token: str | None) -> Verdict:
        """Check a presented token in constant time over its secret."""
        if not token:
            return Verdict(None, "missing")
        parts = split_token(token)
        if parts is None:
            hmac.compare_digest(token_hash(token), _NO_KEY)
            return Verdict(None, "malformed")
        key_id = parts[0]
        stored = self._r.hgetall(self._keys.api_key(key_id))
        expected = str(stored.get("hash", _NO_KEY))
        matches = hmac.compare_digest(token_hash(token), expected)
        if not stored:
            return Verdict(None, "unknown", key_id)
        if not matches:
            return Verdict(None, "wrong_secret", key_id)
        if stored.get("revoked_at"):
            return Verdict(None, "revoked", key_id)
        return Verdict(principal_of(key_id, stored), "ok", key_id)

    def principal(self, key_id: str) -> Principal | None:
        """The principal of a key by id, as it stands now (None once revoked or gone): a console session
        holds only the key id, so a revoked key or a scope taken away ends what its sessions can do."""
        stored = self._r.hgetall(self._keys.api_key(key_id)) if _KEY_ID.fullmatch(key_id) else {}
        if not stored or stored.get("revoked_at"):
            return None
        return principal_of(key_id, stored)

    def installed(self, name: str, token: str) -> bool:
        """Whether ``token`` is already installed, unrevoked, under ``name`` (a restart's second bootstrap)."""
        verdict = self.verify(token)
        return verdict.principal is not None and verdict.principal.name == name

    def find(self, name_or_id: str) -> ApiKeyInfo | None:
        key_id = self._r.hget(self._keys.api_key_names, name_or_id)
        key_id = str(key_id) if key_id is not None else name_or_id
        if not _KEY_ID.fullmatch(key_id):
            return None
        return self._info(key_id)

    def _info(self, key_id: str) -> ApiKeyInfo | None:
        stored = self._r.hgetall(self._keys.api_key(key_id))
        if not stored:
            return None
        return ApiKeyInfo(key_id, str(stored["name"]), tuple(json.loads(str(stored["scopes"]))),
                          str(stored["created_at"]), str(stored["revoked_at"]) if stored.get("revoked_at") else None,
                          str(stored.get("kind") or "service"), str(stored["owner"]) if stored.get("owner") else None)

    def live_person(self, name: str) -> ApiKeyInfo | None:
        """The unrevoked person key named ``name`` (compared case-insensitively), if there is one."""
        for key_name, key_id in self._r.hgetall(self._keys.api_key_names).items():
            if same_person(str(key_name), name):
                info = self._info(str(key_id))
                if info is not None and info.kind == "person" and info.revoked_at is None:
                    return info
        return None

    def case_duplicates(self) -> list[tuple[str, ...]]:
        """Ids of live person keys whose names differ only in case, a sorted group per person: keys made
        before a second person key under one name was refused. Four eyes already counts each group as one
        person (``same_person``); these say where one human may hold more than one key, to revoke all but
        one. Cheap: the names index, then the records of colliding names only."""
        by_person: dict[str, list[str]] = {}
        for key_name, key_id in self._r.hgetall(self._keys.api_key_names).items():
            by_person.setdefault(str(key_name).casefold(), []).append(str(key_id))
        groups = []
        for ids in by_person.values():
            if len(ids) < 2:
                continue
            live = sorted(key_id for key_id in ids if (info := self._info(key_id)) is not None
                          and info.kind == "person" and info.revoked_at is None)
            if len(live) > 1:
                groups.append(tuple(live))
        return sorted(groups)

    def person_of(self, key_id: str | None) -> str | None:
        """The person behind a key (its own name for a person key, its owner for a service key), if any."""
        info = self._info(key_id) if key_id and _KEY_ID.fullmatch(key_id) else None
        if info is None:
            return None
        return info.name if info.kind == "person" else info.owner

    def all(self) -> list[ApiKeyInfo]:
        """Every key, revoked ones too (their record stays for the audit trail), oldest first."""
        found = [self._info(key.rsplit(":", 1)[1]) for key in self._r.scan_iter(self._keys.api_key("*"), count=500)]
        return sorted((k for k in found if k is not None), key=lambda k: k.created_at)

    def revoke(self, name_or_id: str) -> ApiKeyInfo:
        """Revoke a key by name or id: it stops working at once; its name is free again."""
        info = self.find(name_or_id)
        if info is None:
            raise ApiKeyError("key: no key with that name or id")
        if info.revoked_at is None:
            self._r.hset(self._keys.api_key(info.key_id), "revoked_at", utcnow().isoformat())
        if self._r.hget(self._keys.api_key_names, info.name) == info.key_id:
            self._r.hdel(self._keys.api_key_names, info.name)
        return self._info(info.key_id) or info
