"""What the operator's commands do: where requests stand, certificates, legal holds, webhook dead
letters and the audit check, as functions of a ``Runtime``.

``services.cli`` parses the arguments, calls one of these and prints what it returns. Nothing here
returns or raises personal data: requests are named by ticket and id, subjects by digest.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.audit import ChainCheck, unkeyed, verify_chain
from shared.certificate_html import render_certificate_html
from shared.certificate_signing import configured_public_key
from shared.certificate_store import deliveries, superseded
from shared.deadlines import DeadlineView, deadline_view, describe
from shared.errors import ErasureError
from shared.holds import DEFAULT_BASIS, Hold
from shared.identifiers import InvalidIdentifier, normalize_email, normalize_phone
from shared.models import ErasureRecord, RequestState, utcnow
from shared.runtime import Runtime

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

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
    text: str  # the JSON as stored and signed (and printed): what a third party verifies
    delivered: list[str] = field(default_factory=list)  # downstream bookkeeping, kept beside it
    superseded: list[str] = field(default_factory=list)  # earlier certificates an amendment replaced
    public_key: Ed25519PublicKey | None = None  # the deployment's, to say on the page whether it holds

    def html(self) -> str:
        """The human-readable page of the same certificate."""
        return render_certificate_html(json.loads(self.text), public_key=self.public_key, delivered=self.delivered)


def certificate(runtime: Runtime, ticket: str) -> StoredCertificate:
    """The certificate of a request; ``NotFound`` until it is issued (at its final state)."""
    record = runtime.store.find_by_ticket(ticket)
    raw = None if record is None else runtime.redis.get(runtime.keys.certificate(record.request_id))
    if record is None or raw is None:
        raise NotFound(f"no certificate for ticket {ticket!r} (yet)")
    return StoredCertificate(str(raw), deliveries(runtime.redis, runtime.keys, record.request_id),
                             superseded(runtime.redis, runtime.keys, record.request_id),
                             configured_public_key(runtime.settings))


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
    refused: int = 0  # parked events not sent (malformed, target not allowed now, certificate missing or not verifying)
    refusals: tuple[str, ...] = ()  # one line per refused event: its id, request and why (never a URL)


def replay_webhooks(runtime: Runtime) -> Replay:
    """Send every dead-lettered event again, to the target its name stands for now, its body rebuilt from
    the request's certificate once its signature verifies; each one delivered now is recorded like a
    first-time delivery (audit entry, the certificate's delivery set). One delivered before is never sent
    twice. A dead letter is something anyone with Redis access could write, so one that is malformed,
    names a target unknown now (or a callback the allow-list no longer accepts, or, in an old entry, a URL
    that is no configured target), or whose request has no certificate or one whose signature does not
    verify is refused on its own: not sent, audited (one entry), one line in ``refusals``, left parked
    for the operator to see and drop; the others are replayed."""
    from services.polling.tasks import mark_notified
    from shared.webhooks import shown_name

    delivered = failing = 0
    refusals: list[str] = []
    for outcome in runtime.webhooks().replay(runtime.webhook_target_names()):
        entry = outcome.entry
        request_id = str(entry.get("request_id"))
        if outcome.refused is not None:
            msg_id, request_id = shown_name(str(entry.get("webhook_id") or entry.get("event_id"))), shown_name(request_id)
            runtime.audit.append("webhook.replay_refused", request_id=request_id,
                                 details={"webhook_id": msg_id, "target": shown_name(str(entry.get("target_name", ""))),
                                          "reason": outcome.refused})
            refusals.append(f"refused {msg_id} (request {request_id}): {outcome.refused}")
        elif outcome.result is not None and outcome.result.delivered:
            delivered += 1
            if not outcome.result.already and outcome.result.url is not None:
                mark_notified(runtime, request_id, outcome.result.url)
        else:
            failing += 1
    return Replay(delivered, failing, len(refusals), tuple(refusals))


def drop_dead_letter(runtime: Runtime, key: str) -> None:
    """Remove one parked event the operator will not replay (e.g. one refused for its target); audited."""
    from shared.webhooks import shown_name

    entry = runtime.webhooks().drop(key)
    if entry is None:
        raise NotFound(f"no dead letter {key!r}")
    runtime.audit.append("webhook.dead_letter_dropped", request_id=str(entry.get("request_id")),
                         details={"webhook_id": key, "target": shown_name(str(entry.get("target_name", "")))})


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
