"""The legal-hold register: records that must not be deleted, with the reason and legal basis.

A hold names either a conversation (by id) or a subject (by one identifier, stored only as its
keyed digest, so the register itself holds no personal data). Holds may expire; an expired hold
no longer withholds anything, and a later run erases what it kept.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

import redis
from pydantic import BaseModel, Field

from shared.digest import digest_value
from shared.keys import Keys
from shared.models import Subject, WithheldRecord, utcnow

DEFAULT_BASIS = "Art. 17(3)(e) GDPR: establishment, exercise or defence of legal claims"
#: The ``hold`` of a record kept because the platform protects its recordings from deletion.
PLATFORM_PROTECTION = "platform:deletionprotection"
PLATFORM_PROTECTION_REASON = "recording deletion protection (legal hold) is set on the platform"


def merge_withheld(current: list[WithheldRecord], new: list[WithheldRecord]) -> list[WithheldRecord]:
    """``current`` plus the entries of ``new`` not already there (one entry per kind and id)."""
    seen = {(w.kind, w.id) for w in current}
    out = list(current)
    for entry in new:
        if (entry.kind, entry.id) not in seen:
            seen.add((entry.kind, entry.id))
            out.append(entry)
    return out


class Hold(BaseModel):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    kind: Literal["conversation", "subject"]
    target: str  # a conversation id, or the keyed digest of a subject's identifier
    reason: str
    basis: str = DEFAULT_BASIS
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None

    def active(self, now: datetime | None = None) -> bool:
        return self.expires_at is None or self.expires_at > (now or utcnow())


class HoldRegister:
    def __init__(self, client: redis.Redis, keys: Keys, hmac_key: bytes) -> None:
        self._r = client
        self._key = keys.holds
        self._hmac = hmac_key

    def add_conversation(self, conversation_id: str, reason: str, *, basis: str = DEFAULT_BASIS,
                         expires_at: datetime | None = None) -> Hold:
        return self._save(Hold(kind="conversation", target=conversation_id, reason=reason, basis=basis,
                               expires_at=expires_at))

    def add_subject(self, identifier: str, reason: str, *, basis: str = DEFAULT_BASIS,
                    expires_at: datetime | None = None) -> Hold:
        """``identifier`` must already be normalised (lower-case email, E.164 phone)."""
        return self._save(Hold(kind="subject", target=digest_value(self._hmac, identifier), reason=reason,
                               basis=basis, expires_at=expires_at))

    def _save(self, hold: Hold) -> Hold:
        self._r.hset(self._key, hold.id, hold.model_dump_json())
        return hold

    def remove(self, hold_id: str) -> bool:
        return bool(self._r.hdel(self._key, hold_id))

    def all(self) -> list[Hold]:
        return sorted((Hold.model_validate_json(str(v)) for v in self._r.hvals(self._key)),
                      key=lambda h: h.created_at)

    def active(self) -> list[Hold]:
        now = utcnow()
        return [h for h in self.all() if h.active(now)]

    def for_conversations(self, conversation_ids: Iterable[str]) -> dict[str, Hold]:
        wanted = set(conversation_ids)
        return {h.target: h for h in self.active() if h.kind == "conversation" and h.target in wanted}

    def for_subject(self, subject: Subject) -> list[Hold]:
        digests = {digest_value(self._hmac, v) for v in subject.values()}
        return [h for h in self.active() if h.kind == "subject" and h.target in digests]


def hold_summary(holds: Iterable[Hold]) -> list[dict[str, str]]:
    """How holds appear in certificates and audit: id, kind, reason, basis; never a value."""
    return [json.loads(h.model_dump_json(include={"id", "kind", "reason", "basis", "expires_at"})) for h in holds]
