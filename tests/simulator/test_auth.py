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


def test_a_separate_login_host_serves_the_token_and_the_api_host_refuses_it() -> None:
    """As on the platform: tokens from login.<region>, never api.<region> (the API host answers 404)."""
    from genesys_sim.config import SimConfig
    from genesys_sim.server import start_in_thread

    with start_in_thread(SimConfig(subjects=2), login_port=0) as sim:
        assert sim.login_url != sim.url
        grant = {"data": {"grant_type": "client_credentials"}, "auth": ("sim-client", "sim-secret")}
        on_api = httpx.post(f"{sim.url}/oauth/token", **grant)  # type: ignore[arg-type]
        assert on_api.status_code == 404
        assert on_api.json()["code"] == "not.found"
        token = httpx.post(f"{sim.login_url}/oauth/token", **grant)  # type: ignore[arg-type]
        assert token.status_code == 200
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert httpx.get(f"{sim.url}/api/v2/gdpr/requests", headers=bearer).status_code == 200
        # The login host is no API host either.
        assert httpx.get(f"{sim.login_url}/api/v2/gdpr/requests", headers=bearer).status_code == 404


def test_one_host_serves_both_unless_asked() -> None:
    """Without a login port the simulator keeps serving the token at its root (the SDK's plain-host case)."""
    from genesys_sim.config import SimConfig
    from genesys_sim.server import start_in_thread

    with start_in_thread(SimConfig(subjects=2)) as sim:
        assert sim.login_url == sim.url
