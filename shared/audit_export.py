"""Audit export for WORM storage: append-only JSONL segments and a signed manifest.

``erasure audit export --since SEQ`` writes the entries after ``SEQ`` as segments of at most
``SEGMENT_ENTRIES`` lines (each line an entry as stored), and a manifest naming each segment with its
SHA-256, the first and last seq, the hash of the entry before the first (``prev_hash``: it links one
export to the one before it) and of the last (``head_hash``), signed with the deployment's Ed25519 key.
Files are created, never overwritten. Whoever holds the public key verifies an export with no access to
Redis or any secret (``verify_export``): the manifest's signature covers every segment's digest, so a
changed byte in a segment shows, and the manifest itself cannot be changed without the private key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.audit import GENESIS, ChainProblem, leading_unkeyed, verify_chain
from shared.models import utcnow
from shared.signing import Signer, signature_valid, strict_loads

MANIFEST_TYPE = "erasure.audit.export"
#: Lines per segment: small enough to ship and re-check one at a time, large enough to keep the count low.
SEGMENT_ENTRIES = 10_000


@dataclass(frozen=True)
class Export:
    manifest: Path
    segments: list[Path]
    first_seq: int
    last_seq: int


def _name(first: int, last: int) -> str:
    return f"audit-{first:012d}-{last:012d}"


def export_entries(entries: Sequence[Mapping[str, Any]], since: int, out: Path, signer: Signer,
                   segment_entries: int = SEGMENT_ENTRIES) -> Export | None:
    """Write the entries after ``since`` and their signed manifest into ``out``; None if there are none.
    ``entries``: the whole log from entry 1, whose unkeyed prefix the manifest pins (``unkeyed_prefix``).
    ``FileExistsError`` rather than overwrite a file (an export already shipped is never rewritten)."""
    chosen = [e for e in entries if isinstance(e.get("seq"), int) and int(e["seq"]) > since]
    if not chosen:
        return None
    out.mkdir(parents=True, exist_ok=True)
    segments: list[dict[str, Any]] = []
    paths: list[Path] = []
    for start in range(0, len(chosen), segment_entries):
        part = chosen[start:start + segment_entries]
        first, last = int(part[0]["seq"]), int(part[-1]["seq"])
        data = "".join(json.dumps(e, sort_keys=True, default=str) + "\n" for e in part).encode()
        path = out / f"{_name(first, last)}.jsonl"
        with path.open("xb") as segment:
            segment.write(data)
        paths.append(path)
        segments.append({"file": path.name, "sha256": hashlib.sha256(data).hexdigest(), "first_seq": first,
                         "last_seq": last, "entries": len(part)})
    first_seq, last_seq = int(chosen[0]["seq"]), int(chosen[-1]["seq"])
    body: dict[str, Any] = {
        "type": MANIFEST_TYPE, "first_seq": first_seq, "last_seq": last_seq, "entries": len(chosen),
        "prev_hash": str(chosen[0].get("prev", GENESIS)), "head_hash": str(chosen[-1]["hash"]),
        "segments": segments, "exported_at": utcnow().isoformat(), "key_id": signer.key_id,
        "unkeyed_prefix": leading_unkeyed(entries),
    }
    manifest = {**body, "signature": signer.sign(body)}
    manifest_path = out / f"{_name(first_seq, last_seq)}.manifest.json"
    with manifest_path.open("x") as handle:
        handle.write(json.dumps(manifest, sort_keys=True, indent=2) + "\n")
    return Export(manifest_path, paths, first_seq, last_seq)


@dataclass(frozen=True)
class ExportCheck:
    """An export's verdict: the entries it holds, and what is wrong (empty when nothing)."""

    manifest: dict[str, Any]
    entries: list[dict[str, Any]]
    problems: list[str]


def verify_export(manifest_path: Path, public_keys: Mapping[str, Ed25519PublicKey],
                  key: bytes | None = None) -> ExportCheck:
    """Check a manifest's signature, each segment's digest, and that the segments form one chain from
    ``prev_hash`` to ``head_hash``. With the audit ``key`` every entry's hash is recomputed too."""
    name = manifest_path.name
    try:
        manifest = strict_loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        reason = str(exc) if str(exc).startswith("duplicate key") else type(exc).__name__
        return ExportCheck({}, [], [f"{name} cannot be read as JSON ({reason})"])
    if not isinstance(manifest, dict) or manifest.get("type") != MANIFEST_TYPE:
        return ExportCheck({}, [], [f"{name} is not an audit export manifest"])
    public_key = public_keys.get(str(manifest.get("key_id")))
    if public_key is None:
        return ExportCheck(manifest, [], [f"{name} is signed by key {manifest.get('key_id')}, which this check "
                                          "does not hold (--public-key)"])
    if not signature_valid(public_key, manifest, str(manifest.get("signature", ""))):
        return ExportCheck(manifest, [], [f"{name} has an invalid signature: it was changed after it was signed"])
    pin = manifest.get("unkeyed_prefix", 0)
    if not isinstance(pin, int) or isinstance(pin, bool) or pin < 0:
        return ExportCheck(manifest, [], [f"{name} is not an audit export manifest (unkeyed_prefix is not a count)"])
    problems: list[str] = []
    entries: list[dict[str, Any]] = []
    for segment in manifest.get("segments", []):
        path = manifest_path.parent / str(segment.get("file"))
        try:
            data = path.read_bytes()
        except OSError:
            problems.append(f"segment {segment.get('file')} is missing")
            continue
        if hashlib.sha256(data).hexdigest() != segment.get("sha256"):
            problems.append(f"segment {segment.get('file')} was modified: its SHA-256 is not the manifest's")
            continue
        try:
            entries.extend(strict_loads(line) for line in data.decode().splitlines() if line.strip())
        except ValueError as exc:
            problems.append(f"segment {segment.get('file')} cannot be read ({exc})")
    if problems:
        return ExportCheck(manifest, entries, problems)
    first, last = int(manifest["first_seq"]), int(manifest["last_seq"])
    problem: ChainProblem | None = verify_chain(entries, f"{last}:{manifest['head_hash']}", key=key,
                                                after=(first - 1, str(manifest["prev_hash"])))
    if problem is not None:
        problems.append(problem.reason)
    return ExportCheck(manifest, entries, problems)
