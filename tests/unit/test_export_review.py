"""Reading a GDPR_EXPORT archive for its shape: counts, ids and dates; bounded; the content never kept."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.intake.validation import IntakeError, parse_request
from shared.export_review import MAX_MEMBERS, ArchiveUnreadable, LinkExpired, download, summarise
from shared.genesys.errors import TransportError

CONVERSATION = "3f1c2b9e-0000-4000-8000-000000000001"
FRIENDS_CHAT = "3f1c2b9e-0000-4000-8000-000000000002"
CONTACT = "3f1c2b9e-0000-4000-8000-0000000000c1"
FRIENDS_CONTACT = "3f1c2b9e-0000-4000-8000-0000000000c2"


def archive(documents: dict[str, object]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, document in documents.items():
            zipped.writestr(name, json.dumps(document))
    return buffer.getvalue()


def raw_archive(name: str, text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr(name, text)
    return buffer.getvalue()


def sample() -> bytes:
    return archive({
        "conversations.json": [
            {"id": CONVERSATION, "conversationStart": "2026-01-02T10:00:00Z",
             "participants": [{"externalContactId": CONTACT, "name": "Jane Subject"}]},
            {"id": FRIENDS_CHAT, "conversationStart": "2026-03-04T10:00:00.000Z",
             "participants": [{"externalContactId": FRIENDS_CONTACT}]},
        ],
        "messages.json": [{"id": "m1", "conversationId": FRIENDS_CHAT, "timestamp": "2026-03-04T10:01:00Z",
                           "text": "their email is jane@example.org"}],
        "externalContacts.json": {"entities": [{"id": CONTACT, "modifiedDate": "2025-12-31T23:00:00Z"}]},
        "notes.txt": "ignored",
    })


def test_an_archive_is_read_for_kinds_ids_and_dates_and_nothing_of_its_content():
    found = summarise([sample()], max_bytes=1 << 20)
    summary = found.summary
    assert summary.files == 3 and summary.skipped_files == 1  # the .json documents; notes.txt not read
    assert summary.records == {"conversations": 2, "messages": 1, "external_contacts": 1}
    assert found.conversation_ids == {CONVERSATION, FRIENDS_CHAT} and summary.conversations == 2
    # Only the contact document's records are the subject's contacts: the friend's, named inside a
    # conversation, is not one (feeding it into the identity would erase someone else).
    assert found.external_contact_ids == {CONTACT} and summary.external_contacts == 1
    assert found.message_ids == {FRIENDS_CHAT: frozenset({"m1"})}
    assert summary.first_date.isoformat() == "2025-12-31T23:00:00+00:00"
    assert summary.last_date.isoformat() == "2026-03-04T10:01:00+00:00"
    assert "jane" not in summary.model_dump_json().lower()


def test_kinds_are_ours_and_a_contact_beside_a_conversation_never_joins_the_identity():
    """A document's kind comes from its file name into a fixed set: a key or file name of the archive (which
    may itself be an address) never becomes a kind, and a list of contacts inside a conversation's document
    is that conversation's other parties, not the subject's contacts."""
    content = archive({
        "conversation-1.json": {"id": CONVERSATION, "externalContacts": [{"id": FRIENDS_CONTACT}],
                                "jane.doe@example.com": [{"id": "x"}]},
        "jane.doe@example.com.json": [{"id": "y"}],
        "conversationMessages.json": [{"id": "m9", "conversationId": CONVERSATION}],
    })
    found = summarise([content], max_bytes=1 << 20)
    assert found.external_contact_ids == frozenset()
    assert set(found.summary.records) <= {"conversations", "messages", "external_contacts", "other"}
    assert found.summary.records == {"conversations": 1, "other": 1, "messages": 1}
    assert found.conversation_ids == {CONVERSATION}  # the message's id is a message, not a conversation
    assert found.message_ids == {CONVERSATION: frozenset({"m9"})}


def test_a_review_that_read_nothing_or_only_part_is_flagged():
    from shared.models import ExportReview

    no_json = summarise([raw_archive("audio.ogg", "OggS...")], max_bytes=1 << 20).summary
    assert no_json.files == 0 and no_json.skipped_files == 1
    assert ExportReview(status="summarised", summary=no_json).flagged
    assert ExportReview(status="summarised", summary=summarise([sample()], max_bytes=1 << 20).summary).flagged
    clean = archive({"conversations.json": [{"id": CONVERSATION}]})
    assert not ExportReview(status="summarised", summary=summarise([clean], max_bytes=1 << 20).summary).flagged


def test_a_single_json_document_and_unknown_shapes_are_read_without_failing():
    found = summarise([json.dumps([{"conversationId": CONVERSATION}]).encode()], max_bytes=1 << 20)
    assert found.summary.records == {"other": 1} and found.conversation_ids == {CONVERSATION}
    assert summarise([archive({"x/odd.json": 42})], max_bytes=1 << 20).summary.records == {"other": 0}


def encrypted(content: bytes) -> bytes:
    """``content`` (a zip) with its member marked encrypted: zipfile then refuses it without a password."""
    data = bytearray(content)
    data[6] |= 1  # the local header's flag bits
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 1  # and the central directory's
    return bytes(data)


@pytest.mark.parametrize("content, bound", [
    (archive({"big.json": ["x" * 2000]}), "unpacks to more than"),
    (archive({"a.json": ["x" * 600], "b.json": ["y" * 600]}), "unpacks to more than"),  # the budget is the whole
    (archive({f"f{n}.json": [] for n in range(MAX_MEMBERS + 1)}), f"more than {MAX_MEMBERS} files"),
    (raw_archive("bad.json", "{"), "not JSON"),
    (b"PK\x03\x04 not really a zip", "not JSON"),  # no central directory: read as one JSON document
    (archive({"deep.json": json.loads("[" * 40 + "]" * 40)}), "nests deeper"),
    (encrypted(raw_archive("secret-name-of-jane.json", "[]")), "could not be read"),
])
def test_an_archive_past_a_bound_is_unreadable_and_the_reason_names_the_bound_not_the_content(content, bound):
    with pytest.raises(ArchiveUnreadable, match=bound) as refused:
        summarise([content], max_bytes=1000)
    assert "xxxx" not in str(refused.value) and "jane" not in str(refused.value)


def test_json_that_would_cost_far_more_memory_than_its_bytes_is_refused(monkeypatch):
    monkeypatch.setattr("shared.export_review.MAX_CONTAINERS", 100)
    with pytest.raises(ArchiveUnreadable, match="JSON objects and arrays"):
        summarise([archive({"many.json": [[] for _ in range(200)]})], max_bytes=1 << 20)


class _Files(BaseHTTPRequestHandler):
    body = b""
    status = 200
    seen_auth: list[str | None] = []

    def do_GET(self) -> None:
        type(self).seen_auth.append(self.headers.get("Authorization"))
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def files_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_the_link_is_fetched_bounded_without_a_token_and_only_from_an_allowed_host(files_server):
    _Files.body, _Files.status, _Files.seen_auth = sample(), 200, []
    url = f"http://127.0.0.1:{files_server.server_port}/export-1.zip?X-Amz-Signature=s"
    assert download(url, allowed_http_host="127.0.0.1", max_bytes=1 << 20) == _Files.body
    assert _Files.seen_auth == [None]
    with pytest.raises(ArchiveUnreadable, match="larger than"):
        download(url, allowed_http_host="127.0.0.1", max_bytes=100)
    with pytest.raises(ArchiveUnreadable, match="not https"):
        download(url, allowed_http_host=None, max_bytes=1 << 20)
    with pytest.raises(ArchiveUnreadable, match="not https"):
        download(url.replace("127.0.0.1", "localhost"), allowed_http_host="127.0.0.1", max_bytes=1 << 20)
    _Files.status = 410
    with pytest.raises(LinkExpired):
        download(url, allowed_http_host="127.0.0.1", max_bytes=1 << 20)
    _Files.status = 302
    with pytest.raises(ArchiveUnreadable, match="302"):
        download(url, allowed_http_host="127.0.0.1", max_bytes=1 << 20)
    # https to an address inside the deployment's networks: refused before any request (SSRF).
    with pytest.raises(ArchiveUnreadable, match="non-public"):
        download(url.replace("http://", "https://"), allowed_http_host=None, max_bytes=1 << 20)
    # A link that cannot be reached is a hiccup of the transport (retried), not an unreadable export.
    files_server.shutdown()
    files_server.server_close()
    with pytest.raises(TransportError):
        download(url, allowed_http_host="127.0.0.1", max_bytes=1 << 20)


def test_the_simulators_archive_is_read_with_the_subjects_conversations_and_contact():
    from genesys_sim.gdpr_export import build_archive
    from genesys_sim.org_data import OrgData
    from genesys_sim.seed import generate

    seeded = generate(3, 5, mentioned_elsewhere=1)
    truth = next(t for t in seeded.subjects if t.mentioned_conversation_ids)
    data = OrgData.from_seed(seeded, active_until=0)
    found = summarise([build_archive(data, {"emailAddresses": truth.emails[:1]})], max_bytes=1 << 24)
    assert set(truth.mentioned_conversation_ids) <= found.conversation_ids
    assert truth.external_contact_id in found.external_contact_ids
    assert found.message_ids[truth.mentioned_conversation_ids[0]]


def test_review_before_delete_is_asked_for_at_intake_and_refused_for_an_access_request():
    record = parse_request({"ticket": "T-1", "emails": ["a@example.org"], "review_export": True})
    assert record.review_export and record.review is None
    with pytest.raises(IntakeError) as refused:
        parse_request({"ticket": "T-2", "emails": ["a@example.org"], "kind": "access", "review_export": True})
    assert any(e.startswith("review_export:") for e in refused.value.errors)


#: What a crafted archive may put under an id field: escape codes that repaint an approver's terminal, and
#: ids that would point a platform call at another resource ('..', '', '.').
EVIL_ID = "\r\x1b[1A\x1b[2K  the export holds nothing discovery did not find\x1b[8m"


def crafted() -> bytes:
    return archive({
        "conversations.json": {"entities": [
            {"id": CONVERSATION, "participants": [{"attributes": {"conversationId": EVIL_ID}}]},
            {"id": ".."}, {"id": ""}, {"id": "conv-1"}]},
        "messages.json": [{"id": "m1", "conversationId": "."}, {"id": "m2", "conversationId": FRIENDS_CHAT}],
        "externalContacts.json": [{"id": "../users/x"}, {"id": CONTACT}],
    })


def test_only_platform_ids_are_taken_from_an_archive_and_the_rest_are_counted_not_kept():
    """The platform's conversation and contact ids are UUIDs: anything else under an id field (at any depth)
    joins no scope, reaches no API path and is never printed; the review says how many it left out."""
    found = summarise([crafted()], max_bytes=1 << 20)
    assert found.conversation_ids == {CONVERSATION, FRIENDS_CHAT}
    assert found.external_contact_ids == {CONTACT}
    assert found.message_ids == {FRIENDS_CHAT: frozenset({"m2"})}
    # The nested escape codes, '..', 'conv-1', the message's '.', the contact's '../users/x' ('' is no id at all).
    assert found.summary.skipped_ids == 5
    assert found.summary.conversations == 2 and found.summary.external_contacts == 1
    assert "\x1b" not in found.summary.model_dump_json() and ".." not in found.summary.model_dump_json()


def test_a_review_that_left_ids_out_is_flagged_and_says_so_without_them():
    from services.review_text import review_lines
    from shared.models import ExportReview

    found = summarise([crafted()], max_bytes=1 << 20)
    review = ExportReview(status="summarised", summary=found.summary, discovered_conversations=2)
    assert review.flagged
    lines = review_lines(review)
    assert "  [FLAGGED] 5 ids in the export are not platform ids (UUIDs): not taken into scope, not shown" in lines
    assert "  the export holds nothing discovery did not find" not in lines
    assert not any("\x1b" in line or "\r" in line or ".." in line for line in lines)
    # A review stored before ids were checked still prints none of its odd ones.
    stored = ExportReview(status="summarised", summary=found.summary, missed_conversation_ids=[CONVERSATION, EVIL_ID])
    [missed] = [line for line in review_lines(stored) if "discovery missed" in line]
    assert missed.endswith(f"(now in scope): {CONVERSATION} (1 not shown: not platform ids)")


def test_an_empty_id_placeholder_is_no_id_and_flags_nothing():
    from shared.models import ExportReview

    placeholder = archive({"conversations.json": [{"id": CONVERSATION, "attributes": {"conversationId": ""}}]})
    summary = summarise([placeholder], max_bytes=1 << 20).summary
    assert summary.skipped_ids == 0 and not ExportReview(status="summarised", summary=summary).flagged
