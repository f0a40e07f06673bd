"""What must not be deleted: the legal-hold register and the platform's recording deletion protection.

Both are read immediately before a deletion is submitted (``withhold``). A held conversation keeps
its recordings; it is reported as a ``WithheldRecord`` with the hold's id, reason and legal basis,
never with personal data. A subject-level hold keeps the whole erasure back (``subject_withheld``).
"""

from __future__ import annotations

from shared.free_text import without_the_subject as masked
from shared.genesys import GenesysClient
from shared.holds import DEFAULT_BASIS, PLATFORM_PROTECTION, PLATFORM_PROTECTION_REASON
from shared.models import ErasureRecord, WithheldRecord
from shared.runtime import Runtime


def withhold(runtime: Runtime, client: GenesysClient, conversation_ids: list[str],
             record: ErasureRecord | None = None) -> tuple[list[str], list[WithheldRecord]]:
    """Split conversations into (erasable, withheld): register holds first, then the platform's protection.
    For a request's own conversations (``record``), the holds' texts are kept without the subject in them."""
    ids = list(dict.fromkeys(conversation_ids))
    held = runtime.holds().for_conversations(ids)
    rest = [c for c in ids if c not in held]
    protected = client.protected_conversations(rest) if rest else set()
    withheld = [WithheldRecord(kind="conversation", id=c, hold=h.id, reason=h.reason, basis=h.basis)
                for c in ids if (h := held.get(c)) is not None]
    withheld += [WithheldRecord(kind="conversation", id=c, hold=PLATFORM_PROTECTION,
                                reason=PLATFORM_PROTECTION_REASON, basis=DEFAULT_BASIS)
                 for c in rest if c in protected]
    if record is not None:
        withheld = without_the_subject(withheld, record)
    return [c for c in rest if c not in protected], withheld


def subject_withheld(runtime: Runtime, record: ErasureRecord) -> list[WithheldRecord]:
    """Holds on the subject itself (by any of its identifiers): the whole erasure waits for them."""
    if record.scrubbed:
        return []
    return without_the_subject([WithheldRecord(kind="subject", hold=h.id, reason=h.reason, basis=h.basis)
                                for h in runtime.holds().for_subject(record.effective_identity)], record)


def without_the_subject(entries: list[WithheldRecord], record: ErasureRecord) -> list[WithheldRecord]:
    """The entries with the subject masked in their reason and basis (``shared.free_text.without_the_subject``):
    a hold's text is typed by a person ("Jane Doe v. ACME"), the register's scrub cannot know a name, and the
    request's entries outlive its scrub (the record's reason, the certificate)."""
    identity = record.effective_identity
    return [entry.model_copy(update={"reason": masked(entry.reason, identity), "basis": masked(entry.basis, identity)})
            for entry in entries]


def hold_reason(entries: list[WithheldRecord]) -> str:
    """The request's reason while a subject-level hold keeps it back (ids and bases only)."""
    holds = "; ".join(f"hold {w.hold}: {w.reason} ({w.basis})" for w in entries)
    return (f"erasure withheld under legal hold ({holds}); it runs once the hold is removed or expires: "
            "run `erasure release-held`")

