"""What the operator's commands do: where requests stand, certificates, the watchdog and the audit check,
as functions of a ``Runtime`` (legal holds and webhook dead letters: ``services.registers``).

``services.cli`` parses the arguments, calls one of these and prints what it returns. Nothing here
returns or raises personal data: requests are named by ticket and id, subjects by digest.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

# Legal holds and dead letters live in ``services.registers`` (the console calls them too, and it must not
# reach the pools through this module).
from services.registers import NotFound
from shared.audit import ChainCheck, unkeyed, verify_chain
from shared.certificate_html import render_certificate_html
from shared.certificate_signing import configured_public_key
from shared.certificate_store import deliveries, superseded
from shared.deadlines import DeadlineView, deadline_view, describe
from shared.models import ErasureRecord, RequestState, utcnow
from shared.runtime import Runtime

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from services.watchdog import WatchReport


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
