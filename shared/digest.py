"""Keyed digests: how a subject appears anywhere this system writes (audit, certificates, metrics).

A digest is an HMAC-SHA256 under the deployment's secret key, so it cannot be reversed by
hashing guessed emails without the key, yet the same identifier always gives the same digest.
"""

from __future__ import annotations

import hashlib
import hmac

from shared.models import Subject


def digest_value(key: bytes, value: str) -> str:
    return "hmac-sha256:" + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def subject_digest(key: bytes, subject: Subject) -> str:
    """One digest for the subject as submitted: order of identifiers does not matter."""
    canonical = "\x1f".join(sorted(subject.values()))
    return digest_value(key, canonical)
