"""Secrets in the settings are never printed with them."""

from shared.config import Settings


def test_printing_settings_shows_no_secret():
    settings = Settings(redis_url="redis://:hunter2-password@redis:6379/0", hmac_key="h" * 32,
                        webhook_secret="w" * 32, webhook_targets=["https://crm.example/hook?token=t0ken"],
                        genesys_client_secret="client-s3cret")
    shown = repr(settings) + str(settings)
    for secret in ("hunter2-password", "h" * 32, "w" * 32, "t0ken", "client-s3cret"):
        assert secret not in shown
    assert settings.redis_url.startswith("redis://:hunter2-password@")  # still usable
