"""Review before delete: read a GDPR_EXPORT archive for what it holds, never for what it says.

What the platform's archive contains is not published (UNCONFIRMED, ``genesys-api.md``): this reader takes
any zip of JSON documents (or one JSON document) and sorts each document into a fixed kind by its file
name: ``conversations``, ``messages``, ``external_contacts`` or ``other`` (the kinds are ours, never a name
taken from the archive: a file or key name could itself be personal data). It counts each document's
records and picks out by field name what it can set beside discovery's findings: conversation ids, the
ids of the subject's external contacts (only the records of a contact document: a contact named inside
a conversation is the other party), message ids and the dates spanned. Everything else is read and
dropped at once; nothing of it is logged, stored or put in an exception (reasons name a bound, never
content). A member that is not JSON is counted as skipped: the review is then flagged, never "clean".
The platform's conversation and contact ids are UUIDs: a value under an id field that is not one (a crafted
archive's ``..``, or text with a terminal's escape codes) is never taken into the deletion scope nor shown;
it is counted (``skipped_ids``) and the review flagged.

An archive is data from outside, so reading it is bounded as a whole: at most ``max_bytes`` downloaded and
at most ``max_bytes`` unpacked over all members and archives together, at most ``MAX_MEMBERS`` members,
``MAX_CONTAINERS`` JSON objects and arrays per member (a few bytes of ``[[],[],...]`` would otherwise cost
a hundred times their size in memory) and ``MAX_DEPTH`` levels of nesting; past a bound the archive is
unreadable. The download is a pre-signed link on another host: fetched without our bearer token, over
https to a public address (http and private addresses only for the platform's own configured host, a
simulator), no redirects, within an overall deadline.
"""

from __future__ import annotations

import io
import ipaddress
import json
import socket
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from shared.genesys.errors import TransportError
from shared.identifiers import is_uuid
from shared.models import ExportSummary

MAX_MEMBERS = 200
MAX_DEPTH = 12
MAX_CONTAINERS = 2_000_000
#: Where a record names a conversation, whatever document it is in.
CONVERSATION_KEYS = frozenset({"conversationId"})
#: Date fields of the platform's models (conversations, segments, messages, contacts).
DATE_KEYS = frozenset({"conversationStart", "conversationEnd", "segmentStart", "segmentEnd", "timestamp",
                       "createdDate", "modifiedDate", "startTime", "endTime", "dateCreated", "dateModified"})
KINDS = ("conversations", "messages", "external_contacts", "other")


class ArchiveUnreadable(Exception):
    """The archive could not be read within the bounds (its reason names the bound, never the content)."""


class LinkExpired(Exception):
    """The platform's link answered 410 Gone: the export existed and is no longer served."""


def kind_of(member_name: str) -> str:
    """One of ``KINDS``, from a member's file name (messages first: ``conversationMessages`` are messages)."""
    stem = member_name.rsplit("/", 1)[-1].lower()
    if "message" in stem:
        return "messages"
    if "conversation" in stem:
        return "conversations"
    if "contact" in stem:
        return "external_contacts"
    return "other"


@dataclass
class _Tally:
    records: dict[str, int] = field(default_factory=dict)
    files: int = 0
    skipped: int = 0
    unpacked: int = 0
    conversations: set[str] = field(default_factory=set)
    contacts: set[str] = field(default_factory=set)  # records of a contact document only
    messages: dict[str, set[str]] = field(default_factory=dict)  # conversation id -> message ids
    skipped_ids: int = 0  # values under an id field that are not platform ids (UUIDs): neither kept nor shown
    first: datetime | None = None
    last: datetime | None = None

    def platform_id(self, value: str) -> bool:
        """Whether ``value`` may be taken as a platform id (a UUID); one that may not is counted, not kept."""
        if is_uuid(value):
            return True
        if value.strip():  # an empty placeholder is no id at all, not one to flag
            self.skipped_ids += 1
        return False

    def date(self, value: Any) -> None:
        if not isinstance(value, str):
            return
        try:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return
        stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
        self.first = stamp if self.first is None or stamp < self.first else self.first
        self.last = stamp if self.last is None or stamp > self.last else self.last


@dataclass(frozen=True)
class ArchiveFindings:
    """A summary for the approver, and the ids to set beside discovery's (platform ids, not data).

    ``external_contact_ids`` are the records of the archive's contact documents: contacts the platform
    matched to the subject. A contact id merely mentioned inside a conversation (the other party of a chat
    that named the subject) is not one of them: feeding that into the identity would erase someone else."""

    summary: ExportSummary
    conversation_ids: frozenset[str]
    external_contact_ids: frozenset[str]
    message_ids: dict[str, frozenset[str]]


def download(url: str, *, allowed_http_host: str | None, max_bytes: int, deadline_s: float = 120.0) -> bytes:
    """The archive behind one ``resultsUrl``: bounded in bytes and time, without our token, no redirects.
    A transport failure is a ``TransportError`` (retried like any platform hiccup)."""
    parts = urlsplit(url)
    own_host = bool(allowed_http_host) and parts.hostname == allowed_http_host
    if not (parts.scheme == "https" or (parts.scheme == "http" and own_host)):
        raise ArchiveUnreadable("the export link is not https (nor the platform's own configured http host)")
    if not own_host:
        _refuse_private(parts.hostname or "", parts.port or 443)
    started = time.monotonic()
    try:
        with httpx.Client(timeout=30.0, follow_redirects=False) as http, http.stream("GET", url) as answer:
            if answer.status_code == 410:
                raise LinkExpired("the export link has expired")
            if answer.status_code != 200:
                raise ArchiveUnreadable(f"the export link answered HTTP {answer.status_code}")
            buffer = bytearray()
            for chunk in answer.iter_bytes():
                buffer += chunk
                if len(buffer) > max_bytes:
                    raise ArchiveUnreadable(f"the export is larger than {max_bytes} bytes "
                                            "(ERASURE_REVIEW_EXPORT_MAX_BYTES)")
                if time.monotonic() - started > deadline_s:
                    raise ArchiveUnreadable(f"the export took longer than {deadline_s:.0f} s to download")
    except httpx.HTTPError as exc:
        raise TransportError(f"downloading the export: {type(exc).__name__}") from None
    return bytes(buffer)


def _refuse_private(host: str, port: int) -> None:
    """A pre-signed link points at an object store on the Internet: an address inside the deployment's
    networks (loopback, private, link-local, reserved) would make this worker a way in (SSRF)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError:
        raise TransportError("downloading the export: its host does not resolve") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise ArchiveUnreadable("the export link points at a non-public address")


def summarise(archives: Iterable[bytes], *, max_bytes: int) -> ArchiveFindings:
    """What the archives hold, by kind, with the conversation and contact ids and the dates they span. Each
    archive is read and let go before the next (pass a generator to hold one at a time)."""
    tally = _Tally()
    try:
        for content in archives:
            for name, document in _documents(content, max_bytes, tally):
                tally.files += 1
                kind = kind_of(name)
                records = _records(document)
                tally.records[kind] = tally.records.get(kind, 0) + len(records)
                for record in records:
                    _read_record(kind, record, tally)
    except (ArchiveUnreadable, LinkExpired, TransportError):
        raise
    except Exception as exc:  # anything else a crafted archive provokes: named by type, never by content
        raise ArchiveUnreadable(f"the export could not be read ({type(exc).__name__})") from None
    summary = ExportSummary(files=tally.files, skipped_files=tally.skipped, records=tally.records,
                            conversations=len(tally.conversations), external_contacts=len(tally.contacts),
                            skipped_ids=tally.skipped_ids, first_date=tally.first, last_date=tally.last)
    messages = {conversation: frozenset(ids) for conversation, ids in tally.messages.items()}
    return ArchiveFindings(summary, frozenset(tally.conversations), frozenset(tally.contacts), messages)


def _documents(content: bytes, max_bytes: int, tally: _Tally) -> Iterator[tuple[str, Any]]:
    if not zipfile.is_zipfile(io.BytesIO(content)):
        tally.unpacked += len(content)
        yield "document", _parse(content)
        return
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError, EOFError):
        raise ArchiveUnreadable("the export is not a readable zip") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_MEMBERS:
            raise ArchiveUnreadable(f"the export has more than {MAX_MEMBERS} files")
        for member in members:
            if not member.filename.lower().endswith(".json"):
                tally.skipped += 1
                continue
            budget = max_bytes - tally.unpacked
            with archive.open(member) as stream:
                raw = stream.read(budget + 1)  # the declared size is the archive's word: read, and count
            tally.unpacked += len(raw)
            if tally.unpacked > max_bytes:
                raise ArchiveUnreadable(f"the export unpacks to more than {max_bytes} bytes "
                                        "(ERASURE_REVIEW_EXPORT_MAX_BYTES)")
            yield member.filename, _parse(raw)


def _parse(raw: bytes) -> Any:
    if raw.count(b"[") + raw.count(b"{") > MAX_CONTAINERS:
        raise ArchiveUnreadable(f"a file of the export holds more than {MAX_CONTAINERS} JSON objects and arrays")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise ArchiveUnreadable("a file of the export is not JSON") from None


def _records(document: Any) -> list[Any]:
    """A document's records: a list, a platform page (``entities``), or the one object it is."""
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        entities = document.get("entities")
        return list(entities) if isinstance(entities, list) else [document]
    return []


def _read_record(kind: str, record: Any, tally: _Tally) -> None:
    """Ids and dates of one record; the record's own ``id`` counts only for what its document says it is."""
    if isinstance(record, dict) and isinstance(record.get("id"), str):
        if kind == "messages" and isinstance(record.get("conversationId"), str):
            if is_uuid(record["conversationId"]):  # not counted here: ``_walk`` counts the key's value once
                tally.messages.setdefault(record["conversationId"], set()).add(record["id"])
        elif kind in ("conversations", "external_contacts") and tally.platform_id(record["id"]):
            (tally.conversations if kind == "conversations" else tally.contacts).add(record["id"])
    _walk(record, tally, 0)


def _walk(node: Any, tally: _Tally, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ArchiveUnreadable(f"the export nests deeper than {MAX_DEPTH} levels")
    if isinstance(node, dict):
        for key, value in node.items():
            if key in CONVERSATION_KEYS and isinstance(value, str):
                if tally.platform_id(value):
                    tally.conversations.add(value)
            elif key in DATE_KEYS:
                tally.date(value)
            elif isinstance(value, dict | list):
                _walk(value, tally, depth + 1)
    elif isinstance(node, list):
        for item in node:
            _walk(item, tally, depth + 1)
