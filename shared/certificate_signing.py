"""Signing a certificate at issue, and checking one with nothing but the public key.

A certificate is signed once: ``sign`` adds its id, when it was issued, which certificate it supersedes
(an amendment), the key id and the Ed25519 signature over ``shared.signing.canonical`` of all the rest.
``verify`` is what ``erasure certificate verify`` runs: a pure function of the file's bytes and a
public key, with no Redis, platform or secret, so anyone holding the public key can run it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.config import ConfigError, Settings
from shared.models import utcnow
from shared.signing import Signer, key_id, signature_valid, strict_loads

#: The public key's file name next to certificates handed over (the demo's output folder, the page's command).
PUBLIC_KEY_FILE = "signing-key.pub.pem"

#: Fields set when a certificate is issued, not by what the request did: two certificates that differ
#: only in these state the same thing (a repeated issue keeps the first, see ``same_statement``).
ISSUE_FIELDS = frozenset({"certificate_id", "issued_at", "supersedes", "key_id", "signature",
                          "audit_position", "audit_chain_head"})


def digest(certificate: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the whole certificate as issued, its signature included: how an amendment
    names the certificate it supersedes."""
    text = json.dumps(dict(certificate), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def reference(certificate: Mapping[str, Any]) -> dict[str, Any]:
    """What an amendment's ``supersedes`` holds: the previous certificate's id and digest."""
    return {"certificate_id": certificate.get("certificate_id"), "digest": digest(certificate)}


def same_statement(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two certificates say the same about the request (their issue fields aside)."""
    return ({k: v for k, v in a.items() if k not in ISSUE_FIELDS}
            == {k: v for k, v in b.items() if k not in ISSUE_FIELDS})


def sign(signer: Signer, certificate: Mapping[str, Any], *, certificate_id: str,
         supersedes: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``certificate`` issued: its id, time of issue, the one it supersedes (None for the first), the
    key id, and the signature over all of that and the rest."""
    issued: dict[str, Any] = {**certificate, "certificate_id": certificate_id, "issued_at": utcnow().isoformat(),
                              "supersedes": dict(supersedes) if supersedes else None, "key_id": signer.key_id}
    issued.pop("signature", None)
    issued["signature"] = signer.sign(issued)
    return issued


@dataclass(frozen=True)
class Verdict:
    """``erasure certificate verify``'s answer: valid or not, and one line saying why."""

    valid: bool
    reason: str
    key_id: str | None = None


def verify(text: str | bytes, public_key: Ed25519PublicKey) -> Verdict:
    """Check a certificate file's contents against ``public_key``. Only the signed content counts:
    the same JSON re-indented still verifies, any changed value does not."""
    try:
        document = strict_loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        duplicate = str(exc).startswith("duplicate key")
        return Verdict(False, f"malformed: {exc} (a tampered file: readers disagree on its value)" if duplicate
                       else "malformed: not a JSON certificate")
    if not isinstance(document, dict):
        return Verdict(False, "malformed: not a JSON certificate")
    signature, signed_by = document.get("signature"), document.get("key_id")
    if not signature and not signed_by:
        return Verdict(False, "unsigned: the certificate carries no signature (issued before signing, or stripped)")
    if not isinstance(signature, str) or not isinstance(signed_by, str):
        return Verdict(False, "malformed: signature and key_id must both be present, as strings")
    given = key_id(public_key)
    if signed_by != given:
        return Verdict(False, f"wrong key: the certificate names key {signed_by}, the public key given is {given}",
                       signed_by)
    if not signature_valid(public_key, document, signature):
        return Verdict(False, f"tampered: the signature of {signed_by} does not match the certificate's content",
                       signed_by)
    return Verdict(True, f"valid, signed by {signed_by}", signed_by)


def configured_public_key(settings: Settings) -> Ed25519PublicKey | None:
    """The public half of the deployment's signing key, or None where none is configured (the HTTP
    intake may run without it: its certificate pages then say the signature was not checked there)."""
    try:
        return settings.require_signer().public_key
    except ConfigError:
        return None
