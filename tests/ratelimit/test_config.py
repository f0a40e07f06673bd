from __future__ import annotations

import pytest

from shared.ratelimit import BucketConfig
from shared.ratelimit.headers import WindowReading, correction_offset_us, read_window


def test_interval_is_whole_microseconds() -> None:
    assert BucketConfig(rate_per_s=5).interval_us == 200_000
    assert BucketConfig(rate_per_s=3).interval_us == 333_333


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate_per_s": 0},
        {"rate_per_s": float("nan")},
        {"rate_per_s": 5, "burst": 0},
        {"rate_per_s": 5, "reserve": 1.0},
        {"rate_per_s": 5, "burst": 1, "reserve": 0.5},  # no whole token left for other pools
        {"rate_per_s": 5, "pool_shares": {"polling": 0.0}},
        {"rate_per_s": 5, "pool_shares": {"polling": 1.5}},
        {"rate_per_s": 5, "max_pause_s": 0},
    ],
)
def test_invalid_configs_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        BucketConfig(**kwargs)  # type: ignore[arg-type]


def test_config_is_frozen_including_shares() -> None:
    shares = {"polling": 0.2}
    cfg = BucketConfig(rate_per_s=5, pool_shares=shares)
    shares["polling"] = 1.0
    assert cfg.pool_shares["polling"] == 0.2


def test_reserve_shrinks_tolerance_of_non_priority_pools_only() -> None:
    cfg = BucketConfig(rate_per_s=10, burst=10, reserve=0.3)
    assert cfg.tolerance_us("deletion") == 10 * 100_000
    assert cfg.tolerance_us("polling") == 7 * 100_000


def test_read_window_accepts_any_header_case() -> None:
    headers = {"ININ-RateLimit-Count": "12", "inin-ratelimit-allowed": " 300 ", "Inin-Ratelimit-Reset": "41"}
    assert read_window(headers) == WindowReading(12, 300, 41)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"inin-ratelimit-count": "1", "inin-ratelimit-allowed": "300"},
        {"inin-ratelimit-count": "x", "inin-ratelimit-allowed": "300", "inin-ratelimit-reset": "5"},
        {"inin-ratelimit-count": "1", "inin-ratelimit-allowed": "nan", "inin-ratelimit-reset": "5"},
        {"inin-ratelimit-count": "1", "inin-ratelimit-allowed": "0", "inin-ratelimit-reset": "5"},
        {"inin-ratelimit-count": "1", "inin-ratelimit-allowed": "300", "inin-ratelimit-reset": "-5"},
    ],
)
def test_read_window_ignores_absent_or_garbled(headers: dict[str, str]) -> None:
    assert read_window(headers) is None


def test_correction_offset() -> None:
    # 1 request left, 30 s to the reset, 5/s with burst 10: next grant exactly at the reset.
    offset = correction_offset_us(
        WindowReading(299, 300, 30), burst=10, interval_us=200_000, max_pause_s=120
    )
    assert offset == 30_000_000 + 9 * 200_000
    # Plenty left: the bucket is already stricter than the window.
    assert correction_offset_us(WindowReading(1, 300, 60), burst=5, interval_us=250_000, max_pause_s=120) < 0
    # Reset is capped like Retry-After.
    capped = WindowReading(300, 300, 9999)
    assert correction_offset_us(capped, burst=1, interval_us=200_000, max_pause_s=120) == 120_200_000
