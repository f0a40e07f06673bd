"""Signed checkpoints of the audit head, and the check of a chain against its anchors.

The keyed chain (``shared.audit``) stops a Redis writer from editing entries and recomputing the
hashes; it cannot show entries cut off its end, nor a rewrite by whoever holds the audit key. A
checkpoint, ``{seq, hash, at, key_id, signature}``, is the head at one moment signed with the
deployment's Ed25519 key (``shared.signing``; never in Redis): kept in Redis it cannot be forged, and a
copy outside (an export's manifest, a certificate's audit position) cannot even be deleted.

An anchor is any (seq, hash) the chain must still hold: a checkpoint, a certificate's audit position,
an export manifest's last entry. ``anchor_problems`` names what an anchor shows: entries missing after
the last one kept, or an entry whose hash differs from the one vouched for (rewritten).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.audit import KEYED, stored_unkeyed_prefix
from shared.keys import Keys
from shared.models import utcnow
from shared.signing import Signer, signature_valid, strict_loads

if TYPE_CHECKING:
    from shared.config import Settings
    from shared.runtime import Runtime

CHECKPOINT_TYPE = "erasure.audit.checkpoint"

log = logging.getLogger("erasure.audit")


def make_checkpoint(signer: Signer, seq: int, digest: str, unkeyed_prefix: int) -> dict[str, Any]:
    """The signed checkpoint of entry ``seq`` whose hash is ``digest``. ``unkeyed_prefix``: how many
    entries from entry 1 on are unkeyed (version 1): pinned, so a later rewrite of the log as unkeyed
    entries (which a Redis writer can hash without the key) shows against it."""
    body: dict[str, Any] = {"type": CHECKPOINT_TYPE, "seq": seq, "hash": digest, "at": utcnow().isoformat(),
                            "key_id": signer.key_id, "unkeyed_prefix": unkeyed_prefix}
    return {**body, "signature": signer.sign(body)}


def checkpoint_problem(checkpoint: Mapping[str, Any], public_keys: Mapping[str, Ed25519PublicKey]) -> str | None:
    """Why ``checkpoint`` is not a valid signed checkpoint; None when it is."""
    if checkpoint.get("type") != CHECKPOINT_TYPE or not isinstance(checkpoint.get("seq"), int) \
            or not isinstance(checkpoint.get("hash"), str) or not isinstance(checkpoint.get("signature"), str):
        return "is not a checkpoint (type, seq, hash or signature missing)"
    pin = checkpoint.get("unkeyed_prefix", 0)
    if not isinstance(pin, int) or isinstance(pin, bool) or pin < 0:
        return "is not a checkpoint (unkeyed_prefix is not a count)"
    public_key = public_keys.get(str(checkpoint.get("key_id")))
    if public_key is None:
        return f"is signed by key {checkpoint.get('key_id')}, which this check does not hold (--public-key)"
    if not signature_valid(public_key, checkpoint, str(checkpoint["signature"])):
        return "has an invalid signature: it was changed after it was signed"
    return None


def configured_signer(settings: Settings) -> Signer | None:
    """The signing key if one is configured (a misconfigured one raises ``ConfigError``); None if neither
    ``ERASURE_SIGNING_KEY`` nor ``ERASURE_SIGNING_KEY_FILE`` is set, in which case no checkpoint is written."""
    if not settings.signing_key.get_secret_value() and not settings.signing_key_file:
        return None
    return settings.require_signer()


class Checkpoints:
    """The checkpoints in Redis (a list, oldest first). ``signer`` is read when a checkpoint is written."""

    def __init__(self, client: redis.Redis, keys: Keys, signer: Callable[[], Signer | None]) -> None:
        self._r = client
        self._keys = keys
        self._signer = signer
        self._warned = False

    def write(self, seq: int, digest: str) -> dict[str, Any] | None:
        """Sign and store the checkpoint of entry ``seq``; None (and a warning, once) without a signing key."""
        signer = self._signer()
        if signer is None:
            if not self._warned:
                self._warned = True
                log.warning("audit checkpoints are not written: set ERASURE_SIGNING_KEY or ERASURE_SIGNING_KEY_FILE")
            return None
        checkpoint = make_checkpoint(signer, seq, digest, self._unkeyed_prefix(signer))
        self._r.rpush(self._keys.audit_checkpoints, json.dumps(checkpoint, sort_keys=True))
        return checkpoint

    def _unkeyed_prefix(self, signer: Signer) -> int:
        """The stored log's unkeyed prefix, never more than the last valid checkpoint pinned: the number
        cannot grow (every append is keyed), so a larger one is a rewrite this checkpoint must not bless."""
        last = self.last()
        pinned = None
        if last is not None and "unkeyed_prefix" in last \
                and checkpoint_problem(last, {signer.key_id: signer.public_key}) is None:
            pinned = int(last["unkeyed_prefix"])
        # min(the stored prefix, the pin), reading no entry past the pin (none at all on a new deployment's 0).
        return stored_unkeyed_prefix(self._r, self._keys, upper=pinned)

    def last(self) -> dict[str, Any] | None:
        raw = self._r.lindex(self._keys.audit_checkpoints, -1)
        try:
            parsed = None if raw is None else strict_loads(str(raw))
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    def all(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for raw in self._r.lrange(self._keys.audit_checkpoints, 0, -1):
            try:
                parsed = strict_loads(raw)  # a key given twice: garbled, never its last value
            except ValueError:
                parsed = None
            out.append(parsed if isinstance(parsed, dict) else {})  # a garbled one is named by the check
        return out


def write_checkpoint(runtime: Runtime, position: tuple[int, str] | None = None) -> dict[str, Any] | None:
    """Checkpoint ``position``, by default the current head (the certificate step passes the head it just
    read for the certificate). None for an empty log or when no signing key is configured."""
    position = position or runtime.audit.head_position()
    if position is None:
        return None
    return runtime.checkpoints.write(*position)


def checkpoint_if_moved(runtime: Runtime) -> dict[str, Any] | None:
    """Checkpoint the head if it moved since the last checkpoint (the watchdog's pass, once an interval):
    entries after the last certificate and short of the next Nth are anchored within an interval too."""
    position = runtime.audit.head_position()
    if position is None:
        return None
    last = runtime.checkpoints.last()
    if last is not None and (last.get("seq"), last.get("hash")) == position:
        return None
    return runtime.checkpoints.write(*position)


@dataclass(frozen=True)
class Anchor:
    """A position the chain must still hold. ``seq`` None: a certificate that carries only a hash."""

    seq: int | None
    hash: str
    source: str  # e.g. "checkpoint 3 (2026-11-30T12:00:00+00:00)", "certificate T-1"
    #: How many entries from entry 1 on were unkeyed when the anchor was made; None: not pinned (an
    #: anchor made before pins, or a certificate).
    unkeyed_prefix: int | None = None


@dataclass(frozen=True)
class AnchorProblem:
    seq: int | None
    reason: str


def anchor_problems(entries: Iterable[Mapping[str, Any]], anchors: Iterable[Anchor]) -> list[AnchorProblem]:
    """What each anchor shows about ``entries`` (as stored): entries missing after the last one kept, or
    an entry rewritten. A rewrite is placed between the last anchor below it that still matches and it."""
    anchors = list(anchors)  # walked twice
    by_seq = {e.get("seq"): str(e.get("hash")) for e in entries}
    hashes = set(by_seq.values())
    last = max((s for s in by_seq if isinstance(s, int)), default=0)
    placed = sorted((a for a in anchors if a.seq is not None), key=lambda a: a.seq or 0)
    problems: list[AnchorProblem] = []
    missing = [a for a in placed if (a.seq or 0) > last]
    if missing:
        sources = ", ".join(a.source for a in missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        problems.append(AnchorProblem(last + 1, f"entries after seq {last} are missing: {sources} vouches for entry "
                                                f"{max(a.seq or 0 for a in missing)}"))
    matched_below = 0
    for anchor in placed:
        seq = anchor.seq or 0
        if seq > last:
            break
        if by_seq.get(seq) == anchor.hash:
            matched_below = seq
            continue
        scope = f"entry {seq} was rewritten" + (
            f" (the change lies in entries {matched_below + 1}-{seq}: entry {matched_below} still matches its anchor)"
            if matched_below else f" (the change lies in entries 1-{seq})")
        problems.append(AnchorProblem(seq, f"{scope}: {anchor.source} holds another hash for it"))
    for anchor in anchors:
        if anchor.seq is None and anchor.hash not in hashes:
            problems.append(AnchorProblem(None, f"{anchor.source}: its audit position {anchor.hash[:16]}... is no longer "
                                                "in the chain (entries after it missing, or rewritten)"))
    return problems + pin_problems(entries, anchors)


def pin_problems(entries: Iterable[Mapping[str, Any]], anchors: Iterable[Anchor]) -> list[AnchorProblem]:
    """An unkeyed entry past the smallest pinned unkeyed prefix: whoever can write to Redis can hash
    unkeyed entries without the key, so a log rewritten as version 1 entries holds as a chain; the pin,
    signed when the log was sound, says how many unkeyed entries there were, and that never grows."""
    pinned = [a for a in anchors if a.unkeyed_prefix is not None]
    if not pinned:
        return []
    pin = min(pinned, key=lambda a: a.unkeyed_prefix or 0)
    limit = pin.unkeyed_prefix or 0
    late = [int(e["seq"]) for e in entries
            if e.get("v") != KEYED and isinstance(e.get("seq"), int) and int(e["seq"]) > limit]
    if not late:
        return []
    return [AnchorProblem(late[0], f"entry {late[0]} was rewritten: it is unkeyed, but {pin.source} pins the unkeyed "
                                   f"entries to the first {limit} ({len(late)} unkeyed entries past the pin)")]


def certificate_anchor(certificate: Mapping[str, Any], source: str) -> Anchor | None:
    """A certificate's audit position: version 2's ``audit_position`` ``{seq, hash}`` first, else
    ``audit_seq``/``audit_hash``, or ``audit_chain_head`` as ``"<seq>:<hash>"`` or a bare hash; None for a
    certificate without one. ``ValueError`` if garbled."""
    position = certificate.get("audit_position")
    if position is not None and not isinstance(position, Mapping):
        raise ValueError(f"{source}: audit_position is not {{seq, hash}}")
    if position is not None:
        seq, digest = position.get("seq"), position.get("hash")
    else:
        seq, digest = certificate.get("audit_seq"), certificate.get("audit_hash")
    if digest is None and position is None:
        head = certificate.get("audit_chain_head")
        if head is None:
            return None
        text = str(head)
        if ":" in text:
            seq_text, _, digest = text.partition(":")
            seq = int(seq_text) if seq_text.isdigit() else None
            if seq is None:
                raise ValueError(f"{source}: audit_chain_head is not SEQ:HASH")
        else:
            digest = text
    if not isinstance(digest, str) or len(digest) != 64 or (seq is not None and not isinstance(seq, int)) \
            or isinstance(seq, bool):
        raise ValueError(f"{source}: its audit position is not a seq and a 64 hex digit hash")
    return Anchor(seq, digest, source)
