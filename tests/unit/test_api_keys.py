"""API keys: shown once, stored only as a hash, found by name or id, revoked at once."""

from __future__ import annotations

import asyncio
import json
import logging
import threading

import pytest
import redis
from typer.testing import CliRunner

import shared.runtime
from services.cli import app as cli
from services.intake import api
from shared.api_keys import ApiKeyError, ApiKeyStore, Scope, same_person, split_token, token_hash
from tests.support.legacy_keys import stored_before_the_rule


@pytest.fixture
def keys(runtime):
    return ApiKeyStore(runtime.redis, runtime.keys)


def test_a_key_is_stored_only_as_its_hash_and_verifies_to_its_principal(keys, runtime):
    info, token = keys.create("dsar-tool", ["requests:submit", "requests:read"])
    assert token.startswith(f"ek_{info.key_id}_") and split_token(token) is not None
    stored = runtime.redis.hgetall(runtime.keys.api_key(info.key_id))
    assert stored["hash"] == token_hash(token) and token.split("_", 2)[2] not in json.dumps(stored)
    verdict = keys.verify(token)
    assert verdict.reason == "ok" and verdict.principal.name == "dsar-tool"
    assert verdict.principal.scopes == {Scope.SUBMIT, Scope.READ}
    assert not verdict.principal.allows(Scope.APPROVE)


@pytest.mark.parametrize(("token", "reason"), [(None, "missing"), ("", "missing"), ("ek_nothex_" + "x" * 43, "malformed"),
                                              ("ek_0123456789ab_" + "x" * 43, "unknown")])
def test_bad_tokens_are_named_by_reason(keys, token, reason):
    verdict = keys.verify(token)
    assert verdict.principal is None and verdict.reason == reason


def test_a_wrong_secret_and_a_revoked_key_fail(keys):
    info, token = keys.create("a", ["requests:read"])
    assert keys.verify(token[:-1] + ("x" if token[-1] != "x" else "y")).reason == "wrong_secret"
    assert keys.revoke(info.key_id).revoked_at is not None
    assert keys.verify(token).reason == "revoked"
    # The name is free again; the revoked key stays listed.
    keys.create("a", ["requests:read"])
    assert [(k.name, bool(k.revoked_at)) for k in keys.all()] == [("a", True), ("a", False)]


def test_names_are_unique_and_scopes_known(keys):
    keys.create("a", ["admin"])
    with pytest.raises(ApiKeyError, match="exists"):
        keys.create("a", ["admin"])
    with pytest.raises(ApiKeyError, match="scope"):
        keys.create("b", ["requests:everything"])
    with pytest.raises(ApiKeyError, match="name"):
        keys.create("bad name\x1b", ["admin"])
    with pytest.raises(ApiKeyError):
        keys.revoke("nobody")


def test_the_cli_prints_a_key_once_lists_without_secrets_and_revokes(runtime, monkeypatch):
    monkeypatch.setattr(shared.runtime, "get_runtime", lambda: runtime)
    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "create", "dpo-desk", "--scope", "requests:approve", "--scope",
                                  "requests:read"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert ApiKeyStore(runtime.redis, runtime.keys).verify(token).principal.name == "dpo-desk"
    listed = runner.invoke(cli, ["keys", "list"])
    assert "dpo-desk" in listed.stdout and token.split("_", 2)[2][:10] not in listed.stdout
    assert runner.invoke(cli, ["keys", "revoke", "dpo-desk"]).exit_code == 0
    assert ApiKeyStore(runtime.redis, runtime.keys).verify(token).reason == "revoked"
    assert [e["event"] for e in runtime.audit.entries()] == ["api_key.created", "api_key.revoked"]
    assert runner.invoke(cli, ["keys", "create", "x", "--scope", "nope"]).exit_code == 2


def test_the_cli_refuses_an_owner_that_is_no_live_person_key_with_a_clear_line(runtime, monkeypatch):
    monkeypatch.setattr(shared.runtime, "get_runtime", lambda: runtime)
    runner = CliRunner()
    refused = runner.invoke(cli, ["keys", "create", "dsar-tool", "--scope", "requests:submit", "--owner", "dpo-anna"])
    assert refused.exit_code == 2 and "owner: no live person key" in refused.output
    assert ApiKeyStore(runtime.redis, runtime.keys).all() == []
    assert runner.invoke(cli, ["keys", "create", "dpo-anna", "--person", "--scope", "requests:read"]).exit_code == 0
    made = runner.invoke(cli, ["keys", "create", "dsar-tool", "--scope", "requests:submit", "--owner", "Dpo-Anna"])
    assert made.exit_code == 0, made.output
    assert ApiKeyStore(runtime.redis, runtime.keys).find("dsar-tool").owner == "dpo-anna"


def test_a_bootstrap_key_from_the_environment_is_installed_hashed_once(runtime, monkeypatch):
    monkeypatch.setattr(shared.runtime, "get_runtime", lambda: runtime)
    token = "ek_00112233aabb_" + "s" * 43
    monkeypatch.setenv("ERASURE_BOOTSTRAP_KEY", token)
    runner = CliRunner()
    args = ["keys", "create", "bootstrap", "--scope", "requests:submit", "--from-env", "ERASURE_BOOTSTRAP_KEY"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0 and token not in first.output
    again = runner.invoke(cli, args)  # the next start of the container
    assert again.exit_code == 0 and "already installed" in again.output
    store = ApiKeyStore(runtime.redis, runtime.keys)
    assert store.verify(token).principal.name == "bootstrap" and len(store.all()) == 1
    assert token not in json.dumps(runtime.redis.hgetall(runtime.keys.api_key("00112233aabb")))
    monkeypatch.setenv("ERASURE_BOOTSTRAP_KEY", "ek_short_x")
    assert runner.invoke(cli, ["keys", "create", "other", "--scope", "admin", "--from-env",
                               "ERASURE_BOOTSTRAP_KEY"]).exit_code == 2


def test_live_person_keys_whose_names_differ_only_in_case_are_found_by_id(keys, runtime):
    first, _ = stored_before_the_rule(runtime, keys, "DPO-Anna", ["requests:submit"])
    second, _ = stored_before_the_rule(runtime, keys, "dpo-anna", ["requests:approve"])
    keys.create("dpo-ben", ["requests:read"], person=True)
    keys.create("DSAR-tool", ["requests:submit"], owner="dpo-ben")  # a service key's name is nobody's
    keys.create("dsar-TOOL", ["requests:submit"])
    revoked, _ = stored_before_the_rule(runtime, keys, "DPO-BEN", ["requests:read"])
    keys.revoke(revoked)  # a revoked key acts for nobody
    assert keys.case_duplicates() == [tuple(sorted((first, second)))]
    keys.revoke(second)
    assert keys.case_duplicates() == []


def test_the_cli_list_marks_case_duplicate_person_keys_and_names_them_by_id_without_secrets(runtime, monkeypatch):
    monkeypatch.setattr(shared.runtime, "get_runtime", lambda: runtime)
    store = ApiKeyStore(runtime.redis, runtime.keys)
    first, upper = stored_before_the_rule(runtime, store, "DPO-Anna", ["requests:submit"])
    second, lower = stored_before_the_rule(runtime, store, "dpo-anna", ["requests:approve"])
    ben = store.create("dpo-ben", ["requests:read"], person=True)[0].key_id
    listed = CliRunner().invoke(cli, ["keys", "list"])
    assert listed.exit_code == 0, listed.output
    rows = [[cell.strip() for cell in line.split("\u2502")[1:-1]] for line in listed.stdout.splitlines()
            if line.startswith("\u2502")]  # the table's rows (a narrow terminal cuts the id column short)
    assert {(name, kind) for _, name, kind, *_ in rows} == {("DPO-Anna", "person*"), ("dpo-anna", "person*"),
                                                              ("dpo-ben", "person")}
    [warning] = [line for line in listed.stderr.splitlines() if "warning" in line]
    assert ", ".join(sorted((first, second))) in warning and ben not in warning
    assert "anna" not in warning.lower()  # by key id: a person key's name is the person's
    for token in (upper, lower):
        assert token.split("_", 2)[2][:10] not in listed.output
    store.revoke(second)
    relisted = CliRunner().invoke(cli, ["keys", "list"])
    assert "person*" not in relisted.stdout and "warning" not in relisted.stderr


def test_the_intake_warns_once_at_start_up_of_case_duplicate_person_keys_by_id(runtime, monkeypatch, caplog):
    first, _ = stored_before_the_rule(runtime, ApiKeyStore(runtime.redis, runtime.keys), "DPO-Anna", ["requests:read"])
    second, _ = stored_before_the_rule(runtime, ApiKeyStore(runtime.redis, runtime.keys), "dpo-anna", ["requests:read"])
    for name in ("_setup_logging", "check_can_start", "check_credentials"):  # the process's, not this test's
        monkeypatch.setattr(api, name, lambda *_: None)
    monkeypatch.setattr(api, "get_runtime", lambda: runtime)

    async def start_and_stop() -> None:
        async with api._lifespan(api.app):
            pass

    with caplog.at_level(logging.INFO, logger="erasure.intake.api"):
        asyncio.run(start_and_stop())
        for thread in threading.enumerate():
            if thread.name == "person-key-check":
                thread.join(timeout=10)
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert ", ".join(sorted((first, second))) in warning.getMessage() and "anna" not in warning.getMessage().lower()


def test_no_warning_without_case_duplicates_and_none_when_redis_does_not_answer(runtime, caplog, monkeypatch):
    ApiKeyStore(runtime.redis, runtime.keys).create("dpo-anna", ["requests:read"], person=True)
    with caplog.at_level(logging.INFO, logger="erasure.intake.api"):
        api.warn_of_case_duplicates(runtime)
        assert caplog.records == []

        def down(*_args, **_kwargs):
            raise redis.ConnectionError("down")

        monkeypatch.setattr(runtime.redis, "hgetall", down)
        api.warn_of_case_duplicates(runtime)
    assert [(r.levelno, "ConnectionError" in r.getMessage()) for r in caplog.records] == [(logging.INFO, True)]


def test_same_person_compares_names_in_any_case_and_nobody_is_nobody():
    assert same_person("DPO-Anna", "dpo-anna") and same_person("dpo-anna", "DPO-ANNA")
    assert not same_person("dpo-anna", "dpo-ben") and not same_person(None, None) and not same_person("dpo-anna", None)


def test_a_key_id_is_never_digits_alone_which_the_scrubbers_would_read_as_a_phone(runtime, monkeypatch):
    import secrets

    from shared.api_keys import ApiKeyStore
    from shared.pii.engine import scrub

    assert scrub("567193399379") == "<PHONE>"  # why: an audit detail of twelve digits alone reads as a number
    rolls = iter(["567193399379", "0123456789ab"])
    monkeypatch.setattr(secrets, "token_hex", lambda n: next(rolls))
    info, _ = ApiKeyStore(runtime.redis, runtime.keys).create("digits", ["requests:read"])
    assert info.key_id == "0123456789ab" and scrub(info.key_id) == info.key_id
