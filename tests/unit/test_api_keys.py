"""API keys: shown once, stored only as a hash, found by name or id, revoked at once."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import shared.runtime
from services.cli import app as cli
from shared.api_keys import ApiKeyError, ApiKeyStore, Scope, split_token, token_hash


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
