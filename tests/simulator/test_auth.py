"""OAuth client credentials and bearer checks."""

from __future__ import annotations

import httpx


def test_token_issued_for_valid_credentials(raw: httpx.Client) -> None:
    r = raw.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("sim-client", "sim-secret"))
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 86400
    assert len(body["access_token"]) > 20


def test_bad_credentials_are_invalid_client(raw: httpx.Client) -> None:
    r = raw.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("sim-client", "wrong"))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"


def test_unsupported_grant(raw: httpx.Client) -> None:
    r = raw.post("/oauth/token", data={"grant_type": "password"}, auth=("sim-client", "sim-secret"))
    assert r.status_code == 400
    assert r.json()["error"] == "unsupported_grant_type"


def test_api_without_token_is_401_with_error_body(raw: httpx.Client) -> None:
    r = raw.get("/api/v2/gdpr/requests")
    assert r.status_code == 401
    body = r.json()
    assert set(body) >= {"message", "code", "status", "contextId", "details", "errors"}
    assert body["status"] == 401
    assert body["contextId"] == r.headers["ININ-Correlation-Id"]


def test_unknown_token_is_401(raw: httpx.Client) -> None:
    r = raw.get("/api/v2/gdpr/requests", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert r.json()["code"] == "bad.credentials"


def test_unknown_api_path_is_404_error_body(api: httpx.Client) -> None:
    r = api.get("/api/v2/guests", params={"email": "a@b.c"})
    assert r.status_code == 404
    assert r.json()["status"] == 404
