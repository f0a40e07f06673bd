"""What the operator's commands do: where requests stand, certificates, legal holds, webhook dead
letters and the audit check, as functions of a ``Runtime``.

``services.cli`` parses the arguments, calls one of these and prints what it returns. Nothing here
returns or raises personal data: requests are named by ticket and id, subjects by digest.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.audit import ChainCheck, unkeyed, verify_chain
from shared.certificate_html import render_certificate_html
from shared.deadlines import DeadlineView, deadline_view, describe
from shared.errors import ErasureError
from shared.holds import DEFAULT_BASIS, Hold
from shared.identifiers import InvalidIdentifier, normalize_email, normalize_phone
from shared.models import ErasureRecord, RequestState, utcnow
from shared.runtime import Runtime

if TYPE_CHECKING:
    from services.watchdog import WatchReport


class NotFound(ErasureError, LookupError):
    """What the operator named does not exist (yet); the message says what was looked for."""


class Refused(ErasureError, ValueError):
    """The operation cannot be done as asked; the message names the field, never its value."""


# --- where requests stand ---------------------------------------------------------------------------

@dataclass(frozen=True)
class StatusReport:
    records: list[ErasureRecord]
    now: datetime

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(ticket, state, deadline, reason) per request: open ones first, then by deadline."""
        ordered = sorted(self.records, key=lambda r: (r.state.is_final, r.deadline))
        return [(r.ticket, r.state.value, describe(r, self.now), r.reason or "") for r in ordered]

    def counts(self) -> list[tuple[RequestState, int]]:
        """Requests per state, in the order a request moves through them; states with none left out."""
        counts = Counter(record.state for record in self.records)
        return [(state, counts[state]) for state in RequestState if counts[state]]

    def deadlines(self) -> DeadlineView:
        return deadline_view(self.records, self.now)


def status(runtime: Runtime, ticket: str | None = None, now: datetime | None = None) -> StatusReport:
    """One request by ticket, or every request."""
    if ticket:
        found = runtime.store.find_by_ticket(ticket)
        if found is None:
            raise NotFound(f"no request with ticket {ticket!r}")
        records = [found]
    else:
        records = list(runtime.store.iter_records())
    return StatusReport(records, now or utcnow())


# --- certificates ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StoredCertificate:
    text: str  # the JSON as stored (and printed)

    def html(self) -> str:
        """The human-readable page of the same certificate."""
        return render_certificate_html(json.loads(self.text))


def certificate(runtime: Runtime, ticket: str) -> StoredCertificate:
    """The certificate of a request; ``NotFound`` until it is issued (at its final state)."""
    record = runtime.store.find_by_ticket(ticket)
    raw = None if record is None else runtime.redis.get(runtime.keys.certificate(record.request_id))
    if raw is None:
        raise NotFound(f"no certificate for ticket {ticket!r} (yet)")
    return StoredCertificate(str(raw))


# --- legal holds -------------------------------------------------------------------------------------

def add_hold(runtime: Runtime, reason: str, *, conversation: str | None = None, email: str | None = None,
             phone: str | None = None, basis: str | None = None, expires_at: datetime | None = None) -> Hold:
    """Hold one conversation, or one subject by one identifier (the register keeps only its keyed
    digest), and say so in the audit log."""
    if len([v for v in (conversation, email, phone) if v]) != 1:
        raise Refused("give exactly one of conversation, email, phone")
    holds = runtime.holds()
    if conversation:
        hold = holds.add_conversation(conversation, reason, basis=basis or DEFAULT_BASIS, expires_at=expires_at)
    else:
        try:
            value = normalize_email(email) if email else normalize_phone(str(phone))
        except InvalidIdentifier as exc:
            raise Refused(f"{'email' if email else 'phone'}: {exc}") from None
        hold = holds.add_subject(value, reason, basis=basis or DEFAULT_BASIS, expires_at=expires_at)
    runtime.audit.append("hold.added", details={"hold": hold.id, "kind": hold.kind, "reason": reason})
    return hold


def remove_hold(runtime: Runtime, hold_id: str) -> None:
    """Lift a hold (the next run erases what it kept) and say so in the audit log."""
    if not runtime.holds().remove(hold_id):
        raise NotFound(f"no hold {hold_id!r}")
    runtime.audit.append("hold.removed", details={"hold": hold_id})


def list_holds(runtime: Runtime) -> list[Hold]:
    """Every hold, active or expired, oldest first."""
    return runtime.holds().all()


# --- webhooks ----------------------------------------------------------------------------------------

def dead_letters(runtime: Runtime) -> list[dict[str, Any]]:
    """Events no downstream target took after every attempt."""
    return runtime.webhooks().dead_letters()


@dataclass(frozen=True)
class Replay:
    delivered: int
    failing: int
    refused: int = 0  # parked events whose target is not allowed now (not sent; left parked)


def replay_webhooks(runtime: Runtime) -> Replay:
    """Send every dead-lettered event again; each one delivered now is recorded like a first-time
    delivery (audit entry, certificate's ``downstream_notified``). One delivered before is never sent twice.
    An event whose target is neither a configured global target nor a callback the allow-list accepts
    now (a dead letter anyone with Redis access could have written) is refused and audited, by host."""
    from services.polling.tasks import mark_notified
    from shared.webhooks import target_label

    sender = runtime.webhooks()
    before = {e["event_id"]: e for e in sender.dead_letters()}
    counts = sender.replay()
    remaining = {e["event_id"] for e in sender.dead_letters()}
    for event_id, entry in before.items():
        if event_id not in remaining:
            mark_notified(runtime, entry["request_id"], entry["target"])
        elif not runtime.webhook_target_allowed(str(entry["target"])):
            runtime.audit.append("webhook.replay_refused", request_id=str(entry["request_id"]),
                                 details={"target": target_label(str(entry["target"]))})
    return Replay(counts.delivered, counts.failing, counts.refused)


# --- the watchdog -------------------------------------------------------------------------------------

def watchdog_pass(runtime: Runtime) -> WatchReport:
    """One watchdog pass now (the workers run one every ``watchdog_interval_s``): counts only."""
    from services.watchdog import watch_once

    return watch_once(runtime)


# --- the audit log -----------------------------------------------------------------------------------

def verify_stored_audit(runtime: Runtime) -> ChainCheck:
    """The log in Redis: its keyed hash chain, ending at the stored head (``services.audit_check`` adds
    the checkpoints and certificates)."""
    return runtime.audit.verify()


def verify_exported_audit(path: Path, head: str | None = None, *, key: bytes) -> ChainCheck:
    """An exported ``audit.jsonl``: its keyed hash chain, and (given the stored head) that nothing was cut
    off the end. ``key``: the audit key (``shared.audit.audit_key``)."""
    entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return ChainCheck(len(entries), verify_chain(entries, head=head, key=key), unkeyed(entries))
