"""The one Settings: secrets never printed with it, every pool's variables in it, and handed to a child process whole."""

import os

from shared.config import Settings


def test_printing_settings_shows_no_secret():
    settings = Settings(redis_url="redis://:hunter2-password@redis:6379/0", hmac_key="h" * 32,
                        webhook_secret="w" * 32, webhook_targets=["https://crm.example/hook?token=t0ken"],
                        genesys_client_secret="client-s3cret")
    shown = repr(settings) + str(settings)
    for secret in ("hunter2-password", "h" * 32, "w" * 32, "t0ken", "client-s3cret"):
        assert secret not in shown
    assert settings.redis_url.startswith("redis://:hunter2-password@")  # still usable


def test_the_deletion_pool_reads_its_variables_from_the_one_settings(monkeypatch):
    monkeypatch.setenv("ERASURE_RECORDINGS", "deferred")
    monkeypatch.setenv("ERASURE_RECORDING_JOB_SLOTS", "1")
    monkeypatch.setenv("ERASURE_RETENTION_POLICY", "RET-1: five years")
    monkeypatch.setenv("ERASURE_TEST_CRASH_AFTER", "gdpr_delete")  # test-only, read by crash.py alone
    settings = Settings()
    assert (settings.recordings, settings.recording_job_slots, settings.retention_policy) == (
        "deferred", 1, "RET-1: five years")
    assert not hasattr(settings, "test_crash_after")


def test_deletion_defaults_keep_within_the_platform_limits(monkeypatch):
    for name in ("ERASURE_RECORDINGS", "ERASURE_RECORDING_JOB_SLOTS", "ERASURE_RECORDING_JOB_BATCH",
                 "ERASURE_RETENTION_POLICY"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.recordings == "per_request"
    assert settings.recording_job_slots == 2  # the platform's PENDING/PROCESSING jobs per organisation
    assert settings.recording_job_batch == 100  # conversations per recording DELETE job
    assert settings.retention_policy == ""  # no policy: purges are dry runs only


def test_a_child_started_with_the_settings_environment_reads_the_same_settings(monkeypatch):
    given = Settings(redis_url="redis://:pw@redis:6379/3", hmac_key="h" * 32, genesys_base_url="http://sim:1",
                     genesys_client_secret="client-s3cret", webhook_targets=["https://a.example/h", "https://b.example/h"],
                     require_approval=False, rate_per_minute=5400, poll_mode="each", recordings="deferred",
                     output_dir="out/demo")
    environ = given.to_environ()
    assert environ["ERASURE_HMAC_KEY"] == "h" * 32 and "ERASURE_GENESYS_REGION" not in environ  # None: left unset
    for name in [n for n in os.environ if n.upper().startswith("ERASURE_")]:
        monkeypatch.delenv(name)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert Settings() == given
