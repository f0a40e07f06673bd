"""Anchors the chain cannot take back (issue 18): signed checkpoints of the head, certificates' audit
positions and signed export manifests. Cutting entries off the end, or rewriting the chain by someone
who holds the audit key, shows against any anchor issued after them, and is named."""

import json

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from services import audit_check
from shared.audit import AuditLog, audit_key
from shared.audit_checkpoints import write_checkpoint
from shared.audit_export import SEGMENT_ENTRIES
from shared.signing import Signer, generate_private_pem
from tests.unit.test_audit_chain import canonical_hash, replace_entries, rewritten_from, sha256_hash

KEY = audit_key(b"k" * 32)


@pytest.fixture
def signed(runtime, monkeypatch):
    """The fakeredis runtime with a signing key, checkpointing every 10th entry (as from_settings wires it)."""
    monkeypatch.setattr(runtime.settings, "signing_key", SecretStr(generate_private_pem()))
    runtime.audit = AuditLog(runtime.redis, runtime.keys, KEY, checkpoint_every=10, checkpointer=runtime.checkpoints.write)
    return runtime


def fill(runtime, n):
    for i in range(n):
        runtime.audit.append("step", request_id=f"r{i}", details={"n": i})
    return runtime.audit.entries()


def keys_of(runtime):
    return audit_check.public_keys(runtime.settings, [])


def verify(runtime, certificates=None):
    return audit_check.verify_stored(runtime, keys_of(runtime), certificates)


def cut_last(runtime, n):
    """What a Redis writer can do: drop the last ``n`` entries and point the head at the new last one."""
    entries = runtime.audit.entries()[:-n]
    replace_entries(runtime.redis, runtime.keys, entries)
    runtime.redis.set(runtime.keys.audit_head, f"{entries[-1]['seq']}:{entries[-1]['hash']}")


def test_an_untouched_chain_verifies_with_its_checkpoints(signed):
    fill(signed, 25)
    assert [c["seq"] for c in signed.checkpoints.all()] == [10, 20]
    report = verify(signed)
    assert report.problems == [] and (report.entries, report.checkpoints) == (25, 2)


def test_a_checkpoint_is_the_signed_head(signed):
    entries = fill(signed, 3)
    checkpoint = write_checkpoint(signed)
    signer = signed.settings.require_signer()
    assert {k: checkpoint[k] for k in ("seq", "hash", "key_id")} == {"seq": 3, "hash": entries[-1]["hash"],
                                                                     "key_id": signer.key_id}
    assert signed.checkpoints.all() == [checkpoint]


def test_no_checkpoint_without_a_signing_key_or_for_an_empty_log(runtime, monkeypatch):
    monkeypatch.setattr(runtime.settings, "signing_key", SecretStr(""))  # the unit runtime has one
    assert write_checkpoint(runtime) is None  # empty log
    fill(runtime, 2)
    assert write_checkpoint(runtime) is None and runtime.checkpoints.all() == []


@pytest.mark.parametrize("cut", [1, 5, 12])
def test_entries_cut_off_the_end_are_named_by_a_checkpoint_issued_after_them(signed, cut):
    fill(signed, 25)
    write_checkpoint(signed)  # at 25, as the last certificate's
    cut_last(signed, cut)
    assert signed.audit.verify().problem is None  # chain and head agree: only the checkpoint can tell
    report = verify(signed)
    assert len(report.problems) == 1
    assert report.problems[0].startswith(f"entries after seq {25 - cut} are missing: checkpoint ")


def test_entries_cut_off_the_end_are_named_by_a_certificate_issued_after_them(signed, tmp_path):
    entries = fill(signed, 8)  # below the first periodic checkpoint
    at = entries[-1]
    (tmp_path / "T-1.json").write_text(json.dumps({"ticket": "T-1", "audit_chain_head": f"{at['seq']}:{at['hash']}"}))
    (tmp_path / "T-2.json").write_text(json.dumps({"ticket": "T-2", "audit_seq": 6, "audit_hash": entries[5]["hash"]}))
    (tmp_path / "T-3.json").write_text(json.dumps({"ticket": "T-3", "audit_chain_head": entries[6]["hash"]}))
    assert verify(signed, tmp_path).problems == []
    cut_last(signed, 3)
    problems = verify(signed, tmp_path).problems
    assert problems[0] == "entries after seq 5 are missing: certificate T-2.json, certificate T-1.json vouches for entry 8"
    assert problems[1].startswith("certificate T-3.json: its audit position ") and "no longer in the chain" in problems[1]


def test_a_rewrite_by_a_key_holder_is_named_and_placed_between_checkpoints(signed):
    """An insider with the audit key recomputes every hash after entry 15: the chain holds, the head
    matches, the checkpoint at 20 does not; the one at 10 still does, so the change lies in 11-20."""
    fill(signed, 25)
    rewritten = rewritten_from(signed.audit.entries(), 15, canonical_hash)
    replace_entries(signed.redis, signed.keys, rewritten)
    signed.redis.set(signed.keys.audit_head, f"25:{rewritten[-1]['hash']}")
    assert signed.audit.verify().problem is None
    assert verify(signed).problems == [
        "entry 20 was rewritten (the change lies in entries 11-20: entry 10 still matches its anchor): checkpoint 2 "
        f"({signed.checkpoints.all()[1]['at']}) holds another hash for it"]


def test_a_rewrite_without_the_key_is_named_at_the_edited_entry(signed):
    fill(signed, 25)
    rewritten = rewritten_from(signed.audit.entries(), 10, lambda e: canonical_hash(e, audit_key(b"x" * 32)))
    replace_entries(signed.redis, signed.keys, rewritten)
    signed.redis.set(signed.keys.audit_head, f"25:{rewritten[-1]['hash']}")
    problems = verify(signed).problems
    assert problems[0].startswith("entry 10 was edited")
    assert [p.split(" (")[0] for p in problems[1:]] == ["entry 10 was rewritten", "entry 20 was rewritten"]


def test_a_checkpoint_with_one_changed_byte_fails(signed):
    fill(signed, 10)
    raw = signed.redis.lindex(signed.keys.audit_checkpoints, 0)
    forged = raw.replace('"seq": 10', '"seq": 11')
    assert forged != raw
    signed.redis.lset(signed.keys.audit_checkpoints, 0, forged)
    assert verify(signed).problems == ["checkpoint 1 has an invalid signature: it was changed after it was signed"]


def test_a_checkpoint_of_another_key_or_without_a_key_to_check_it_is_not_trusted(signed, monkeypatch):
    fill(signed, 10)
    other = Signer.from_pem(generate_private_pem(), "test")
    assert audit_check.verify_stored(signed, {other.key_id: other.public_key}, None).problems == [
        f"checkpoint 1 is signed by key {signed.settings.require_signer().key_id}, which this check does not hold "
        "(--public-key)"]
    assert audit_check.verify_stored(signed, {}, None).problems == [
        "1 checkpoints cannot be checked: no public key (--public-key, or ERASURE_SIGNING_KEY)"]


def test_the_watchdog_pass_checkpoints_the_head_once_it_moved(signed):
    from services.watchdog_thread import leased_pass

    fill(signed, 3)
    assert leased_pass(signed, "worker-a") is not None
    assert [c["seq"] for c in signed.checkpoints.all()] == [3]
    signed.redis.delete(signed.keys.watchdog_lease)
    leased_pass(signed, "worker-a")
    assert [c["seq"] for c in signed.checkpoints.all()] == [3]  # the head did not move: nothing new
    fill(signed, 2)
    signed.redis.delete(signed.keys.watchdog_lease)
    leased_pass(signed, "worker-a")
    assert [c["seq"] for c in signed.checkpoints.all()] == [3, 5]
    assert verify(signed).problems == []


def test_a_bad_signing_key_fails_the_checkpoint_not_the_watchdog_pass(signed, monkeypatch, caplog):
    from services.watchdog_thread import leased_pass

    fill(signed, 2)
    monkeypatch.setattr(signed.settings, "signing_key", SecretStr("not a pem"))
    assert leased_pass(signed, "worker-a") is not None
    assert signed.checkpoints.all() == [] and "audit checkpoint not written (ConfigError)" in caplog.text


# --- export: segments and a signed manifest ---------------------------------------------------------

def test_an_export_verifies_without_redis_or_the_audit_key(signed, tmp_path):
    fill(signed, 12)
    first = audit_check.export(signed, 0, tmp_path)
    fill(signed, 3)
    second = audit_check.export(signed, first.last_seq, tmp_path)
    assert (first.first_seq, first.last_seq, second.first_seq, second.last_seq) == (1, 12, 13, 15)
    report = audit_check.verify_export_dir(tmp_path, keys_of(signed), None, None)
    assert report.problems == [] and (report.entries, report.manifests) == (15, 2)
    assert audit_check.verify_export_dir(tmp_path, keys_of(signed), KEY, None).problems == []
    manifest = json.loads(first.manifest.read_text())
    assert manifest["segments"][0]["file"] == "audit-000000000001-000000000012.jsonl"
    assert manifest["key_id"] == signed.settings.require_signer().key_id and manifest["head_hash"] == \
        signed.audit.entries()[11]["hash"]


def test_a_modified_segment_or_manifest_is_detected(signed, tmp_path):
    fill(signed, 5)
    done = audit_check.export(signed, 0, tmp_path)
    segment = done.segments[0]
    segment.write_text(segment.read_text().replace('"n": 2', '"n": 7'))
    assert audit_check.verify_export_dir(tmp_path, keys_of(signed), None, None).problems == [
        f"segment {segment.name} was modified: its SHA-256 is not the manifest's"]
    manifest = json.loads(done.manifest.read_text())
    manifest["last_seq"] = 4
    done.manifest.write_text(json.dumps(manifest))
    assert audit_check.verify_export_dir(tmp_path, keys_of(signed), None, None).problems == [
        f"{done.manifest.name} has an invalid signature: it was changed after it was signed"]


def test_a_missing_export_between_two_others_is_named(signed, tmp_path):
    fill(signed, 3)
    first = audit_check.export(signed, 0, tmp_path)
    fill(signed, 2)
    second = audit_check.export(signed, 3, tmp_path)
    fill(signed, 2)
    audit_check.export(signed, 5, tmp_path)
    second.manifest.unlink()
    assert first.last_seq == 3
    assert audit_check.verify_export_dir(tmp_path, keys_of(signed), None, None).problems == [
        "audit-000000000006-000000000007.manifest.json starts at entry 6, but the export before it ends at entry 3 "
        "(a manifest missing, or exports overlap)"]


def test_an_export_is_split_into_segments_and_never_overwrites(signed, tmp_path, monkeypatch):
    entries = fill(signed, 7)
    from shared.audit_export import export_entries

    done = export_entries(entries, 0, tmp_path, signed.settings.require_signer(), segment_entries=3)
    assert [p.name for p in done.segments] == ["audit-000000000001-000000000003.jsonl",
                                               "audit-000000000004-000000000006.jsonl",
                                               "audit-000000000007-000000000007.jsonl"]
    assert audit_check.verify_export_dir(tmp_path, keys_of(signed), KEY, None).problems == []
    with pytest.raises(FileExistsError):
        audit_check.export(signed, 0, tmp_path)
    assert SEGMENT_ENTRIES >= 1000


def test_a_log_that_does_not_verify_is_not_exported(signed, tmp_path):
    fill(signed, 12)
    cut_last(signed, 4)
    with pytest.raises(ValueError, match="entries after seq 8 are missing"):
        audit_check.export(signed, 0, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_certificates_are_checked_against_an_export_too(signed, tmp_path):
    entries = fill(signed, 4)
    exported, certs = tmp_path / "export", tmp_path / "certs"
    certs.mkdir()
    (certs / "T-9.json").write_text(json.dumps({"audit_chain_head": f"6:{entries[-1]['hash']}"}))
    audit_check.export(signed, 0, exported)
    problems = audit_check.verify_export_dir(exported, keys_of(signed), None, certs).problems
    assert problems == ["entries after seq 4 are missing: certificate T-9.json vouches for entry 6"]


# --- the CLI ------------------------------------------------------------------------------------------

@pytest.fixture
def cli(signed, monkeypatch):
    import shared.config
    import shared.runtime
    from services.cli import app

    monkeypatch.setattr(shared.runtime, "get_runtime", lambda: signed)
    monkeypatch.setattr(shared.config, "get_settings", lambda: signed.settings)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["audit", *args])


def test_cli_verify_names_truncation_below_a_certificate_and_export_round_trips(cli, signed, tmp_path):
    entries = fill(signed, 12)
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "T-1.json").write_text(json.dumps({"audit_chain_head": f"12:{entries[-1]['hash']}"}))
    intact = cli("verify", "--certificates", str(certs))
    assert intact.exit_code == 0, intact.stderr
    assert intact.stdout.strip() == ("audit chain intact: 12 entries, ending at the stored head, 1 signed checkpoints, "
                                     "1 certificate positions")
    exported = cli("export", "--out", str(tmp_path / "worm"))
    assert exported.exit_code == 0, exported.stderr
    assert exported.stdout.strip() == ("exported entries 1-12 in 1 segments; manifest "
                                       "audit-000000000001-000000000012.manifest.json")
    pem = tmp_path / "public.pem"
    pem.write_text(signed.settings.require_signer().public_pem())
    offline = cli("verify", "--export", str(tmp_path / "worm"), "--public-key", str(pem), "--certificates", str(certs))
    assert offline.exit_code == 0, offline.stderr
    cut_last(signed, 3)  # below the checkpoint at 10 too
    broken = cli("verify", "--certificates", str(certs))
    assert broken.exit_code == 1 and broken.stdout == ""
    checkpoint = signed.checkpoints.all()[0]
    assert broken.stderr.strip() == (f"audit chain broken: entries after seq 9 are missing: checkpoint 1 ({checkpoint['at']}), "
                                     "certificate T-1.json vouches for entry 12")
    again = cli("export", "--out", str(tmp_path / "worm2"))
    assert again.exit_code == 1 and "nothing exported" in again.stderr


# --- the unkeyed prefix, pinned (a rewrite as version 1 entries, which need no key) ---------------------

def as_unkeyed_from(entries, seq):
    """What a Redis writer without the key can do: drop ``v`` from entry ``seq`` on, rehash them with
    plain SHA-256 and relink; every entry before stays as it was."""
    out = [dict(e) for e in entries]
    for entry in out[seq - 1:]:
        del entry["v"]
    return rewritten_from(out, seq, sha256_hash)


def store(runtime, entries):
    replace_entries(runtime.redis, runtime.keys, entries)
    runtime.redis.set(runtime.keys.audit_head, f"{entries[-1]['seq']}:{entries[-1]['hash']}")


def legacy_log(runtime, n):
    """``n`` version 1 entries as the chain wrote them before the audit key, and their stored head."""
    prev, old = "0" * 64, []
    for seq in range(1, n + 1):
        entry = {"seq": seq, "ts": "2026-01-01T00:00:00+00:00", "event": "old", "request_id": None,
                 "subject": None, "details": {}, "prev": prev}
        entry["hash"] = sha256_hash(entry)
        prev = entry["hash"]
        old.append(entry)
    store(runtime, old)


def test_a_new_deployment_pins_no_unkeyed_entries_from_its_first_checkpoint(signed):
    fill(signed, 10)
    assert [c["unkeyed_prefix"] for c in signed.checkpoints.all()] == [0]


def test_a_rewrite_as_unkeyed_entries_past_the_pinned_prefix_is_named(signed):
    """Five entries from before the key, checkpointed as they were (pin 5), then keyed ones. A writer
    rewrites everything after entry 5 as unkeyed and removes the later checkpoints: the chain holds, the
    head matches, the checkpoint at 5 still matches; only its pin shows the rewrite."""
    legacy_log(signed, 5)
    write_checkpoint(signed)
    entries = fill(signed, 20)
    assert [c["unkeyed_prefix"] for c in signed.checkpoints.all()] == [5, 5, 5]
    assert verify(signed).problems == []
    store(signed, as_unkeyed_from(entries, 6))
    signed.redis.ltrim(signed.keys.audit_checkpoints, 0, 0)
    assert verify(signed).problems == [
        "entry 6 was rewritten: it is unkeyed, but checkpoint 1 "
        f"({signed.checkpoints.all()[0]['at']}) pins the unkeyed entries to the first 5 (20 unkeyed entries past the pin)"]


def test_a_checkpoint_written_after_such_a_rewrite_keeps_the_earlier_pin(signed):
    legacy_log(signed, 5)
    write_checkpoint(signed)
    store(signed, as_unkeyed_from(fill(signed, 8), 6))
    assert write_checkpoint(signed)["unkeyed_prefix"] == 5
    assert verify(signed).problems[-1].startswith("entry 6 was rewritten: it is unkeyed, but checkpoint 1 ")


def test_a_log_rewritten_as_unkeyed_with_its_checkpoints_deleted_is_named_and_not_exported(signed, tmp_path,
                                                                                              monkeypatch):
    """The whole log rewritten as version 1 entries with a new head, and the checkpoints list deleted:
    nothing in Redis contradicts it, but a log this long must hold a checkpoint."""
    monkeypatch.setattr(signed.settings, "audit_checkpoint_every", 10)
    entries = fill(signed, 25)
    store(signed, as_unkeyed_from(entries, 1))
    signed.redis.delete(signed.keys.audit_checkpoints)
    assert verify(signed).problems == [
        "checkpoints missing: the log has 25 entries and no valid signed checkpoint (one is written every 10 "
        "entries; deleted from Redis, or a signing key configured only now: the watchdog writes one within an interval)"]
    with pytest.raises(ValueError, match="checkpoints missing"):
        audit_check.export(signed, 0, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_short_log_needs_no_checkpoint_yet(signed, monkeypatch):
    monkeypatch.setattr(signed.settings, "audit_checkpoint_every", 10)
    fill(signed, 9)
    assert signed.checkpoints.all() == [] and verify(signed).problems == []


def test_an_export_pins_the_prefix_and_a_later_export_of_a_rewrite_is_named(signed, tmp_path):
    """A manifest records the unkeyed prefix; an export signed later of entries rewritten as unkeyed (each
    export alone holds as a chain) shows against the earlier export's pin."""
    entries = fill(signed, 12)
    first = audit_check.export(signed, 0, tmp_path)
    assert json.loads(first.manifest.read_text())["unkeyed_prefix"] == 0
    from shared.audit_export import export_entries

    rewritten = as_unkeyed_from(fill(signed, 3), 13)
    export_entries(rewritten, 12, tmp_path, signed.settings.require_signer())
    assert audit_check.verify_export_dir(tmp_path, keys_of(signed), None, None).problems == [
        f"entry 13 was rewritten: it is unkeyed, but {first.manifest.name} pins the unkeyed entries to the first 0 "
        "(3 unkeyed entries past the pin)"]
    assert entries[-1]["hash"] == rewritten[11]["hash"]


# --- strict reading: a key given twice is never read as its last value --------------------------------

def test_a_checkpoint_with_a_key_given_twice_is_not_trusted(signed):
    fill(signed, 10)
    raw = signed.redis.lindex(signed.keys.audit_checkpoints, 0)
    signed.redis.lset(signed.keys.audit_checkpoints, 0, '{"seq": 3, ' + raw[1:])
    assert verify(signed).problems == ["checkpoint 1 is not a checkpoint (type, seq, hash or signature missing)"]


def test_a_manifest_with_a_key_given_twice_is_refused(signed, tmp_path):
    fill(signed, 4)
    done = audit_check.export(signed, 0, tmp_path)
    text = done.manifest.read_text()
    done.manifest.write_text('{"last_seq": 2,' + text[1:])
    assert audit_check.verify_export_dir(tmp_path, keys_of(signed), None, None).problems == [
        f"{done.manifest.name} cannot be read as JSON (duplicate key 'last_seq')"]


# --- version 2 certificates -----------------------------------------------------------------------------

def test_a_cut_below_a_version_2_certificates_position_is_named_with_its_seq(signed, tmp_path):
    entries = fill(signed, 8)
    (tmp_path / "T-2.json").write_text(json.dumps({"certificate_version": 2, "audit_position": {
        "seq": 7, "hash": entries[6]["hash"]}}))
    assert verify(signed, tmp_path).problems == []
    cut_last(signed, 3)
    assert verify(signed, tmp_path).problems == [
        "entries after seq 5 are missing: certificate T-2.json vouches for entry 7"]
