"""The audit chain detects edits, removals and reordering, and names the first bad entry; entries cut
off the end (which leave a valid chain) show against the stored head. Its hashes are keyed: a writer
without the audit key cannot edit an entry and recompute the ones after it."""

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from itertools import pairwise

import fakeredis
import pytest
from typer.testing import CliRunner

from shared.audit import AuditLog, ChainCheck, ChainProblem, audit_key, parse_head, verify_chain
from shared.keys import Keys

KEY = audit_key(b"k" * 32)  # what tests/unit/conftest.py's runtime derives from its ERASURE_HMAC_KEY


def make_log():
    return stored_log()[0]


def stored_log():
    """A log of five entries, with the Redis client and keys under it (to tamper as a Redis writer could)."""
    client, keys = fakeredis.FakeRedis(decode_responses=True), Keys("t")
    log = AuditLog(client, keys, KEY)
    for n in range(5):
        log.append("step", request_id=f"r{n}", subject="hmac-sha256:abc", details={"n": n})
    return log, client, keys


def test_intact_chain_verifies():
    log = make_log()
    entries = log.entries()
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert verify_chain(entries, key=KEY) is None
    assert log.head() == entries[-1]["hash"]


def test_edit_is_named():
    entries = make_log().entries()
    entries[2]["details"]["n"] = 99
    problem = verify_chain(entries, key=KEY)
    assert problem is not None and problem.seq == 3 and "edited" in problem.reason


def test_one_byte_edit_of_serialised_line():
    lines = [json.dumps(e, sort_keys=True) for e in make_log().entries()]
    lines[1] = lines[1].replace('"step"', '"stap"')
    problem = verify_chain((json.loads(line) for line in lines), key=KEY)
    assert problem is not None and problem.seq == 2


def test_removal_and_reorder_are_named():
    entries = make_log().entries()
    problem = verify_chain(entries[:1] + entries[2:], key=KEY)
    assert problem is not None and "seq" in problem.reason
    swapped = entries[:]
    swapped[1], swapped[2] = swapped[2], swapped[1]
    assert verify_chain(swapped, key=KEY) is not None



def test_an_entry_records_when_it_was_written_and_the_subject_digest():
    log = AuditLog(fakeredis.FakeRedis(decode_responses=True), Keys("t"), KEY)
    before = datetime.now(UTC)
    entry = log.append("request.received", request_id="r1", subject="hmac-sha256:abc", details={"n": 1})
    after = datetime.now(UTC)
    assert log.entries() == [entry]
    assert before <= datetime.fromisoformat(entry["ts"]) <= after
    assert (entry["event"], entry["request_id"], entry["subject"], entry["details"]) == (
        "request.received", "r1", "hmac-sha256:abc", {"n": 1})


def test_details_json_cannot_encode_are_kept_as_text_and_still_verify():
    log = AuditLog(fakeredis.FakeRedis(decode_responses=True), Keys("t"), KEY)
    at = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    log.append("hold.added", details={"expires_at": at, "n": 1})
    [entry] = log.entries()
    assert entry["details"] == {"expires_at": str(at), "n": 1}
    assert verify_chain([entry], key=KEY) is None


def test_personal_data_in_details_is_scrubbed_before_it_is_written():
    log = AuditLog(fakeredis.FakeRedis(decode_responses=True), Keys("t"), KEY)
    log.append("oops", details={"note": "mail from jane.doe@example.org"})
    assert "jane.doe@example.org" not in json.dumps(log.entries())


def test_entries_for_one_request():
    log = make_log()
    assert [e["details"]["n"] for e in log.entries_for("r3")] == [3]
    assert log.entries_for("r-none") == []


def _writers(count):
    server = fakeredis.FakeServer()
    return [AuditLog(fakeredis.FakeRedis(server=server, decode_responses=True), Keys("t"), KEY) for _ in range(count)]


def test_two_writers_never_fork_the_chain():
    """Another writer appends between this one building its entry on the head it last wrote and writing it:
    Redis refuses the entry (the head moved), and this writer takes its turn and appends after the other's."""
    log, other = _writers(2)
    log.append("first")
    commit = log._commit
    interrupted = []

    def interrupt_once(*args):
        if not interrupted:
            interrupted.append(other.append("other.writer"))
        return commit(*args)

    log._commit = interrupt_once
    entry = log.append("this.writer")
    assert interrupted and log.retries == 1
    assert entry["seq"] == 3 and [e["event"] for e in log.entries()] == ["first", "other.writer", "this.writer"]
    assert log.verify() == ChainCheck(3, None)


def test_a_writer_whose_last_head_is_stale_appends_after_the_others():
    """Each writer builds on the head it last wrote without reading it again; when others moved it since,
    the refused attempt sends it to take its turn, and the chain stays one line."""
    first, second = _writers(2)
    first.append("a")
    second.append("b")
    second.append("c")
    entry = first.append("d")
    assert (entry["seq"], first.retries, second.retries) == (4, 1, 0)
    assert [e["event"] for e in first.entries()] == ["a", "b", "c", "d"]
    assert first.verify() == ChainCheck(4, None)


def test_a_writer_alone_again_goes_back_to_one_round_trip_per_append():
    """After meeting another writer, a writer waits for its turn; once nobody else appends, its appends are
    single compare-and-append calls again (no turn taken, no baton popped)."""
    first, second = _writers(2)
    first.append("a")
    second.append("b")
    first.append("c")  # refused on its stale head, then appends in its turn
    first.append("d")  # takes back the baton it passed on itself: nobody came in between
    calls = []
    take, commit, blpop = first._take_turn, first._commit, first._r.blpop
    first._take_turn = lambda *a, **k: calls.append("take") or take(*a, **k)
    first._commit = lambda *a: calls.append("commit") or commit(*a)
    first._r.blpop = lambda *a, **k: calls.append("blpop") or blpop(*a, **k)
    first.append("e")
    first.append("f")
    assert calls == ["commit", "commit"]
    assert [e["event"] for e in first.entries()] == ["a", "b", "c", "d", "e", "f"]
    assert first.verify() == ChainCheck(6, None)


def test_no_entry_is_written_during_another_writers_turn_and_a_dead_writers_turn_runs_out():
    """A writer whose turn it is appends on the head it was handed; nobody else writes meanwhile, not even on
    the current head. A writer that died in its turn holds the others up only until the turn runs out."""
    log, other = _writers(2)
    log.append("a")
    other.append("b")
    client, keys = log._r, Keys("t")
    client.set(keys.audit_turn, "dead-writer", px=300)
    started = time.monotonic()
    entry = other.append("c")  # its own head is current, but the turn is the dead writer's
    assert time.monotonic() - started >= 0.2 and other.waits > 0
    assert entry["seq"] == 3 and [e["event"] for e in log.entries()] == ["a", "b", "c"]
    # Its turn ended with the append: the next is an unclaimed baton naming the new head.
    assert client.get(keys.audit_turn) == client.lindex(keys.audit_baton, 0)
    assert client.get(keys.audit_turn).startswith(f"3:{entry['hash']}|")
    assert log.verify() == ChainCheck(3, None)


def test_an_entry_without_a_seq_or_with_a_garbled_one_is_named_by_position():
    entries = make_log().entries()
    del entries[1]["seq"]
    assert verify_chain(entries, key=KEY) == ChainProblem(2, "entry 2 has seq None, expected 2")
    entries[1]["seq"] = "two"
    assert verify_chain(entries, key=KEY) == ChainProblem(2, "entry 2 has seq two, expected 2")

# --- Entries cut off or rewritten: only the stored head shows them (issue 12) ---------------------------

def canonical_body(entry):
    body = {k: v for k, v in entry.items() if k != "hash"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def canonical_hash(entry, key=KEY):
    """The chain's hash as the README's format defines it (HMAC-SHA256 under the audit key of the sorted,
    compact JSON body), written out here so a test can forge entries the way an insider holding the key
    would: only the stored head, a checkpoint or a certificate can show such a rewrite."""
    return hmac.new(key, canonical_body(entry), hashlib.sha256).hexdigest()


def sha256_hash(entry):
    """What a Redis writer without the key can compute: the plain SHA-256 the chain used before."""
    return hashlib.sha256(canonical_body(entry)).hexdigest()


def replace_entries(client, keys, entries):
    client.delete(keys.audit_log)
    if entries:
        client.rpush(keys.audit_log, *(json.dumps(e, sort_keys=True) for e in entries))


def renumbered_without(entries, removed_seq, *, relink):
    """Drop one entry, renumber the later ones and rehash them; with ``relink`` also point each ``prev``
    at the new entry before it (a full rewrite), otherwise keep the ``prev`` fields they had."""
    out = [dict(e) for e in entries if e["seq"] != removed_seq]
    prev = "0" * 64
    for seq, entry in enumerate(out, start=1):
        if entry["seq"] != seq or (relink and entry["prev"] != prev):
            entry["seq"] = seq
            if relink:
                entry["prev"] = prev
            entry["hash"] = canonical_hash(entry)
        prev = entry["hash"]
    return out


def test_the_hash_is_the_documented_canonical_form():
    """A log exported by one version must verify with another: the hash format is part of the contract."""
    entries = make_log().entries()
    assert all(e["hash"] == canonical_hash(e) for e in entries)
    assert entries[0]["prev"] == "0" * 64
    assert all(later["prev"] == earlier["hash"] for earlier, later in pairwise(entries))


def test_removing_one_entry_names_it():
    entries = make_log().entries()
    problem = verify_chain(entries[:2] + entries[3:], key=KEY)
    assert problem == ChainProblem(3, "entry 3 has seq 4, expected 3")


def test_swapping_two_entries_names_the_first_out_of_place():
    entries = make_log().entries()
    entries[1], entries[2] = entries[2], entries[1]
    problem = verify_chain(entries, key=KEY)
    assert problem is not None and problem.seq == 2 and "entry 2 has seq 3, expected 2" in problem.reason


def test_reordering_with_renumbered_and_rehashed_entries_breaks_the_links():
    entries = make_log().entries()
    entries[1], entries[2] = dict(entries[2]), dict(entries[1])
    for seq, entry in enumerate(entries[1:3], start=2):
        entry["seq"] = seq
        entry["hash"] = canonical_hash(entry)
    problem = verify_chain(entries, key=KEY)
    assert problem is not None and problem.seq == 2 and "does not follow the entry before it" in problem.reason


def test_removal_hidden_by_renumbering_and_rehashing_is_caught_by_the_links():
    """Seq and hash are consistent again; only the kept ``prev`` field still points at the removed entry."""
    rewritten = renumbered_without(make_log().entries(), 3, relink=False)
    assert [e["seq"] for e in rewritten] == [1, 2, 3, 4]
    assert all(e["hash"] == canonical_hash(e) for e in rewritten)
    problem = verify_chain(rewritten, key=KEY)
    assert problem == ChainProblem(3, "entry 3 does not follow the entry before it (removed or reordered)")


def test_a_full_rewrite_after_removal_holds_as_a_chain_but_not_against_the_stored_head():
    log, client, keys = stored_log()
    head = client.get(keys.audit_head)
    rewritten = renumbered_without(log.entries(), 3, relink=True)
    assert verify_chain(rewritten, key=KEY) is None  # the chain alone cannot tell
    problem = verify_chain(rewritten, head=head, key=KEY)
    assert problem is not None and problem.seq == 5
    assert "entry 5 is missing" in problem.reason and "cut off the end" in problem.reason

    replace_entries(client, keys, rewritten)
    assert log.verify() == ChainCheck(4, problem)


@pytest.mark.parametrize("cut", [1, 3, 5])
def test_truncating_the_last_entries_fails_against_the_stored_head(cut):
    log, client, keys = stored_log()
    head = client.get(keys.audit_head)
    kept = log.entries()[:-cut]
    assert verify_chain(kept, key=KEY) is None
    first_missing = 5 - cut + 1
    problem = verify_chain(kept, head=head, key=KEY)
    assert problem == ChainProblem(first_missing, f"entry {first_missing} is missing: the log ends at entry {5 - cut} "
                                                  "but the stored head is entry 5 (entries cut off the end)")
    replace_entries(client, keys, kept)
    assert log.verify() == ChainCheck(5 - cut, problem)


def test_an_intact_chain_passes_with_its_head():
    log, client, keys = stored_log()
    assert client.get(keys.audit_head) == f"5:{log.head()}"
    assert verify_chain(log.entries(), head=client.get(keys.audit_head), key=KEY) is None
    assert log.verify() == ChainCheck(5, None)


def test_an_empty_log_passes_and_a_log_whose_head_was_deleted_does_not():
    empty = AuditLog(fakeredis.FakeRedis(decode_responses=True), Keys("empty"), KEY)
    assert empty.verify().entries == 0 and empty.verify().problem is None
    log, client, keys = stored_log()
    client.delete(keys.audit_head)
    check = log.verify()
    assert check.entries == 5 and check.problem is not None and check.problem.seq == 1
    assert "head was deleted" in check.problem.reason


def test_a_head_that_names_another_last_entry_is_a_rewrite():
    entries = make_log().entries()
    other = make_log().entries()  # same events, other timestamps: other hashes
    problem = verify_chain(entries, head=f"5:{other[-1]['hash']}", key=KEY)
    assert problem == ChainProblem(5, "entry 5 does not match the stored head: the log was rewritten (or the head replaced)")


def test_entries_past_the_stored_head_are_named():
    entries = make_log().entries()
    problem = verify_chain(entries, head=f"3:{entries[2]['hash']}", key=KEY)
    assert problem == ChainProblem(4, "entry 4 lies past the stored head, entry 3 (written outside the log, or the head "
                                      "replaced)")


def test_a_later_append_moves_the_head_and_still_verifies():
    log, client, keys = stored_log()
    log.append("later", request_id="r9")
    assert client.get(keys.audit_head) == f"6:{log.head()}"
    assert log.verify() == ChainCheck(6, None)


@pytest.mark.parametrize("head", ["", "5", "five:" + "a" * 64, "5:" + "a" * 63, "5:" + "A" * 64, "-1:" + "a" * 64,
                                  " 5:" + "a" * 64])
def test_a_malformed_head_is_refused(head):
    with pytest.raises(ValueError, match="SEQ:HASH"):
        verify_chain(make_log().entries(), head=head, key=KEY)


def test_parse_head_reads_what_append_stores():
    log, client, keys = stored_log()
    assert parse_head(client.get(keys.audit_head)) == (5, log.head())


# --- Keyed hashes: a Redis writer without the audit key cannot recompute the chain (issue 18) ----------------

def long_log(n=20):
    client, keys = fakeredis.FakeRedis(decode_responses=True), Keys("t")
    log = AuditLog(client, keys, KEY)
    for i in range(n):
        log.append("step", request_id=f"r{i}", details={"n": i})
    return log, client, keys


def rewritten_from(entries, seq, rehash):
    """Edit entry ``seq`` and recompute the hash and link of every entry after it with ``rehash``."""
    out = [dict(e) for e in entries]
    out[seq - 1]["details"] = {"n": 999}
    for index in range(seq - 1, len(out)):
        if index:
            out[index]["prev"] = out[index - 1]["hash"]
        out[index]["hash"] = rehash(out[index])
    return out


@pytest.mark.parametrize("rehash", [sha256_hash, lambda e: canonical_hash(e, audit_key(b"w" * 32))],
                         ids=["plain-sha256", "wrong-key"])
def test_an_edit_with_every_later_hash_recomputed_without_the_key_is_named(rehash):
    log, client, keys = long_log()
    rewritten = rewritten_from(log.entries(), 10, rehash)
    head = f"20:{rewritten[-1]['hash']}"
    client.set(keys.audit_head, head)  # the stored head rewritten too: a Redis writer can
    replace_entries(client, keys, rewritten)
    problem = log.verify().problem
    assert problem is not None and problem.seq == 10 and "entry 10 was edited" in problem.reason


def test_downgrading_entries_to_the_unkeyed_version_is_named():
    """Dropping ``v`` makes an entry's hash plain SHA-256 again; after a keyed entry that is a rewrite."""
    log, client, keys = long_log()
    rewritten = [dict(e) for e in log.entries()]
    for entry in rewritten[9:]:
        del entry["v"]
    rewritten = rewritten_from(rewritten, 10, sha256_hash)
    client.set(keys.audit_head, f"20:{rewritten[-1]['hash']}")
    replace_entries(client, keys, rewritten)
    assert log.verify().problem == ChainProblem(10, "entry 10 was rewritten: it is unkeyed after keyed entries")


def test_a_log_written_before_the_key_still_verifies_and_grows_keyed():
    """Version 1 entries (no ``v``, plain SHA-256) as the chain wrote them before issue 18."""
    client, keys = fakeredis.FakeRedis(decode_responses=True), Keys("t")
    prev, old = "0" * 64, []
    for seq in (1, 2):
        entry = {"seq": seq, "ts": "2026-01-01T00:00:00+00:00", "event": "old", "request_id": None, "subject": None,
                 "details": {}, "prev": prev}
        entry["hash"] = sha256_hash(entry)
        prev = entry["hash"]
        old.append(entry)
    replace_entries(client, keys, old)
    client.set(keys.audit_head, f"2:{prev}")
    log = AuditLog(client, keys, KEY)
    log.append("new")
    assert log.verify() == ChainCheck(3, None, unkeyed=2)
    assert log.entries()[-1]["v"] == 2 and log.entries()[-1]["prev"] == prev


def test_the_audit_key_is_derived_and_is_not_the_digest_key():
    assert audit_key(b"k" * 32) == hmac.new(b"k" * 32, b"erasure/audit-chain/v1", hashlib.sha256).digest()
    assert audit_key(b"k" * 32) not in (b"k" * 32, audit_key(b"j" * 32))


def test_the_key_is_read_only_when_first_needed():
    """A process that never appends (a status command) needs no ERASURE_HMAC_KEY."""
    asked = []
    log = AuditLog(fakeredis.FakeRedis(decode_responses=True), Keys("t"), lambda: asked.append(1) or KEY)
    assert asked == [] and log.entries() == []
    log.append("x")
    log.append("y")
    assert asked == [1] and log.verify().problem is None


def test_every_nth_entry_is_checkpointed_and_a_failing_checkpoint_fails_no_append():
    written = []
    log = AuditLog(fakeredis.FakeRedis(decode_responses=True), Keys("t"), KEY, checkpoint_every=3,
                   checkpointer=lambda seq, digest: written.append((seq, digest)))
    entries = [log.append("x") for _ in range(7)]
    assert written == [(3, entries[2]["hash"]), (6, entries[5]["hash"])]

    def broken(seq, digest):
        raise RuntimeError("signing failed")

    log.checkpointer = broken
    assert [log.append("y")["seq"] for _ in range(3)] == [8, 9, 10]
    assert log.verify() == ChainCheck(10, None)


# --- `erasure audit verify`: exit status and message ---------------------------------------------------

@pytest.fixture
def cli(runtime, monkeypatch):
    """Run the CLI in process against the fakeredis runtime (tests/unit/conftest.py)."""
    import shared.config
    import shared.runtime
    from services.cli import app

    monkeypatch.setattr(shared.runtime, "get_runtime", lambda: runtime)
    monkeypatch.setattr(shared.config, "get_settings", lambda: runtime.settings)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["audit", "verify", *args])


def fill(runtime, n=5):
    for i in range(n):
        runtime.audit.append("step", request_id=f"r{i}", details={"n": i})
    return runtime.audit.entries()


def test_cli_passes_an_intact_redis_log(cli, runtime):
    fill(runtime)
    result = cli()
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "audit chain intact: 5 entries, ending at the stored head, 0 signed checkpoints"


def test_cli_fails_a_truncated_redis_log_naming_the_first_missing_entry(cli, runtime):
    fill(runtime)
    for _ in range(2):
        runtime.redis.rpop(runtime.keys.audit_log)
    result = cli()
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip() == ("audit chain broken: entry 4 is missing: the log ends at entry 3 but the stored "
                                     "head is entry 5 (entries cut off the end)")


def test_cli_still_names_an_edited_entry_in_redis(cli, runtime):
    entries = fill(runtime)
    entries[1]["event"] = "stop"
    runtime.redis.lset(runtime.keys.audit_log, 1, json.dumps(entries[1], sort_keys=True))
    result = cli()
    assert result.exit_code == 1 and "entry 2 was edited" in result.stderr


def test_cli_file_without_head_says_truncation_is_undetectable(cli, runtime, tmp_path):
    export = tmp_path / "audit.jsonl"
    export.write_text("".join(json.dumps(e) + "\n" for e in fill(runtime)[:3]))
    result = cli("--file", str(export))
    assert result.exit_code == 0, result.stderr
    assert "audit chain intact: 3 entries" in result.stdout
    assert "without --head, entries cut off the end cannot be detected" in result.stdout


def test_cli_file_with_head_catches_truncation_and_passes_the_whole_export(cli, runtime, tmp_path):
    entries = fill(runtime)
    head = runtime.redis.get(runtime.keys.audit_head)
    export = tmp_path / "audit.jsonl"
    export.write_text("".join(json.dumps(e) + "\n" for e in entries[:3]))
    cut = cli("--file", str(export), "--head", head)
    assert cut.exit_code == 1 and "entry 4 is missing" in cut.stderr
    export.write_text("".join(json.dumps(e) + "\n" for e in entries))
    whole = cli("--file", str(export), "--head", head)
    assert whole.exit_code == 0, whole.stderr
    assert whole.stdout.strip() == "audit chain intact: 5 entries, ending at the given head"


def test_cli_refuses_a_malformed_head_and_a_head_without_a_file(cli, runtime, tmp_path):
    export = tmp_path / "audit.jsonl"
    export.write_text("".join(json.dumps(e) + "\n" for e in fill(runtime)))
    bad = cli("--file", str(export), "--head", "5")
    assert bad.exit_code == 2 and bad.stdout == ""
    assert bad.stderr.strip() == "refused --head: an audit head is SEQ:HASH, the last entry's seq and its 64 hex digit hash"
    alone = cli("--head", runtime.redis.get(runtime.keys.audit_head))
    assert alone.exit_code == 2 and "--head goes with --file" in alone.stderr
