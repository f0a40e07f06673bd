"""The one Settings: secrets never printed with it, every pool's variables in it, and handed to a child process whole."""

import os

import pytest

from shared.celery_app import celery_config
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
    monkeypatch.setenv("ERASURE_TEST_CRASH_AFTER", "gdpr_delete")  # no setting: the crash tests pass --crash-after
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
                     genesys_insecure_hosts=["sim"], genesys_client_secret="client-s3cret",
                     webhook_targets=["https://a.example/h", "https://b.example/h"], require_approval=False,
                     rate_per_minute=5400, poll_mode="each", recordings="deferred", output_dir="out/demo")
    environ = given.to_environ()
    assert environ["ERASURE_HMAC_KEY"] == "h" * 32 and "ERASURE_GENESYS_REGION" not in environ  # None: left unset
    for name in [n for n in os.environ if n.upper().startswith("ERASURE_")]:
        monkeypatch.delenv(name)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert Settings() == given


def test_redelivery_and_request_locks_are_bounded_to_minutes(monkeypatch):
    """Issue 14, cause "redelivery is slow": a killed worker's messages came back after the visibility
    timeout (an hour by default) and its request locks lived as long. Now both are bounded to minutes:
    a lock lives a task's time limit, the time limits and every countdown stay below the visibility
    timeout (or Redis hands out a running or waiting message again), and a setting that breaks this is
    refused with the names of what to change."""
    for name in [n for n in os.environ if n.upper().startswith("ERASURE_")]:
        monkeypatch.delenv(name)
    settings = Settings()
    assert settings.visibility_timeout_s <= 15 * 60
    assert settings.task_soft_time_limit_s < settings.task_time_limit_s < settings.visibility_timeout_s
    assert settings.request_lock_s == settings.task_time_limit_s
    assert max(settings.active_revisit_s, settings.poll_max_interval_s, settings.retry_backoff_cap_s,
               settings.recording_slot_retry_s, settings.details_job_wait_s) < settings.visibility_timeout_s
    conf = celery_config(settings)
    assert conf["broker_transport_options"]["visibility_timeout"] == settings.visibility_timeout_s
    assert (conf["task_time_limit"], conf["task_soft_time_limit"]) == (settings.task_time_limit_s,
                                                                        settings.task_soft_time_limit_s)
    assert conf["task_acks_on_failure_or_timeout"] is False  # a task killed at its time limit goes back to its queue

    with pytest.raises(ValueError, match=r"ERASURE_VISIBILITY_TIMEOUT_S=120 must be longer than "
                                         r"ERASURE_ACTIVE_REVISIT_S=300, ERASURE_RETRY_BACKOFF_CAP_S=120"):
        Settings(visibility_timeout_s=120, task_time_limit_s=60)
    with pytest.raises(ValueError, match=r"longer than ERASURE_TASK_TIME_LIMIT_S=900"):
        Settings(task_time_limit_s=900)
    assert Settings(visibility_timeout_s=60, task_time_limit_s=30, active_revisit_s=20, retry_backoff_cap_s=20,
                    poll_max_interval_s=20).request_lock_s == 30
