"""The certificate as a page a DPO reads and an auditor keeps (self-contained HTML).

The page is a view: what is signed, and what a third party checks, is the JSON (``erasure certificate
verify``). The page says which key signed it, whether the signature held against the key the renderer
was given, and the command that checks the JSON.
"""

from __future__ import annotations

import html
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.certificate_signing import PUBLIC_KEY_FILE, verify

#: Heading and legal basis by request kind (``shared.models.RequestKind``).
HEADINGS = {
    "erase": ("Erasure certificate", "GDPR Article 17"),
    "anonymise": ("Anonymisation certificate", "GDPR Article 17 (erasure by anonymisation)"),
    "access": ("Access certificate", "GDPR Article 15"),
}

VERIFY_COMMAND = "erasure certificate verify {file} --public-key " + PUBLIC_KEY_FILE

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:52rem;color:#1d2433}
h1{font-size:1.5rem;margin-bottom:.2rem} .sub{color:#5b6475;margin-top:0}
.verdict{display:inline-block;padding:.35rem .8rem;border-radius:.4rem;font-weight:600}
.ok{background:#e3f6e8;color:#17603a} .bad{background:#fde8e8;color:#9b1c1c} .warn{background:#fff4d6;color:#7a4d00}
table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #e4e7ee}
th{width:16rem;color:#5b6475;font-weight:500} code{font-size:.85em;word-break:break-all}
h2{font-size:1.1rem;margin-top:1.6rem}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _row(label: str, value: Any, code: bool = False) -> str:
    content = f"<code>{_e(value)}</code>" if code else _e(value)
    return f"<tr><th>{_e(label)}</th><td>{content}</td></tr>"


def _scope_rows(approval: dict[str, Any], superseded: list[dict[str, Any]]) -> str:
    """Which scope the approval covered (counts and digest, or "as discovered"), and approvals superseded."""
    if not approval:
        return ""
    scope = approval.get("scope")
    if isinstance(scope, dict):
        kinds = ", ".join(f"{kind.replace('_', ' ')} {n}" for kind, n in (scope.get("identifiers") or {}).items() if n)
        rows = _row("Approved scope", f"{kinds or 'no identifiers'}; conversations {scope.get('conversations', 0)}")
        rows += _row("Approved scope digest", scope.get("digest"), code=True)
    else:
        rows = _row("Approved scope", scope)
    if superseded:
        rows += _row("Approvals superseded (the scope widened after them)",
                     ", ".join(str(a.get("by")) for a in superseded))
    return rows


def _anonymised_section(block: dict[str, Any] | None) -> str:
    """An anonymise request's counts: identifiers replaced by placeholders, by kind, and conversations kept."""
    if not block:
        return ""
    rows = "".join(_row(f"Anonymised {kind.replace('_', ' ')}s", n)
                   for kind, n in (block.get("identifiers") or {}).items())
    rows += _row("Conversations kept (identifiers replaced)", block.get("conversations_kept", 0))
    return f'<h2>Anonymised</h2><table id="anonymised">{rows}</table>\n'


def _export_section(export: dict[str, Any] | None) -> str:
    """An access request's export: the platform's request, when it completed, until when its link worked."""
    if not export:
        return ""
    return (f"<h2>Exported</h2><table id=\"export\">{_row('GDPR_EXPORT request id', export.get('gdpr_request_id'), code=True)}"
            f"{_row('Export completed', export.get('completed_at'))}{_row('Archive files', export.get('files'))}"
            f"{_row('Download link valid until', export.get('link_expires_at'))}"
            f"{_row('Link expiry', 'read from the link' if export.get('link_expiry_source') == 'link' else 'assumed')}"
            "</table>")


def _review_section(review: dict[str, Any] | None) -> str:
    """Review before delete: what the platform's export held beside what discovery found."""
    if not review:
        return ""
    export = review.get("export") or {}
    records = ", ".join(f"{n} {kind}" for kind, n in sorted((export.get("records") or {}).items())) or "none"
    missed = ", ".join(review.get("missed_conversation_ids") or []) or "none"
    return (f"<h2>Reviewed before delete</h2><table id=\"review\">{_row('Review', review.get('status'))}"
            f"{_row('Export records', records)}{_row('Conversations discovery found', review.get('discovered_conversations'))}"
            f"{_row('Conversations the export added (erased with the rest)', missed, code=True)}"
            f"{_row('External contacts the export added', review.get('missed_external_contacts'))}"
            f"{_row('Flagged to the approver', 'yes' if review.get('flagged') else 'no')}</table>")


def signature_status(cert: dict[str, Any], public_key: Ed25519PublicKey | None) -> tuple[str, str]:
    """The page's verdict on the signature and its CSS class: checked against ``public_key`` when the
    renderer has one (the deployment's), else only said to be there."""
    if not cert.get("signature"):
        return "unsigned: this certificate carries no signature", "bad"
    if public_key is None:
        return f"signed by {cert.get('key_id')}; not checked here: run the command below", "warn"
    verdict = verify(json.dumps(cert), public_key)
    return verdict.reason, "ok" if verdict.valid else "bad"


def _proof_section(cert: dict[str, Any], public_key: Ed25519PublicKey | None) -> str:
    """Key id, signature status, audit position, the certificate superseded, and how to check it."""
    status, status_class = signature_status(cert, public_key)
    position = cert.get("audit_position") or {}
    supersedes = cert.get("supersedes") or {}
    replaced = (f"{supersedes.get('certificate_id')} ({supersedes.get('digest')})" if supersedes else "none (first issue)")
    command = VERIFY_COMMAND.format(file=f"{cert.get('ticket') or 'certificate'}.json")
    return (f"<h2>Signature</h2><table id=\"signature\">"
            f"<tr><th>Signature</th><td><span class=\"verdict {status_class}\" id=\"signature-status\">"
            f"{_e(status)}</span></td></tr>"
            f"<tr><th>Signing key id</th><td><code id=\"key-id\">{_e(cert.get('key_id') or 'none')}</code></td></tr>"
            f"{_row('Certificate id', cert.get('certificate_id'), code=True)}{_row('Issued', cert.get('issued_at'))}"
            f"{_row('Supersedes', replaced, code=True)}"
            f"{_row('Audit position at issue (seq)', position.get('seq'))}"
            f"{_row('Audit position at issue (hash)', position.get('hash') or cert.get('audit_chain_head'), code=True)}"
            f"<tr><th>How to verify</th><td>With the JSON certificate and the deployment's public key "
            f"(<code>erasure keys export-public</code>), no access to this system needed: "
            f"<code id=\"verify-command\">{_e(command)}</code></td></tr></table>\n")


def render_certificate_html(cert: dict[str, Any], *, public_key: Ed25519PublicKey | None = None,
                            delivered: list[str] | None = None) -> str:
    """The page of ``cert``. ``public_key`` (the deployment's) lets the page say whether the signature
    holds; ``delivered`` is the downstream bookkeeping kept beside the certificate (not signed)."""
    heading, basis = HEADINGS.get(str(cert.get("kind") or "erase"), HEADINGS["erase"])
    met = bool(cert.get("deadline_met"))
    complete = bool(cert.get("complete"))
    outcome_class = "ok" if complete and not cert.get("withheld") else ("warn" if complete else "bad")
    deadline_class = "ok" if met else "bad"
    erased = cert.get("erased") or {}
    verification = cert.get("verification") or {}
    rows_times = "".join([
        _row("Received", cert.get("received_at")),
        _row("Verified (30-day clock starts)", cert.get("verified_at")),
        _row("Submitted to the platform", cert.get("submitted_at")),
        _row("Completed", cert.get("completed_at")),
        _row("Deadline", cert.get("deadline")),
    ])
    rows_erased = "".join(_row(kind.replace("_", " ").capitalize(), count) for kind, count in erased.items())
    withheld = cert.get("withheld") or []
    rows_withheld = "".join(
        f"<tr><td>{_e(w.get('kind'))}</td><td>{_e(w.get('count'))}</td><td>{_e(w.get('basis'))}</td></tr>"
        for w in withheld) or "<tr><td colspan=3>Nothing withheld.</td></tr>"
    platform_ids = ", ".join((cert.get("platform") or {}).get("gdpr_request_ids", [])) or "none"
    remnants = ", ".join(verification.get("remnants", [])) or "none"
    notified = ", ".join(delivered or cert.get("downstream_notified") or []) or "none"
    approval = cert.get("approval") or {}
    approval_key = _row("Approving API key", approval["key_id"], code=True) if approval.get("key_id") else ""
    approval_key += _scope_rows(approval, cert.get("superseded_approvals") or [])
    names = cert.get("names") or {}
    names_sent = ("yes (the operator opted in)" if names.get("sent_to_gdpr_delete")
                  else "no (identifiers only; names were used to search)")
    anonymised = _anonymised_section(cert.get("anonymised"))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(heading)} {_e(cert.get('ticket'))}</title>
<style>{_STYLE}</style></head><body><main>
<h1 id="heading">{_e(heading)}</h1>
<p class="sub">{_e(basis)} &middot; ticket <strong id="ticket">{_e(cert.get('ticket'))}</strong></p>
<p><span class="verdict {outcome_class}" id="outcome">Outcome: {_e(cert.get('outcome'))}</span>
<span class="verdict {deadline_class}" id="deadline-verdict">{'Deadline met' if met else 'Deadline MISSED'}</span></p>
<table>{_row('Kind', cert.get('kind') or 'erase')}
{_row('Request id', cert.get('request_id'), code=True)}{_row('Subject digest', cert.get('subject_digest'), code=True)}
{_row('Approved by', (cert.get('approval') or {}).get('by'))}{approval_key}{rows_times}</table>
<h2>Erased</h2><table id="counts">{rows_erased}</table>
{anonymised}<h2>Withheld</h2><table><tr><th>Kind</th><th>Count</th><th>Legal basis</th></tr>{rows_withheld}</table>
<h2>Verification</h2><table>{_row('Result', 'passed' if verification.get('ok') else 'FAILED')}
{_row('Conversations read back', verification.get('checked_conversations'))}{_row('Remnants (by id)', remnants)}</table>
<h2>Platform and proof</h2><table>{_row('Genesys GDPR request ids', platform_ids, code=True)}
<tr><th>Names sent with the GDPR_DELETE</th><td id="names-sent">{_e(names_sent)}</td></tr>
{_row('Downstream systems notified (recorded after issue, not signed)', notified)}
{_row('Callback of this request', cert.get('callback') or 'none')}
{_row('Reason', cert.get('reason') or '')}</table>
{_export_section(cert.get('export'))}
{_review_section(cert.get('review'))}
{_proof_section(cert, public_key)}
<p class="sub">This certificate holds no personal data: the subject appears only as a keyed digest.</p>
</main></body></html>
"""
