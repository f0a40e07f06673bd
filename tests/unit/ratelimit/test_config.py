from __future__ import annotations

import pytest

from shared.ratelimit import BucketConfig
from shared.ratelimit.headers import WindowReading, correction_offset_us, read_window


def test_interval_is_whole_microseconds() -> None:
    assert BucketConfig(rate_per_s=5).interval_us == 200_000
    assert BucketConfig(rate_per_s=3).interval_us == 333_333


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"rate_per_s": 0}, "rate_per_s must be a positive"),
        ({"rate_per_s": float("nan")}, "rate_per_s must be a positive"),
        ({"rate_per_s": float("inf")}, "rate_per_s must be a positive"),
        ({"rate_per_s": -5}, "rate_per_s must be a positive"),
        ({"rate_per_s": 1_000_001}, "rate_per_s above 1e6/s"),
        ({"rate_per_s": 5, "burst": 0}, "burst must be at least 1"),
        ({"rate_per_s": 5, "reserve": 1.0}, "reserve must be in"),
        ({"rate_per_s": 5, "burst": 100, "reserve": 1.5}, "reserve must be in"),
        ({"rate_per_s": 5, "reserve": -0.1}, "reserve must be in"),
        ({"rate_per_s": 5, "burst": 1, "reserve": 0.5}, r"burst \* \(1 - reserve\)"),  # no whole token for other pools
        ({"rate_per_s": 5, "pool_shares": {"polling": 0.0}}, "share of pool 'polling'"),
        ({"rate_per_s": 5, "pool_shares": {"polling": 1.5}}, "share of pool 'polling'"),
        ({"rate_per_s": 5, "max_pause_s": 0}, "max_pause_s must be a positive"),
        ({"rate_per_s": 5, "max_pause_s": float("inf")}, "max_pause_s must be a positive"),
    ],
)
def test_invalid_configs_are_refused(kwargs: dict[str, object], names: str) -> None:
    # The message names the setting to fix.
    with pytest.raises(ValueError, match=f"^{names}"):
        BucketConfig(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate_per_s": 1_000_000},  # one request per microsecond: the finest the scripts count
        {"rate_per_s": 0.001},
        {"rate_per_s": 5, "burst": 1},
        {"rate_per_s": 5, "burst": 2, "reserve": 0.5},  # exactly one token left for other pools
        {"rate_per_s": 5, "burst": 10, "reserve": 0.0},
        {"rate_per_s": 5, "pool_shares": {"polling": 1.0}},
        {"rate_per_s": 5, "max_pause_s": 0.5},
    ],
)
def test_boundary_configs_are_accepted(kwargs: dict[str, object]) -> None:
    BucketConfig(**kwargs)  # type: ignore[arg-type]


def test_config_is_frozen_including_shares() -> None:
    shares = {"polling": 0.2}
    cfg = BucketConfig(rate_per_s=5, pool_shares=shares)
    shares["polling"] = 1.0
    assert cfg.pool_shares["polling"] == 0.2


def test_config_is_frozen_including_priority_pools() -> None:
    pools = {"deletion"}
    cfg = BucketConfig(rate_per_s=10, burst=10, reserve=0.5, priority_pools=pools)
    pools.add("polling")  # the caller's set changes later: the shared config must not
    assert cfg.tolerance_us("polling") == 5 * 100_000
    assert isinstance(cfg.priority_pools, frozenset)
    with pytest.raises(TypeError):
        cfg.pool_shares["polling"] = 1.0  # type: ignore[index]


def test_interval_of_the_fastest_rate_is_one_microsecond() -> None:
    assert BucketConfig(rate_per_s=1_000_000).interval_us == 1
    assert BucketConfig(rate_per_s=0.5).interval_us == 2_000_000


def test_pool_limits() -> None:
    cfg = BucketConfig(rate_per_s=10, burst=10, pool_shares={"polling": 0.2, "tiny": 0.01})
    assert cfg.pool_limits_us("discovery") == (0, 0)  # no share: no pool bucket at all
    # A fifth of 10/s is 2/s (one per 500 ms) with a fifth of the burst (2 tokens).
    assert cfg.pool_limits_us("polling") == (500_000, 1_000_000)
    # A share too small for one token of burst still gets one: the pool can always send eventually.
    assert cfg.pool_limits_us("tiny") == (10_000_000, 10_000_000)
    # At the fastest rate a whole share keeps the one-microsecond interval.
    assert BucketConfig(rate_per_s=1_000_000, pool_shares={"p": 1.0}).pool_limits_us("p") == (1, 1)


def test_reserve_shrinks_tolerance_of_non_priority_pools_only() -> None:
    cfg = BucketConfig(rate_per_s=10, burst=10, reserve=0.3)
    assert cfg.tolerance_us("deletion") == 10 * 100_000
    assert cfg.tolerance_us("polling") == 7 * 100_000


def test_read_window_accepts_any_header_case() -> None:
    headers = {"ININ-RateLimit-Count": "12", "inin-ratelimit-allowed": " 300 ", "Inin-Ratelimit-Reset": "41"}
    assert read_window(headers) == WindowReading(12, 300, 41)


def test_read_window_accepts_zero_spent_zero_reset_and_a_window_of_one() -> None:
    assert read_window({"inin-ratelimit-count": "0", "inin-ratelimit-allowed": "1", "inin-ratelimit-reset": "0"}) == (
        WindowReading(0, 1, 0)
    )
    assert read_window({"inin-ratelimit-count": "1", "inin-ratelimit-allowed": "1", "inin-ratelimit-reset": "0.5"}) == (
        WindowReading(1, 1, 0.5)
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"inin-ratelimit-count": "1", "inin-ratelimit-allowed": "300", "inin-ratelimit-reset": "inf"},
        {"inin-ratelimit-count": "-1", "inin-ratelimit-allowed": "300", "inin-ratelimit-reset": "5"},
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


def test_correction_offset_with_the_window_overspent() -> None:
    # More spent than allowed (other clients of the same token): nothing left, wait out the reset and a burst.
    offset = correction_offset_us(WindowReading(310, 300, 10), burst=4, interval_us=250_000, max_pause_s=120)
    assert offset == 10_000_000 + 4 * 250_000


def test_correction_offset_rounds_up_to_a_whole_microsecond() -> None:
    offset = correction_offset_us(WindowReading(0, 1, 0.000_000_5), burst=1, interval_us=1, max_pause_s=120)
    assert offset == 1
