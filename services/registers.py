"""The registers an operator or the DPO keeps by hand: legal holds, and webhook dead letters (list, replay,
drop). One code path for the CLI (through ``services.operations``) and the web console.

Nothing here imports a pool: the console is served by the intake, which must not reach them. Nothing
returns or raises personal data: a subject hold keeps only a keyed digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from shared.errors import ErasureError
from shared.free_text import one_line
from shared.holds import DEFAULT_BASIS, Hold
from shared.identifiers import InvalidIdentifier, normalize_conversation_id, normalize_email, normalize_phone
from shared.models import utcnow
from shared.notified import mark_notified
from shared.pii.engine import scrub
from shared.runtime import Runtime

#: The longest free text (a hold's reason, basis, or why it was lifted) the register and audit log keep.
MAX_TEXT = 300


def clean_text(text: str | None) -> str | None:
    """Free text typed by an operator as the register and the hash-chained audit log may keep it: any
    identifier in it replaced by its type token (the scrubber reject reasons go through), on one line with
    no control or format character (``shared.free_text``: it is printed to terminals and sent on), at most
    ``MAX_TEXT`` characters. Both doors (CLI and console) come through here."""
    if text is None:
        return None
    # one_line again after the scrub: it decodes percent-encoding, which could bring a %0A or %1B back.
    return one_line(scrub(one_line(text).strip()))[:MAX_TEXT].strip()


class NotFound(ErasureError, LookupError):
    """What the operator named does not exist (yet); the message says what was looked for."""


class Refused(ErasureError, ValueError):
    """The operation cannot be done as asked; the message names the field, never its value."""


# --- legal holds -------------------------------------------------------------------------------------

def parse_expiry(text: str) -> datetime:
    """When a hold typed as ISO text ends, in UTC: a date alone means the end of that day (UTC), a time
    without an offset is UTC, one with an offset is converted (never relabelled)."""
    text = text.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time.max, tzinfo=UTC)
        when = datetime.fromisoformat(text)
    except ValueError:
        raise Refused("expires: an ISO date (YYYY-MM-DD) or date and time") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def add_hold(runtime: Runtime, reason: str, *, conversation: str | None = None, email: str | None = None,
             phone: str | None = None, basis: str | None = None, expires_at: datetime | None = None,
             by: str = "cli", key_id: str | None = None) -> Hold:
    """Hold one conversation, or one subject by one identifier (the register keeps only its keyed
    digest), and say so in the audit log with who did it (``by``: a console key's name with its
    ``key_id``, or "cli" for the operator door)."""
    if len([v for v in (conversation, email, phone) if v]) != 1:
        raise Refused("give exactly one of conversation, email, phone")
    reason, basis = clean_text(reason) or "", clean_text(basis)
    if not reason:
        raise Refused("reason: say why the records are held")
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= utcnow()):
        raise Refused("expires: a moment in the future, with its offset")
    holds = runtime.holds()
    if conversation:
        try:
            conversation = normalize_conversation_id(conversation)
        except InvalidIdentifier as exc:
            raise Refused(f"conversation: {exc}") from None
        hold = holds.add_conversation(conversation, reason, basis=basis or DEFAULT_BASIS, expires_at=expires_at)
    else:
        try:
            value = normalize_email(email) if email else normalize_phone(str(phone))
        except InvalidIdentifier as exc:
            raise Refused(f"{'email' if email else 'phone'}: {exc}") from None
        hold = holds.add_subject(value, reason, basis=basis or DEFAULT_BASIS, expires_at=expires_at)
    runtime.audit.append("hold.added", details={"hold": hold.id, "kind": hold.kind, "reason": reason,
                                                **_actor(by, key_id)})
    return hold


def remove_hold(runtime: Runtime, hold_id: str, reason: str | None = None, *, by: str = "cli",
                key_id: str | None = None) -> None:
    """Lift a hold (the next run erases what it kept) and say so in the audit log, with why when given
    and who did it."""
    reason = clean_text(reason)
    if not runtime.holds().remove(hold_id):
        raise NotFound(f"no hold {hold_id!r}")
    details: dict[str, Any] = {"hold": hold_id} if reason is None else {"hold": hold_id, "reason": reason}
    details.update(_actor(by, key_id))
    runtime.audit.append("hold.removed", details=details)


def _actor(by: str, key_id: str | None) -> dict[str, str]:
    """Who changed the register, for its audit entry: the console key's name and id, or the CLI."""
    return {"by": by} if key_id is None else {"by": by, "key_id": key_id}


def list_holds(runtime: Runtime) -> list[Hold]:
    """Every hold, active or expired, oldest first."""
    return runtime.holds().all()


# --- webhooks ----------------------------------------------------------------------------------------

def dead_letters(runtime: Runtime) -> list[dict[str, Any]]:
    """Events no downstream target took after every attempt."""
    from shared.webhooks import parked_letters

    return [parked.shown() for parked in parked_letters(runtime.redis, runtime.keys)]


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


