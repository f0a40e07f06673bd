"""The in-memory state of one simulated organisation, behind one lock.

Holds the seeded data, issued tokens, GDPR requests, injected faults and the counters `/_sim/stats`
reports. GDPR requests advance lazily: every access first moves due requests along their states and
applies finished deletes/updates exactly once, so no background thread is needed and tests stay
deterministic about *when* data changes (on the next request after the deadline).
"""

from __future__ import annotations

import copy
import dataclasses
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .config import SIM_CLIENT_USER_ID, SimConfig
from .effects import OrgData, apply_delete, apply_update, find
from .matching import same_value
from .ratelimit import FixedWindowLimiter
from .recording_jobs import RecordingJobs
from .seed import SeedData, generate, iso

GDPR_TYPES = ("GDPR_EXPORT", "GDPR_UPDATE", "GDPR_DELETE")
_WORKING_STATE = {"GDPR_DELETE": "DELETING", "GDPR_UPDATE": "UPDATING", "GDPR_EXPORT": "FINALIZING"}


@dataclass
class GdprRecord:
    """One submitted GDPR request and what the simulator decided about it at submission."""

    body: dict[str, Any]  # the GDPRRequest as answered (without the moving `status`)
    created_mono: float
    will_error: bool
    matched_subject: str
    applied: bool = False

    def status(self, now: float, step_s: float) -> str:
        """State derived from elapsed time: INITIATED, SEARCHING, working state, then COMPLETED/ERROR."""
        steps = int((now - self.created_mono) / step_s) if step_s > 0 else 3
        if steps <= 0:
            return "INITIATED"
        if steps == 1:
            return "SEARCHING"
        if steps == 2:
            return _WORKING_STATE[self.body["requestType"]]
        return "ERROR" if self.will_error else "COMPLETED"

    def view(self, now: float, step_s: float) -> dict[str, Any]:
        out = copy.deepcopy(self.body)
        out["status"] = self.status(now, step_s)
        if out["requestType"] == "GDPR_EXPORT" and out["status"] == "COMPLETED":
            url = f"https://sim-exports.invalid/gdpr/{out['id']}/export.zip"
            out["resultsUrl"] = url
            out["resultsUrls"] = [url]
        return out


@dataclass
class Fault:
    """An injected misbehaviour for the next `count` requests matching `path`/`method`."""

    path: str | None
    method: str | None
    status: int | None
    count: int
    delay_s: float = 0.0
    drop: bool = False
    retry_after: int | None = None

    def matches(self, method: str, template: str, path: str) -> bool:
        return (self.path is None or self.path in (template, path)) and (
            self.method is None or self.method.upper() == method.upper()
        )

    def public(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "method": self.method,
            "status": self.status,
            "count": self.count,
            "delay_s": self.delay_s,
            "drop": self.drop,
            "retry_after": self.retry_after,
        }


@dataclass
class Stats:
    """Counters of what the platform saw."""

    requests: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    rate_limited: int = 0
    gdpr: Counter[tuple[str, str]] = field(default_factory=Counter)


class OrgStore:
    """Thread-safe organisation state; every public method takes the lock."""

    def __init__(self, config: SimConfig) -> None:
        # Own copies: /_sim/config and /_sim/reset change these, never the caller's object.
        self.config = dataclasses.replace(config)
        self._startup_config = dataclasses.replace(config)
        self.lock = threading.RLock()
        self.limiter = FixedWindowLimiter(config.rate_limit, config.rate_window_s)
        self.tokens: dict[str, float] = {}  # token -> monotonic expiry
        self.reset()

    # ----------------------------------------------------------------- lifecycle
    def reset(self, seed: int | None = None, subjects: int | None = None) -> None:
        """Reseed the organisation, restore the startup configuration, clear requests, faults, counters and
        rate windows (issued tokens stay valid)."""
        with self.lock:
            for f in dataclasses.fields(self._startup_config):
                setattr(self.config, f.name, getattr(self._startup_config, f.name))
            self.limiter.limit = self.config.rate_limit
            self.limiter.window_s = self.config.rate_window_s
            if seed is not None:
                self.config.seed = seed
            if subjects is not None:
                self.config.subjects = subjects
            seeded: SeedData = generate(self.config.subjects, self.config.seed, self.config.noise_people)
            self.data = OrgData.from_seed(seeded)
            self.gdpr: dict[str, GdprRecord] = {}
            self.gdpr_order: list[str] = []
            self.faults: list[Fault] = []
            self.gdpr_errors_pending = 0
            self.recording_jobs = RecordingJobs()
            self.stats = Stats()
            self.limiter.clear()

    def _advance(self) -> None:
        """Apply every GDPR request that has reached COMPLETED and was not applied yet, oldest first."""
        now = time.monotonic()
        for rid in self.gdpr_order:
            rec = self.gdpr[rid]
            if rec.applied or rec.status(now, self.config.gdpr_step_s) not in ("COMPLETED", "ERROR"):
                continue
            rec.applied = True
            if rec.will_error:
                continue
            kind = rec.body["requestType"]
            if kind == "GDPR_DELETE":
                apply_delete(self.data, rec.body.get("subject") or {})
            elif kind == "GDPR_UPDATE":
                apply_update(self.data, rec.body.get("replacementTerms") or [])
        self.recording_jobs.advance(self.data.seed.recordings, now, self.config.gdpr_step_s)

    @contextmanager
    def session(self) -> Iterator[OrgData]:
        """Hold the lock with every due GDPR request and recording job applied (for multi-step handlers)."""
        with self.lock:
            self._advance()
            yield self.data

    # ----------------------------------------------------------------- auth
    def issue_token(self) -> str:
        token = secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = time.monotonic() + self.config.token_ttl_s
        return token

    def token_valid(self, token: str) -> bool:
        with self.lock:
            expiry = self.tokens.get(token)
            return expiry is not None and time.monotonic() < expiry

    # ----------------------------------------------------------------- counters and faults
    def record_request(self, method: str, template: str, status: int) -> None:
        with self.lock:
            self.stats.requests[(method, template, status)] += 1

    def record_rate_limited(self) -> None:
        with self.lock:
            self.stats.rate_limited += 1

    def add_fault(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def add_gdpr_errors(self, count: int) -> None:
        with self.lock:
            self.gdpr_errors_pending += count

    def take_fault(self, method: str, template: str, path: str) -> Fault | None:
        """Consume one use of the first fault matching this request (by route template or literal path)."""
        with self.lock:
            for fault in self.faults:
                if fault.count > 0 and fault.matches(method, template, path):
                    fault.count -= 1
                    taken = copy.copy(fault)
                    self.faults = [f for f in self.faults if f.count > 0]
                    return taken
            return None

    def stats_view(self) -> dict[str, Any]:
        with self.lock:
            requests = [{"method": m, "path": p, "status": s, "count": c} for (m, p, s), c in sorted(self.stats.requests.items())]
            return {
                "requests": requests,
                "total_requests": sum(self.stats.requests.values()),
                "rate_limited": self.stats.rate_limited,
                "gdpr_requests": [{"requestType": t, "subject": s, "count": c} for (t, s), c in sorted(self.stats.gdpr.items())],
                "faults_pending": [f.public() for f in self.faults],
                "gdpr_errors_pending": self.gdpr_errors_pending,
            }

    # ----------------------------------------------------------------- ground truth
    def subjects_view(self) -> list[dict[str, Any]]:
        with self.lock:
            return [s.public() for s in self.data.seed.subjects]

    def find(self, values: list[str]) -> list[dict[str, Any]]:
        with self.lock:
            self._advance()
            return find(self.data, values)

    def _match_subject(self, subject: dict[str, Any]) -> str:
        """Seeded subject id whose original identifiers the GDPR subject names, or "unknown"."""
        wanted = [str(v) for v in (subject.get("emailAddresses") or []) + (subject.get("phoneNumbers") or [])]
        for key in ("externalContactId", "name"):
            if subject.get(key):
                wanted.append(str(subject[key]))
        for truth in self.data.seed.subjects:
            known = [*truth.emails, *truth.phones, truth.external_contact_id, truth.name]
            if any(same_value(k, w) for k in known for w in wanted):
                return truth.id
        return "unknown"

    # ----------------------------------------------------------------- GDPR
    def create_gdpr_request(self, body: dict[str, Any], client_id: str) -> dict[str, Any]:
        """Register a validated GDPRRequest body; answers it in state INITIATED."""
        with self.lock:
            self._advance()
            rid = str(uuid.uuid4())
            record_body: dict[str, Any] = {
                "id": rid,
                "createdBy": {"id": SIM_CLIENT_USER_ID, "name": client_id, "selfUri": f"/api/v2/users/{SIM_CLIENT_USER_ID}"},
                "requestType": body["requestType"],
                "subject": copy.deepcopy(body["subject"]),
                "createdDate": iso(datetime.now(UTC)),
                "selfUri": f"/api/v2/gdpr/requests/{rid}",
            }
            if body.get("name") is not None:
                record_body["name"] = body["name"]
            if body.get("replacementTerms"):
                record_body["replacementTerms"] = copy.deepcopy(body["replacementTerms"])
            will_error = self.gdpr_errors_pending > 0
            if will_error:
                self.gdpr_errors_pending -= 1
            matched = self._match_subject(body["subject"])
            rec = GdprRecord(body=record_body, created_mono=time.monotonic(), will_error=will_error, matched_subject=matched)
            self.gdpr[rid] = rec
            self.gdpr_order.append(rid)
            self.stats.gdpr[(body["requestType"], matched)] += 1
            view = rec.view(rec.created_mono, self.config.gdpr_step_s)
            view["status"] = "INITIATED"
            return view

    def get_gdpr_request(self, rid: str) -> dict[str, Any] | None:
        with self.lock:
            self._advance()
            rec = self.gdpr.get(rid)
            return rec.view(time.monotonic(), self.config.gdpr_step_s) if rec else None

    def list_gdpr_requests(self, page_size: int, page_number: int) -> tuple[list[dict[str, Any]], int]:
        """One page of requests, newest first, and the total."""
        with self.lock:
            self._advance()
            now = time.monotonic()
            ids = list(reversed(self.gdpr_order))
            page = ids[(page_number - 1) * page_size : page_number * page_size]
            return [self.gdpr[i].view(now, self.config.gdpr_step_s) for i in page], len(ids)

    def search_subjects(self, search_type: str, value: str) -> list[dict[str, Any]]:
        """GDPRSubject records of every subject still holding `value` under `search_type`."""
        with self.lock:
            self._advance()
            out = []
            for record in self.data.subject_index.values():
                if search_type == "EMAIL":
                    hit = any(same_value(e, value) for e in record["emailAddresses"])
                elif search_type == "PHONE":
                    hit = any(same_value(p, value) for p in record["phoneNumbers"])
                elif search_type == "NAME":
                    hit = bool(record["name"]) and record["name"].strip().lower() == value.strip().lower()
                elif search_type == "EXTERNAL_ID":
                    hit = same_value(record.get("externalContactId"), value)
                elif search_type == "ADDRESS":
                    hit = any(same_value(a, value) for a in record["addresses"])
                else:
                    hit = False  # social handles: the seed has none
                if hit:
                    out.append({k: v for k, v in copy.deepcopy(record).items() if v not in (None, [])})
            return out

    # ----------------------------------------------------------------- analytics and conversations
    def conversations(self) -> list[dict[str, Any]]:
        """Deep copies of all conversations (analytics shape)."""
        with self.lock:
            self._advance()
            return copy.deepcopy(list(self.data.seed.conversations.values()))

    def conversation(self, conv_id: str) -> dict[str, Any] | None:
        with self.lock:
            self._advance()
            conv = self.data.seed.conversations.get(conv_id)
            return copy.deepcopy(conv) if conv else None

    def messages(self, conv_id: str) -> list[Any] | None:
        """Copies of a messaging conversation's messages, or None when it has none."""
        with self.lock:
            self._advance()
            msgs = self.data.seed.messages.get(conv_id)
            return copy.deepcopy(msgs) if msgs is not None else None

    # ----------------------------------------------------------------- external contacts
    def contacts(self) -> list[dict[str, Any]]:
        with self.lock:
            self._advance()
            return copy.deepcopy(list(self.data.seed.contacts.values()))

    def contact(self, contact_id: str) -> dict[str, Any] | None:
        with self.lock:
            self._advance()
            c = self.data.seed.contacts.get(contact_id)
            return copy.deepcopy(c) if c else None

    def delete_contact(self, contact_id: str) -> bool:
        with self.lock:
            self._advance()
            return self.data.seed.contacts.pop(contact_id, None) is not None
