"""The in-memory state of one simulated organisation (`OrgStore`), behind one lock.

Holds the seeded data, issued tokens, GDPR requests, recording and analytics jobs, injected faults and the
counters `/_sim/stats` reports. GDPR requests advance lazily: every access first moves due requests along
their states and applies finished deletes/updates exactly once, so no background thread is needed and
tests stay deterministic about *when* data changes (on the next request after the deadline). Requests
finish in the order they were made, so only a queue of the unfinished ones is looked at: an access costs
nothing extra however many requests the organisation has seen.

Conversations in progress (`SimConfig.active`) end `active_for_s` after seeding finished, or when
`end_active` is called (`POST /_sim/end-active`); a GDPR request made while one of them was still going on
leaves it untouched (it was not in the store yet).
"""

from __future__ import annotations

import copy
import dataclasses
import gc
import secrets
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .analytics_jobs import AnalyticsJobs
from .config import SIM_CLIENT_USER_ID, SimConfig
from .gdpr_export import ExportArchive, build_archive
from .matching import same_value
from .org_data import OrgData, apply_delete, apply_update, conversation_view, find
from .rate_window import FixedWindowLimiter
from .recording_jobs import RecordingJobs, past_jobs
from .seed import SeedData, generate, iso, shift_conversation

GDPR_TYPES = ("GDPR_EXPORT", "GDPR_UPDATE", "GDPR_DELETE")
LARGE_ORG = 1000  # subjects from which the seeded data is moved out of the GC's reach (gc.freeze)
_WORKING_STATE = {"GDPR_DELETE": "DELETING", "GDPR_UPDATE": "UPDATING", "GDPR_EXPORT": "FINALIZING"}


@dataclass
class GdprRecord:
    """One submitted GDPR request and what the simulator decided about it at submission."""

    body: dict[str, Any]  # the GDPRRequest as answered (without the moving `status`)
    created_mono: float
    will_error: bool
    matched_subject: str
    applied: bool = False
    # Conversations still in progress when the request was made: the request does not reach them.
    skip: frozenset[str] = frozenset()
    # A completed GDPR_EXPORT's archive (``gdpr_export``), taken when it completed.
    export: ExportArchive | None = None

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
        if out["requestType"] == "GDPR_EXPORT" and out["status"] == "COMPLETED" and self.export is not None:
            # A path on the simulator's host; the route handler makes it absolute (``gdpr._echoed``).
            url = self.export.url_path(out["id"])
            out["resultsUrl"] = url
            out["resultsUrls"] = [url]
        return out


@dataclass
class Fault:
    """An injected misbehaviour for the next `count` requests matching `path`/`path_prefix`/`method`.

    `until` (monotonic) bounds it in time instead of, or as well as, by uses: a fault that lasts `for_s`
    seconds (an outage, a burst while traffic is there) has `count` None and ends on the clock."""

    path: str | None
    method: str | None
    status: int | None
    count: int | None  # None: every matching request until `until`
    delay_s: float = 0.0
    drop: bool = False
    retry_after: int | None = None
    path_prefix: str | None = None  # the literal path starts with it (a whole endpoint family)
    until: float | None = None

    def live(self, now: float) -> bool:
        return (self.count is None or self.count > 0) and (self.until is None or now < self.until)

    def matches(self, method: str, template: str, path: str) -> bool:
        return (
            (self.path is None or self.path in (template, path))
            and (self.path_prefix is None or path.startswith(self.path_prefix))
            and (self.method is None or self.method.upper() == method.upper())
        )

    @property
    def kind(self) -> str:
        """What the client sees, for the counters: ``delay``, ``drop``, the status, or a combination (``delay+503``)."""
        parts = (["delay"] if self.delay_s > 0 else []) + (["drop"] if self.drop else [])
        return "+".join(parts + ([str(self.status)] if self.status is not None else []))

    def public(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "path_prefix": self.path_prefix,
            "method": self.method,
            "status": self.status,
            "count": self.count,
            "delay_s": self.delay_s,
            "drop": self.drop,
            "retry_after": self.retry_after,
            "expires_in_s": None if self.until is None else round(max(0.0, self.until - time.monotonic()), 3),
        }


@dataclass
class Stats:
    """Counters of what the platform saw."""

    requests: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    rate_limited: int = 0
    gdpr: Counter[tuple[str, str]] = field(default_factory=Counter)
    # GDPR requests decided at submission to end in ERROR: (request type, matched subject) per request.
    gdpr_errored: list[tuple[str, str]] = field(default_factory=list)
    # Answers an injected fault shaped: (method, route template, Fault.kind) -> count.
    faulted: Counter[tuple[str, str, str]] = field(default_factory=Counter)


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
    def reset(self, seed: int | None = None, subjects: int | None = None, **shape: Any) -> None:
        """Reseed the organisation, restore the startup configuration, clear requests, jobs, faults, counters
        and rate windows (issued tokens stay valid). `shape` may override other SimConfig fields for this
        seeding (e.g. linked_fraction, recycled, active, former_agents, noise_people)."""
        with self.lock:
            for f in dataclasses.fields(self._startup_config):
                setattr(self.config, f.name, getattr(self._startup_config, f.name))
            if seed is not None:
                self.config.seed = seed
            if subjects is not None:
                self.config.subjects = subjects
            for key, value in shape.items():
                setattr(self.config, key, value)
            self.limiter.limit = self.config.rate_limit
            self.limiter.window_s = self.config.rate_window_s
            cfg = self.config
            self.__dict__.pop("data", None)  # let the previous organisation go before seeding the next
            # Seeding allocates millions of small objects: with the cyclic GC on, its full collections
            # walk all of them again and again (more than half the seeding time at 10,000 subjects).
            gc_was_enabled = gc.isenabled()
            gc.disable()
            try:
                seeded: SeedData = generate(
                    cfg.subjects,
                    cfg.seed,
                    cfg.noise_people,
                    linked_fraction=cfg.linked_fraction,
                    recycled=cfg.recycled,
                    active=cfg.active,
                    active_for_s=cfg.active_for_s,
                    former_agents=cfg.former_agents,
                    typed_emails=cfg.typed_emails,
                    namesakes=cfg.namesakes,
                    mentioned_elsewhere=cfg.mentioned_elsewhere,
                )
                # In-progress conversations end active_for_s after seeding *finished*: move them to now.
                shift = datetime.now(UTC) - seeded.generated_at
                for cid in seeded.active_conversation_ids:
                    shift_conversation(seeded, cid, shift)
                self.data = OrgData.from_seed(seeded, active_until=time.monotonic() + cfg.active_for_s)
                if cfg.subjects >= LARGE_ORG:
                    # Keep later full collections from walking the organisation (it holds no cycles).
                    gc.freeze()
            finally:
                if gc_was_enabled:
                    gc.enable()
            self.gdpr: dict[str, GdprRecord] = {}
            self.gdpr_order: list[str] = []
            self.gdpr_pending: deque[str] = deque()
            self.faults: list[Fault] = []
            self.gdpr_errors_pending = 0
            self.gdpr_remnants_pending = 0
            self.recording_jobs = RecordingJobs()
            for job in past_jobs(cfg.past_recording_jobs, time.monotonic()):
                self.recording_jobs.add(job)
            self.analytics_jobs = AnalyticsJobs()
            self.data.before_change = self.analytics_jobs.before_change
            self.stats = Stats()
            self.limiter.clear()

    def _advance(self) -> None:
        """Apply every GDPR request that has reached COMPLETED and was not applied yet, oldest first."""
        now = time.monotonic()
        pending = self.gdpr_pending
        while pending:
            rec = self.gdpr[pending[0]]
            if rec.status(now, self.config.gdpr_step_s) not in ("COMPLETED", "ERROR"):
                break  # requests finish in the order they were made
            pending.popleft()
            rec.applied = True
            if rec.will_error:
                continue
            kind = rec.body["requestType"]
            if kind == "GDPR_DELETE":
                apply_delete(self.data, rec.body.get("subject") or {}, rec.skip)
            elif kind == "GDPR_UPDATE":
                apply_update(self.data, rec.body.get("replacementTerms") or [], rec.skip,
                             contacts=self.config.gdpr_update_reaches_contacts)
            elif kind == "GDPR_EXPORT":
                rec.export = ExportArchive(content=build_archive(self.data, rec.body.get("subject") or {}),
                                           completed_at=datetime.now(UTC), completed_mono=now,
                                           signature=secrets.token_urlsafe(24), ttl_s=self.config.gdpr_export_ttl_s)
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

    def end_active(self) -> list[str]:
        """End every conversation still in progress now instead of `active_for_s` after seeding, so a test
        decides when "later" is rather than racing a clock. Their recorded end moves to now (never later);
        returns the ids that were in progress."""
        with self.lock:
            now = time.monotonic()
            ended = sorted(self.data.active_now(now))
            self.data.active_until = min(self.data.active_until, now)
            wall = datetime.now(UTC)
            for cid in ended:
                end = datetime.fromisoformat(self.data.seed.conversations[cid]["conversationEnd"].replace("Z", "+00:00"))
                if end > wall:
                    self.data._changing(cid)
                    shift_conversation(self.data.seed, cid, wall - end)
            return ended

    def add_gdpr_remnants(self, count: int) -> None:
        with self.lock:
            self.gdpr_remnants_pending += count

    def _remnant_conversation(self, subject_id: str) -> str | None:
        """A messaging conversation of the subject for the remnant fault to leave untouched."""
        for truth in self.data.seed.subjects:
            if truth.id == subject_id:
                messaging = [c for c in truth.conversation_ids if c in self.data.seed.messages]
                return messaging[0] if messaging else (truth.conversation_ids[0] if truth.conversation_ids else None)
        return None

    def add_gdpr_errors(self, count: int) -> None:
        with self.lock:
            self.gdpr_errors_pending += count

    def take_fault(self, method: str, template: str, path: str) -> Fault | None:
        """Consume one use of the first live fault matching this request (by route template, literal path or
        path prefix); counted under `faulted`. Used-up and expired faults are dropped."""
        with self.lock:
            now = time.monotonic()
            for fault in self.faults:
                if fault.live(now) and fault.matches(method, template, path):
                    if fault.count is not None:
                        fault.count -= 1
                    taken = copy.copy(fault)
                    self.faults = [f for f in self.faults if f.live(now)]
                    self.stats.faulted[(method, template, taken.kind)] += 1
                    return taken
            return None

    def stats_view(self, per_subject: bool = True) -> dict[str, Any]:
        """Counters; `per_subject=False` leaves out the per-subject lists (`gdpr_requests`, and `gdpr_errored`: the
        subjects whose GDPR requests were made to end in ERROR)."""
        with self.lock:
            requests = [{"method": m, "path": p, "status": s, "count": c} for (m, p, s), c in sorted(self.stats.requests.items())]
            totals: Counter[str] = Counter()
            for (kind, _), count in self.stats.gdpr.items():
                totals[kind] += count
            now = time.monotonic()
            jobs = self.analytics_jobs
            out: dict[str, Any] = {
                "requests": requests,
                "total_requests": sum(self.stats.requests.values()),
                "rate_limited": self.stats.rate_limited,
                "gdpr_requests": [{"requestType": t, "subject": s, "count": c} for (t, s), c in sorted(self.stats.gdpr.items())],
                "gdpr_totals": dict(sorted(totals.items())),
                "gdpr_unfinished": len(self.gdpr_pending),
                "faults_pending": [f.public() for f in self.faults if f.live(now)],
                "faulted": [{"method": m, "path": p, "kind": k, "count": c}
                            for (m, p, k), c in sorted(self.stats.faulted.items())],
                "gdpr_errors_pending": self.gdpr_errors_pending,
                "analytics_jobs": {
                    "submitted": jobs.submitted,
                    "rejected": jobs.rejected,
                    "running": len(jobs.running(now)),
                    "failures_pending": jobs.failures_pending,
                },
                "active_conversations": len(self.data.active_now(now)),
            }
            if per_subject:
                out["gdpr_errored"] = [{"requestType": t, "subject": s} for t, s in self.stats.gdpr_errored]
            else:
                del out["gdpr_requests"]
            return out

    # ----------------------------------------------------------------- ground truth
    def subjects_view(self) -> list[dict[str, Any]]:
        with self.lock:
            return [s.public() for s in self.data.seed.subjects]

    def agents_view(self) -> list[dict[str, Any]]:
        """Former agents (inactive users who handled seeded conversations)."""
        with self.lock:
            return [a.public() for a in self.data.seed.former_agents]

    def find(self, values: list[str]) -> list[dict[str, Any]]:
        with self.lock:
            self._advance()
            return find(self.data, values)

    def _match_subject(self, subject: dict[str, Any]) -> str:
        """Ground-truth subject (or former agent) id whose original identifiers the GDPR subject names, or
        "unknown"; the earliest seeded one when several match."""
        wanted = [str(v) for v in (subject.get("emailAddresses") or []) + (subject.get("phoneNumbers") or []) if v]
        for key in ("externalContactId", "name", "userId"):
            if subject.get(key):
                wanted.append(str(subject[key]))
        return self.data.match_truth(wanted)

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
            now = time.monotonic()
            skip = set(self.data.active_now(now))
            if self.gdpr_remnants_pending > 0 and body["requestType"] == "GDPR_DELETE":
                # Fault: the request "completes" but misses one conversation of the subject.
                self.gdpr_remnants_pending -= 1
                missed = self._remnant_conversation(matched)
                if missed:
                    skip.add(missed)
            rec = GdprRecord(
                body=record_body,
                created_mono=now,
                will_error=will_error,
                matched_subject=matched,
                skip=frozenset(skip),
            )
            self.gdpr[rid] = rec
            self.gdpr_order.append(rid)
            self.gdpr_pending.append(rid)
            self.stats.gdpr[(body["requestType"], matched)] += 1
            if will_error:
                self.stats.gdpr_errored.append((body["requestType"], matched))
            view = rec.view(rec.created_mono, self.config.gdpr_step_s)
            view["status"] = "INITIATED"
            return view

    def get_gdpr_request(self, rid: str) -> dict[str, Any] | None:
        with self.lock:
            self._advance()
            rec = self.gdpr.get(rid)
            return rec.view(time.monotonic(), self.config.gdpr_step_s) if rec else None

    def export_archive(self, rid: str) -> ExportArchive | None:
        """The archive of a completed GDPR_EXPORT (None: no such request, or not completed)."""
        with self.lock:
            self._advance()
            rec = self.gdpr.get(rid)
            return rec.export if rec is not None else None

    def list_gdpr_requests(self, page_size: int, page_number: int) -> tuple[list[dict[str, Any]], int]:
        """One page of requests, newest first, and the total."""
        with self.lock:
            self._advance()
            now = time.monotonic()
            total = len(self.gdpr_order)
            # Newest first, without reversing the whole list.
            hi = max(0, total - (page_number - 1) * page_size)
            lo = max(0, hi - page_size)
            page = self.gdpr_order[lo:hi][::-1]
            return [self.gdpr[i].view(now, self.config.gdpr_step_s) for i in page], total

    def search_subjects(self, search_type: str, value: str) -> list[dict[str, Any]]:
        """GDPRSubject records still holding `value` under `search_type` (one per contact of a person)."""
        with self.lock:
            self._advance()
            out = []
            for rid in self.data.records_for([value]):
                record = self.data.subject_index[rid]
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
        """A copy of one conversation as the platform shows it now (an ongoing one has no end yet)."""
        with self.lock:
            self._advance()
            return conversation_view(self.data, conv_id)

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

    def contacts_by_id(self, contact_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The contacts among ``contact_ids`` that exist, copied (one lock for a bulk fetch)."""
        with self.lock:
            self._advance()
            found = self.data.seed.contacts
            return {c: copy.deepcopy(found[c]) for c in contact_ids if c in found}

    def delete_contacts(self, contact_ids: list[str]) -> set[str]:
        """Delete the contacts that exist; returns the ids that did (one lock for a bulk remove)."""
        with self.lock:
            self._advance()
            return {c for c in contact_ids if self.data.seed.contacts.pop(c, None) is not None}

    # ----------------------------------------------------------------- users
    def user(self, user_id: str) -> dict[str, Any] | None:
        with self.lock:
            self._advance()
            u = self.data.seed.users.get(user_id)
            return copy.deepcopy(u) if u else None

    def delete_user(self, user_id: str) -> bool:
        """Mark a user deleted (its personal fields go); False when there is no such live user."""
        with self.lock:
            self._advance()
            u = self.data.seed.users.get(user_id)
            if u is None or u.get("state") == "deleted":
                return False
            self.data.seed.users[user_id] = {
                "id": user_id,
                "division": u.get("division"),
                "state": "deleted",
                "version": int(u.get("version", 1)) + 1,
                "selfUri": u.get("selfUri", f"/api/v2/users/{user_id}"),
            }
            return True
