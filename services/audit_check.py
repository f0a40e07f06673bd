"""``erasure audit verify`` and ``erasure audit export``: the chain checked against its anchors.

Three places hold the log: Redis (with its stored head and signed checkpoints), an ``audit.jsonl`` file
(the demo's output) and an export directory (segments with signed manifests, ``shared.audit_export``).
Each is checked for its chain, and against every anchor at hand: the checkpoints, the manifests' last
entries, and the audit positions of the certificates in ``--certificates DIR``. What this returns names
entries by seq and certificates by file name, never a subject.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.audit import audit_key, unkeyed, verify_chain
from shared.audit_checkpoints import Anchor, anchor_problems, certificate_anchor, checkpoint_problem, configured_signer
from shared.audit_export import Export, export_entries, verify_export
from shared.config import Settings
from shared.runtime import Runtime
from shared.signing import key_id, load_public_key, strict_loads


@dataclass
class AuditReport:
    """What a check found: problems (empty when the log holds) and what it checked, in counts."""

    entries: int = 0
    unkeyed: int = 0
    checkpoints: int = 0
    certificates: int = 0
    manifests: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def public_keys(settings: Settings, pem_files: Sequence[Path]) -> dict[str, Ed25519PublicKey]:
    """The keys signatures are checked with, by key id: the ``--public-key`` files, else the public half of
    the configured signing key. ``ValueError`` naming the file for one that is not an Ed25519 PEM."""
    keys: dict[str, Ed25519PublicKey] = {}
    for path in pem_files:
        try:
            key = load_public_key(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise ValueError(f"--public-key {path.name}: {exc}") from None
        keys[key_id(key)] = key
    if not keys:
        signer = configured_signer(settings)
        if signer is not None:
            keys[signer.key_id] = signer.public_key
    return keys


def certificate_anchors(folder: Path) -> tuple[list[Anchor], list[str]]:
    """The audit position of every certificate (``*.json``) in ``folder``, and the files that could not be read."""
    anchors: list[Anchor] = []
    problems: list[str] = []
    for path in sorted(folder.glob("*.json")):
        try:
            certificate = strict_loads(path.read_text())
            anchor = certificate_anchor(certificate, f"certificate {path.name}") if isinstance(certificate, dict) else None
        except (OSError, ValueError) as exc:
            problems.append(f"certificate {path.name} cannot be read ({exc if isinstance(exc, ValueError) else 'unreadable'})")
            continue
        if anchor is not None:
            anchors.append(anchor)
    return anchors, problems


def checkpoint_anchors(checkpoints: Sequence[Mapping[str, Any]], keys: Mapping[str, Ed25519PublicKey],
                       report: AuditReport) -> list[Anchor]:
    """The valid checkpoints as anchors; an invalid one is a problem, never an anchor."""
    report.checkpoints = len(checkpoints)
    if checkpoints and not keys:
        report.problems.append(f"{len(checkpoints)} checkpoints cannot be checked: no public key (--public-key, or "
                               "ERASURE_SIGNING_KEY)")
        return []
    anchors: list[Anchor] = []
    for number, checkpoint in enumerate(checkpoints, start=1):
        problem = checkpoint_problem(checkpoint, keys)
        if problem is not None:
            report.problems.append(f"checkpoint {number} {problem}")
        else:
            pin = checkpoint.get("unkeyed_prefix")
            anchors.append(Anchor(int(checkpoint["seq"]), str(checkpoint["hash"]),
                                  f"checkpoint {number} ({checkpoint.get('at')})", pin if isinstance(pin, int) else None))
    return anchors


def missing_checkpoints(entries: int, checkpoints: Sequence[Anchor], every: int,
                        keys: Mapping[str, Ed25519PublicKey]) -> str | None:
    """Where checkpoints are expected (a key to check them with, one every ``every`` entries) and the log is
    longer than that with no valid one: they were deleted, and with them the pin of the unkeyed prefix, so
    a log rewritten as unkeyed entries would otherwise verify."""
    if not keys or every <= 0 or entries <= every or checkpoints:
        return None
    return (f"checkpoints missing: the log has {entries} entries and no valid signed checkpoint (one is written "
            f"every {every} entries; deleted from Redis, or a signing key configured only now: the watchdog "
            "writes one within an interval)")


def _check(entries: Sequence[Mapping[str, Any]], head: str | None, key: bytes | None, anchors: Iterable[Anchor],
           report: AuditReport) -> AuditReport:
    report.entries, report.unkeyed = len(entries), unkeyed(entries)
    problem = verify_chain(entries, head=head, key=key)
    if problem is not None:
        report.problems.append(problem.reason)
    report.problems.extend(p.reason for p in anchor_problems(entries, anchors))
    return report


def _with_certificates(folder: Path | None, report: AuditReport) -> list[Anchor]:
    if folder is None:
        return []
    anchors, problems = certificate_anchors(folder)
    report.certificates = len(anchors)
    report.problems.extend(problems)
    return anchors


def verify_stored(runtime: Runtime, keys: Mapping[str, Ed25519PublicKey], certificates: Path | None) -> AuditReport:
    """The log in Redis: keyed chain, stored head, every checkpoint, every certificate's position."""
    return _verify_stored(runtime, keys, certificates)[0]


def _verify_stored(runtime: Runtime, keys: Mapping[str, Ed25519PublicKey],
                   certificates: Path | None) -> tuple[AuditReport, list[dict[str, Any]]]:
    """The report and the entries it is about. Anchors are read before the log: each names an entry
    written before it, so entries appended while this runs never look missing."""
    report = AuditReport()
    checkpoints = checkpoint_anchors(runtime.checkpoints.all(), keys, report)
    anchors = checkpoints + _with_certificates(certificates, report)
    entries, head = runtime.audit.snapshot()
    check = runtime.audit.check(entries, head)
    report.entries, report.unkeyed = check.entries, check.unkeyed
    if check.problem is not None:
        report.problems.append(check.problem.reason)
    missing = missing_checkpoints(len(entries), checkpoints, runtime.settings.audit_checkpoint_every, keys)
    if missing is not None:
        report.problems.append(missing)
    report.problems.extend(p.reason for p in anchor_problems(entries, anchors))
    return report, entries


def verify_file(path: Path, head: str | None, key: bytes, keys: Mapping[str, Ed25519PublicKey],
                certificates: Path | None) -> AuditReport:
    """An ``audit.jsonl`` file (the demo's): keyed chain, the given head, every certificate's position."""
    entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    report = AuditReport()
    return _check(entries, head, key, _with_certificates(certificates, report), report)


def verify_export_dir(folder: Path, keys: Mapping[str, Ed25519PublicKey], key: bytes | None,
                      certificates: Path | None) -> AuditReport:
    """Every manifest in ``folder``, in order: signature, segment digests, one chain across the manifests,
    and every certificate's position. Needs no Redis; without the audit ``key`` the entries' own hashes are
    not recomputed (the signed digests vouch for their bytes)."""
    report = AuditReport()
    manifests = sorted(folder.glob("audit-*.manifest.json"))
    report.manifests = len(manifests)
    if not manifests:
        report.problems.append(f"no audit-*.manifest.json in {folder.name}")
        return report
    entries: list[dict[str, Any]] = []
    anchors: list[Anchor] = []
    for path in manifests:
        check = verify_export(path, keys, key)
        report.problems.extend(check.problems)
        if check.problems:
            continue
        pin = check.manifest.get("unkeyed_prefix")
        anchors.append(Anchor(int(check.manifest["last_seq"]), str(check.manifest["head_hash"]), path.name,
                              pin if isinstance(pin, int) else None))
        if entries and check.manifest["first_seq"] != entries[-1]["seq"] + 1:
            report.problems.append(f"{path.name} starts at entry {check.manifest['first_seq']}, but the export before it "
                                   f"ends at entry {entries[-1]['seq']} (a manifest missing, or exports overlap)")
        elif entries and check.manifest["prev_hash"] != entries[-1]["hash"]:
            report.problems.append(f"{path.name} does not follow the export before it (prev_hash differs)")
        entries.extend(check.entries)
    report.entries, report.unkeyed = len(entries), unkeyed(entries)
    anchors += _with_certificates(certificates, report)
    report.problems.extend(p.reason for p in anchor_problems(entries, anchors))
    return report


def export(runtime: Runtime, since: int, out: Path) -> Export | None:
    """Export the entries after ``since``, refusing to sign a log that does not verify (``ValueError``):
    a signed manifest must never launder a rewrite."""
    signer = runtime.settings.require_signer()
    report, entries = _verify_stored(runtime, {signer.key_id: signer.public_key}, None)
    if not report.ok:
        raise ValueError(f"the stored log does not verify, nothing exported: {report.problems[0]}")
    return export_entries(entries, since, out, signer)


def configured_audit_key(settings: Settings) -> bytes:
    """The audit key of this deployment (``ConfigError`` without ``ERASURE_HMAC_KEY``)."""
    return audit_key(settings.require_hmac_key())
