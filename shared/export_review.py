"""Review before delete: read a GDPR_EXPORT archive for what it holds, never for what it says.

What the platform's archive contains is not published (UNCONFIRMED, ``genesys-api.md``): this reader takes
any zip of JSON documents (or one JSON document), counts the records of each document, and picks out by
field name what it can set beside discovery's findings: conversation ids, external contact ids and dates.
Everything else is read and dropped at once; nothing of it is logged, stored or put in an exception.

An archive is data from outside, so reading it is bounded: at most ``max_bytes`` downloaded, each member
decompressed to at most the same, at most ``MAX_MEMBERS`` members and ``MAX_DEPTH`` levels of nesting; past
a bound the archive is refused as unreadable (a zip bomb costs nothing). The download is a pre-signed link
on another host: it is fetched without our bearer token, over https (http only to the platform's own
configured host, a simulator), and a redirect is not followed.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from shared.models import ExportSummary

MAX_MEMBERS = 200
MAX_DEPTH = 12
#: Where a record names a conversation, whatever document it is in.
CONVERSATION_KEYS = frozenset({"conversationId"})
#: Date fields of the platform's models (conversations, segments, messages, contacts).
DATE_KEYS = frozenset({"conversationStart", "conversationEnd", "segmentStart", "segmentEnd", "timestamp",
                       "createdDate", "modifiedDate", "startTime", "endTime", "dateCreated", "dateModified"})


class ArchiveUnreadable(Exception):
    """The archive could not be read within the bounds (its reason names the bound, never the content)."""


class LinkExpired(Exception):
    """The platform's link answered 410 Gone: the export existed and is no longer served."""


@dataclass
class _Tally:
    records: dict[str, int] = field(default_factory=dict)
    conversations: set[str] = field(default_factory=set)
    contacts: set[str] = field(default_factory=set)  # records of a contact document only
    messages: dict[str, set[str]] = field(default_factory=dict)  # conversation id -> message ids
    first: datetime | None = None
    last: datetime | None = None

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


def download(url: str, *, allowed_http_host: str | None, max_bytes: int, timeout_s: float = 60.0) -> bytes:
    """The archive behind one ``resultsUrl``: bounded, without our token, no redirects."""
    parts = urlsplit(url)
    if not (parts.scheme == "https" or (parts.scheme == "http" and allowed_http_host
                                        and parts.hostname == allowed_http_host)):
        raise ArchiveUnreadable("the export link is not https (nor the platform's own configured http host)")
    with httpx.Client(timeout=timeout_s, follow_redirects=False) as http, http.stream("GET", url) as answer:
        if answer.status_code == 410:
            raise LinkExpired("the export link has expired")
        if answer.status_code != 200:
            raise ArchiveUnreadable(f"the export link answered HTTP {answer.status_code}")
        buffer = bytearray()
        for chunk in answer.iter_bytes():
            buffer += chunk
            if len(buffer) > max_bytes:
                raise ArchiveUnreadable(f"the export is larger than {max_bytes} bytes (ERASURE_REVIEW_EXPORT_MAX_BYTES)")
    return bytes(buffer)


def summarise(archives: list[bytes], *, max_bytes: int) -> ArchiveFindings:
    """What the archives hold, by kind, with the conversation and contact ids and the dates they span."""
    tally = _Tally()
    files = 0
    for content in archives:
        for name, document in _documents(content, max_bytes):
            files += 1
            for kind, records in _groups(name.rsplit("/", 1)[-1].removesuffix(".json") or "document", document):
                tally.records[kind] = tally.records.get(kind, 0) + len(records)
                for record in records:
                    _read_record(kind, record, tally)
    summary = ExportSummary(files=files, records=tally.records, conversations=len(tally.conversations),
                            external_contacts=len(tally.contacts), first_date=tally.first, last_date=tally.last)
    messages = {conversation: frozenset(ids) for conversation, ids in tally.messages.items()}
    return ArchiveFindings(summary, frozenset(tally.conversations), frozenset(tally.contacts), messages)


def _documents(content: bytes, max_bytes: int) -> Iterator[tuple[str, Any]]:
    if not zipfile.is_zipfile(io.BytesIO(content)):
        yield "document", _parse(content)
        return
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) > MAX_MEMBERS:
                raise ArchiveUnreadable(f"the export has more than {MAX_MEMBERS} files")
            for member in members:
                if not member.filename.endswith(".json"):
                    continue
                with archive.open(member) as stream:
                    raw = stream.read(max_bytes + 1)  # the declared size is the archive's word: read, and count
                if len(raw) > max_bytes:
                    raise ArchiveUnreadable(f"a file of the export unpacks to more than {max_bytes} bytes")
                yield member.filename, _parse(raw)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ArchiveUnreadable(f"the export is not a readable zip ({type(exc).__name__})") from None


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise ArchiveUnreadable("a file of the export is not JSON") from None


def _groups(kind: str, document: Any) -> list[tuple[str, list[Any]]]:
    """A document's records by kind: a list is the document's kind; a platform page (``entities``) too;
    an object holding lists of objects gives one kind per list (``{"conversations": [...]}``); any other
    object is one record."""
    if isinstance(document, list):
        return [(kind, document)]
    if not isinstance(document, dict):
        return [(kind, [])]
    if isinstance(document.get("entities"), list):
        return [(kind, list(document["entities"]))]
    listed = [(str(key), value) for key, value in document.items()
              if isinstance(value, list) and value and all(isinstance(e, dict) for e in value)]
    return listed or [(kind, [document])]


def _read_record(kind: str, record: Any, tally: _Tally) -> None:
    """Ids and dates of one record; the record's own ``id`` counts where its document says what it is."""
    if isinstance(record, dict) and isinstance(record.get("id"), str):
        lowered = kind.lower()
        if "message" in lowered and isinstance(record.get("conversationId"), str):
            tally.messages.setdefault(record["conversationId"], set()).add(record["id"])
        elif "conversation" in lowered:
            tally.conversations.add(record["id"])
        elif "contact" in lowered:
            tally.contacts.add(record["id"])
    _walk(record, tally, 0)


def _walk(node: Any, tally: _Tally, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ArchiveUnreadable(f"the export nests deeper than {MAX_DEPTH} levels")
    if isinstance(node, dict):
        for key, value in node.items():
            if key in CONVERSATION_KEYS and isinstance(value, str):
                tally.conversations.add(value)
            elif key in DATE_KEYS:
                tally.date(value)
            elif isinstance(value, dict | list):
                _walk(value, tally, depth + 1)
    elif isinstance(node, list):
        for item in node:
            _walk(item, tally, depth + 1)
