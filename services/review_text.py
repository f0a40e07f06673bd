"""The approval step's text for a terminal: the scope an approval covers and the review beside it.

Counts, platform ids and dates only (never an identifier); shared by ``erasure approve`` and ``erasure status``.
The platform ids come from the platform's export: the CLI prints each line through
``services.terminal_text.visible``, so a control character in one reaches no terminal.
"""

from __future__ import annotations

from shared.identifiers import is_uuid
from shared.models import ApprovalScope, ExportReview

#: Why a review has no summary, as an approver reads it.
NO_SUMMARY = {
    "pending": "the platform is still preparing the export",
    "platform_error": "the platform's export ended in ERROR: decide on discovery's findings alone",
    "timeout": "the platform did not finish the export in time: decide on discovery's findings alone",
    "link_expired": "the export's link expired before it was read",
    "unreadable": "the export could not be read (see the worker log for the bound it broke)",
    "name_only": "only a name identifies the subject: nothing to export by without reaching namesakes",
}


def scope_line(scope: ApprovalScope) -> str:
    kinds = ", ".join(f"{n} {kind}" for kind, n in scope.identifiers.items() if n) or "no identifiers"
    return f"{kinds}; {scope.conversations} conversations ({scope.digest})"


def review_lines(review: ExportReview | None) -> list[str]:
    """The review as an approver reads it; nothing when the request has none."""
    if review is None:
        return []
    if review.summary is None:
        return [f"review before delete: {NO_SUMMARY.get(review.status, review.status)}"
                + (" [FLAGGED]" if review.flagged else "")]
    summary = review.summary
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(summary.records.items())) or "no records"
    span = (f"{summary.first_date:%Y-%m-%d} to {summary.last_date:%Y-%m-%d}"
            if summary.first_date and summary.last_date else "no dates")
    lines = [f"review before delete: the platform's export holds {kinds} in {summary.files} files; "
             f"{summary.conversations} conversations, {summary.external_contacts} external contacts, {span}",
             f"  discovery found {review.discovered_conversations} conversations"]
    if review.missed_conversation_ids:
        # Only ids of a platform id's shape are printed (a review stored before the export reader checked
        # them may hold others: escape codes must not reach the terminal).
        shown = [c for c in review.missed_conversation_ids if is_uuid(c)]
        hidden = len(review.missed_conversation_ids) - len(shown)
        lines.append(f"  [FLAGGED] {len(review.missed_conversation_ids)} conversations discovery missed (now in scope): "
                     + ", ".join(shown) + (f" ({hidden} not shown: not platform ids)" if hidden else ""))
    if summary.skipped_ids:
        lines.append(f"  [FLAGGED] {summary.skipped_ids} ids in the export are not platform ids (UUIDs): "
                     "not taken into scope, not shown")
    if review.missed_external_contacts:
        lines.append(f"  [FLAGGED] {review.missed_external_contacts} external contacts discovery missed (now in the identity)")
    if not review.flagged:
        lines.append("  the export holds nothing discovery did not find")
    return lines
