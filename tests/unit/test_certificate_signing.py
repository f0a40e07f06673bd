"""Issue 18, signed certificates: signed once at issue at an audit position, amended by a new certificate
that names the one it supersedes, and checked by ``erasure certificate verify`` with a public key alone
(no Redis, platform or secret: the CLI runs here with a Redis address where nothing listens)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.certificate_signing import reference, verify
from shared.certificate_store import superseded
from shared.models import ErasureRecord, RequestState, Subject, WithheldRecord
from shared.signing import Signer, generate_private_pem, key_id, load_public_key

NO_REDIS = "redis://127.0.0.1:1/0"  # nothing listens there: a command that needed Redis would fail


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ERASURE_")}
    return subprocess.run([sys.executable, "-m", "services.cli", *args], env={**clean, "ERASURE_REDIS_URL": NO_REDIS, **env},
                          capture_output=True, text=True, timeout=60)


def final_record(runtime, **changes: object) -> ErasureRecord:
    fields: dict[str, object] = dict(ticket="SIGN-1", subject=Subject(emails=["jane@example.org"]),
                                     verified_at=datetime.now(UTC), state=RequestState.COMPLETED,
                                     completed_at=datetime.now(UTC), conversation_ids=["c-1"],
                                     subject_digest="hmac-sha256:" + "d" * 64)  # as intake fixes it
    fields.update(changes)
    return runtime.store.create(ErasureRecord(**fields))  # type: ignore[arg-type]


def issued(runtime, record: ErasureRecord) -> str:
    from services.polling.tasks import issue_certificate

    issue_certificate(runtime, record.request_id)
    return str(runtime.redis.get(runtime.keys.certificate(record.request_id)))


@pytest.fixture
def signed(runtime, tmp_path) -> tuple[Path, Path, dict]:
    """A certificate issued by the unit runtime, written to a file, and its signer's public key."""
    runtime.audit.append("request.received")
    text = issued(runtime, final_record(runtime))
    certificate = tmp_path / "SIGN-1.json"
    certificate.write_text(text)
    public = tmp_path / "signing-key.pub.pem"
    public.write_text(runtime.settings.require_signer().public_pem())
    return certificate, public, json.loads(text)


def test_a_certificate_is_signed_at_issue_at_the_audit_position_it_names(runtime):
    runtime.audit.append("request.received")
    entry = runtime.audit.append("request.verified")
    text = issued(runtime, final_record(runtime))
    cert = json.loads(text)
    signer = runtime.settings.require_signer()
    assert cert["key_id"] == signer.key_id and cert["signature"]
    assert cert["audit_position"] == {"seq": entry["seq"], "hash": entry["hash"]}
    assert cert["certificate_id"].endswith(".1") and cert["supersedes"] is None
    assert verify(text, signer.public_key).valid
    [issue] = [e for e in runtime.audit.entries() if e["event"] == "certificate.issued"]
    assert issue["details"]["certificate_id"] == cert["certificate_id"]


def test_no_signing_key_no_certificate_and_the_error_names_the_variable(runtime, monkeypatch):
    from pydantic import SecretStr

    from services.polling.tasks import issue_certificate
    from shared.config import ConfigError

    record = final_record(runtime)
    monkeypatch.setattr(runtime.settings, "signing_key", SecretStr(""))
    with pytest.raises(ConfigError, match="ERASURE_SIGNING_KEY"):
        issue_certificate(runtime, record.request_id)
    assert runtime.redis.get(runtime.keys.certificate(record.request_id)) is None
    assert runtime.store.get(record.request_id).subject.emails == ["jane@example.org"]  # not scrubbed either


def test_issuing_the_same_statement_again_keeps_the_certificate(runtime):
    """A delivery that died between the certificate and the scrub issues again: nothing is re-signed."""
    record = final_record(runtime)
    first = issued(runtime, record)
    runtime.audit.append("something.else")  # the head moved on: the position is an issue field
    assert issued(runtime, record) == first
    assert superseded(runtime.redis, runtime.keys, record.request_id) == []


def test_an_amendment_is_a_new_certificate_naming_the_one_it_supersedes(runtime):
    """release-held erases what a hold kept: the request is certified again, and the first stays readable."""
    held = [WithheldRecord(kind="conversation", id=f"c-{n}", hold=f"h{n}", reason="litigation", basis="Art. 17(3)(e)")
            for n in (8, 9)]
    record = final_record(runtime, state=RequestState.COMPLETED_WITH_WITHHELD, withheld=held)
    first = issued(runtime, record)
    # One hold lifted: release-held's round erased c-8 (its states in between are the pipeline's business).
    runtime.store.save(runtime.store.get(record.request_id).model_copy(update={"withheld": held[1:]}))
    second = issued(runtime, record)

    amended, original = json.loads(second), json.loads(first)
    public = runtime.settings.require_signer().public_key
    assert amended["supersedes"] == reference(original)
    assert amended["supersedes"]["certificate_id"] == original["certificate_id"] != amended["certificate_id"]
    assert [w["id"] for w in amended["withheld"]] == ["c-9"] and len(original["withheld"]) == 2
    assert superseded(runtime.redis, runtime.keys, record.request_id) == [first]  # kept as issued
    assert verify(first, public).valid and verify(second, public).valid


def test_the_cli_verifies_an_untouched_certificate_without_redis(signed):
    certificate, public, cert = signed
    result = run_cli("certificate", "verify", str(certificate), "--public-key", str(public))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"valid, signed by {cert['key_id']}" in result.stdout
    assert str(public) in result.stderr  # it says which key it checked with


def test_the_cli_verifies_a_reindented_copy(signed, tmp_path):
    """What is signed is the content (canonical JSON), not the file's layout."""
    _, public, cert = signed
    compact = tmp_path / "compact.json"
    compact.write_text(json.dumps(cert, separators=(",", ":")))
    assert run_cli("certificate", "verify", str(compact), "--public-key", str(public)).returncode == 0


@pytest.mark.parametrize(("old", "new"), [
    ('"outcome": "completed"', '"outcome": "complated"'),  # one byte of a value
    ('"conversations": 1', '"conversations": 7'),  # a count
    ('"ticket": "SIGN-1"', '"ticket": "SIGN-2"'),
])
def test_one_changed_byte_fails_verification(signed, old, new):
    certificate, public, _ = signed
    text = certificate.read_text()
    assert text.count(old) == 1
    changed = text.replace(old, new)
    assert sum(a != b for a, b in zip(text, changed, strict=True)) == 1
    certificate.write_text(changed)
    result = run_cli("certificate", "verify", str(certificate), "--public-key", str(public))
    assert result.returncode == 1
    assert "tampered" in result.stdout and "valid, signed" not in result.stdout


def test_a_wrong_public_key_fails_and_says_so(signed, tmp_path):
    certificate, _, cert = signed
    other = tmp_path / "other.pub.pem"
    other.write_text(Signer.from_pem(generate_private_pem(), "test").public_pem())
    result = run_cli("certificate", "verify", str(certificate), "--public-key", str(other))
    assert result.returncode == 1
    assert f"wrong key: the certificate names key {cert['key_id']}" in result.stdout


def test_a_key_id_changed_to_the_verifiers_key_is_still_caught(signed, tmp_path):
    certificate, _, cert = signed
    other = Signer.from_pem(generate_private_pem(), "test")
    (tmp_path / "other.pub.pem").write_text(other.public_pem())
    certificate.write_text(json.dumps({**cert, "key_id": other.key_id}))
    result = run_cli("certificate", "verify", str(certificate), "--public-key", str(tmp_path / "other.pub.pem"))
    assert result.returncode == 1 and "tampered" in result.stdout


def test_a_key_given_twice_is_refused_not_read_as_its_last_value(signed):
    """``json.loads`` keeps the last of two ``"outcome"`` keys, other readers the first: a file that shows
    "withheld" to one tool must not verify as the signed "completed" in another."""
    certificate, public, _ = signed
    text, key = certificate.read_text(), load_public_key(public.read_text())
    assert text.startswith("{") and '"outcome": "completed"' in text
    forged = '{"outcome": "withheld", ' + text[1:]
    assert json.loads(forged)["outcome"] == "completed"  # what the verifier used to read
    verdict = verify(forged, key)
    assert not verdict.valid and verdict.reason.startswith("malformed: duplicate key 'outcome'")
    assert verify(text, key).valid


@pytest.mark.parametrize(("content", "says"), [
    ("{not json", "malformed: not a JSON certificate"),
    ("[1, 2]", "malformed: not a JSON certificate"),
    ('{"ticket": "OLD-1", "outcome": "completed"}', "unsigned: the certificate carries no signature"),
    ('{"ticket": "OLD-1", "signature": "abc"}', "malformed: signature and key_id must both be present"),
])
def test_unsigned_or_malformed_files_get_one_clear_line(signed, tmp_path, content, says):
    _, public, _ = signed
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = run_cli("certificate", "verify", str(bad), "--public-key", str(public))
    assert result.returncode == 1
    assert says in result.stdout and "Traceback" not in result.stderr


def test_without_public_key_the_deployments_key_is_used_and_named(signed, runtime):
    certificate, _, cert = signed
    pem = runtime.settings.require_signer().private_key
    from cryptography.hazmat.primitives import serialization

    private = pem.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    result = run_cli("certificate", "verify", str(certificate), ERASURE_SIGNING_KEY=private)
    assert result.returncode == 0 and f"valid, signed by {cert['key_id']}" in result.stdout
    assert "this deployment's signing key" in result.stderr
    assert private not in result.stdout + result.stderr
    bare = run_cli("certificate", "verify", str(certificate))
    assert bare.returncode == 2 and "ERASURE_SIGNING_KEY" in bare.stderr


def test_a_public_key_file_that_is_not_one_is_refused(signed, tmp_path):
    certificate, _, _ = signed
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    result = run_cli("certificate", "verify", str(certificate), "--public-key", str(junk))
    assert result.returncode == 2 and "not a PEM public key" in result.stderr


def test_keys_generate_writes_a_private_file_0600_and_never_overwrites(tmp_path):
    target = tmp_path / "signing.pem"
    made = run_cli("keys", "generate", "--output", str(target))
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    pem = target.read_text()
    signer = Signer.from_pem(pem, "test")
    assert pem not in made.stdout + made.stderr and "PRIVATE" not in made.stdout + made.stderr
    assert signer.key_id in made.stderr
    again = run_cli("keys", "generate", "--output", str(target))
    assert again.returncode == 2 and target.read_text() == pem

    exported = run_cli("keys", "export-public", ERASURE_SIGNING_KEY_FILE=str(target))
    assert exported.returncode == 0, exported.stderr
    assert key_id(load_public_key(exported.stdout)) == signer.key_id
    assert signer.key_id in exported.stderr and "PRIVATE" not in exported.stdout


def test_keys_generate_to_stdout_is_a_usable_key():
    made = run_cli("keys", "generate")
    assert made.returncode == 0
    assert Signer.from_pem(made.stdout, "test").key_id in made.stderr


def test_the_show_command_still_takes_a_ticket_first(runtime, monkeypatch):
    """``erasure certificate TICKET`` (as before verify existed) is ``erasure certificate show TICKET``."""
    from typer.testing import CliRunner

    import shared.runtime
    from services.cli import app

    monkeypatch.setattr(shared.runtime, "get_runtime", lambda: runtime)
    text = issued(runtime, final_record(runtime))
    for args in (["certificate", "SIGN-1"], ["certificate", "show", "SIGN-1"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == json.loads(text)
    helped = CliRunner().invoke(app, ["certificate", "--help"])
    assert helped.exit_code == 0 and "verify" in helped.output and "show" in helped.output


def test_a_worker_without_a_signing_key_refuses_to_start_naming_the_variable():
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ERASURE_")}
    env = {**clean, "ERASURE_HMAC_KEY": "k" * 32, "ERASURE_REDIS_URL": NO_REDIS,
           "ERASURE_GENESYS_BASE_URL": "http://127.0.0.1:1", "ERASURE_KEY_PREFIX": "unit-no-key"}
    from services.workers import worker_command

    result = subprocess.run(worker_command("polling", concurrency=1), env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert "worker refuses to start: ERASURE_SIGNING_KEY (a PEM) or ERASURE_SIGNING_KEY_FILE must be set" in result.stderr


def test_the_page_shows_the_key_id_the_signature_status_and_how_to_verify(signed):
    from shared.certificate_html import render_certificate_html

    _, public, cert = signed
    key = load_public_key(public.read_text())
    page = render_certificate_html(cert, public_key=key)
    assert f'<code id="key-id">{cert["key_id"]}</code>' in page
    assert f'id="signature-status">valid, signed by {cert["key_id"]}</span>' in page
    assert 'id="signature-status">' in page and 'class="verdict ok" id="signature-status"' in page
    assert "erasure certificate verify SIGN-1.json --public-key signing-key.pub.pem" in page
    assert f"<td>{cert['audit_position']['seq']}</td>" in page

    tampered = render_certificate_html({**cert, "outcome": "partial"}, public_key=key)
    assert 'class="verdict bad" id="signature-status">tampered' in tampered
    other = Signer.from_pem(generate_private_pem(), "test").public_key
    assert 'id="signature-status">wrong key' in render_certificate_html(cert, public_key=other)
    unchecked = render_certificate_html(cert)
    assert 'class="verdict warn" id="signature-status">' in unchecked and "not checked here" in unchecked
    unsigned = {k: v for k, v in cert.items() if k not in ("signature", "key_id")}
    assert 'id="signature-status">unsigned' in render_certificate_html(unsigned)


@pytest.mark.parametrize(("kind", "heading", "basis"), [
    ("erase", "Erasure certificate", "GDPR Article 17 &middot;"),
    ("anonymise", "Anonymisation certificate", "GDPR Article 17 (erasure by anonymisation)"),
    ("access", "Access certificate", "GDPR Article 15 &middot;"),
])
def test_the_page_is_titled_by_the_request_kind(signed, kind, heading, basis):
    from shared.certificate_html import render_certificate_html

    page = render_certificate_html({**signed[2], "kind": kind})
    assert f"<title>{heading} SIGN-1</title>" in page and f'<h1 id="heading">{heading}</h1>' in page
    assert basis in page
    if kind != "erase":
        assert "Erasure certificate" not in page


def test_deliveries_recorded_after_issue_show_on_the_page_not_in_the_certificate(runtime, signed):
    from services import operations
    from services.polling.tasks import mark_notified

    _, _, cert = signed
    key = runtime.keys.certificate(cert["request_id"])
    before = runtime.redis.get(key)
    mark_notified(runtime, cert["request_id"], "https://crm.example/hook?token=t0ken")
    assert runtime.redis.get(key) == before
    found = operations.certificate(runtime, "SIGN-1")
    assert found.delivered == ["https://crm.example"]
    page = found.html()
    assert "https://crm.example" in page and "t0ken" not in page
    assert f'id="signature-status">valid, signed by {cert["key_id"]}' in page  # the deployment's key checked it


class _Killed(BaseException):
    """The worker's process dying at that line (SIGKILL): nothing after it runs, no handler catches it."""


def test_a_delivery_killed_right_after_the_scrub_has_already_queued_the_final_event(runtime, monkeypatch):
    """A redelivered verify issues again only while the record is unscrubbed, so whatever issue_certificate
    has not done by the scrub is never done: the final event must be queued before it."""
    import services.polling.tasks as tasks
    from shared.task_names import NOTIFY_CALLBACK_TASK, NOTIFY_TASK

    monkeypatch.setattr(runtime.settings, "webhook_targets", {"crm": "https://crm.example/hooks"})
    record = final_record(runtime, callback_url="https://dsar.example/callback")
    queued: list[tuple[str, list[object], bool]] = []

    def send(task_name: str, args: list[object], **_: object) -> None:
        queued.append((task_name, args, runtime.store.get(record.request_id).scrubbed))

    real_retire = tasks.retire

    def retire_then_die(runtime_: object, record_: ErasureRecord) -> None:
        real_retire(runtime_, record_)
        raise _Killed

    monkeypatch.setattr(tasks, "send", send)
    monkeypatch.setattr(tasks, "retire", retire_then_die)
    with pytest.raises(_Killed):
        tasks.issue_certificate(runtime, record.request_id)
    assert runtime.store.get(record.request_id).scrubbed  # the redelivery will not issue again
    assert queued == [(NOTIFY_TASK, [record.request_id, "crm"], False),
                      (NOTIFY_CALLBACK_TASK, [record.request_id], False)]
