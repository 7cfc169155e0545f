"""Rate limits on the `limits` library: per credential and per address, in process and shared through the loopback
Redis (two limiter objects stand for two API workers)."""

from __future__ import annotations

import os
import uuid

import pytest

from assistant.auth.ratelimit import RateLimits
from assistant.errors import TooManyRequests

REDIS_URL = os.environ.get("CARETRAIL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_or_skip() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is unreachable at {REDIS_URL} under CI: {exc}")
        pytest.skip(f"Redis is unreachable at {REDIS_URL}")
    return REDIS_URL


def test_each_credential_has_its_own_bucket() -> None:
    limits = RateLimits("memory://", "2/minute", "2/minute")
    limits.caller("api_key:a")
    limits.caller("api_key:a")
    with pytest.raises(TooManyRequests, match="retry in"):
        limits.caller("api_key:a")
    limits.caller("api_key:b")  # another key is not slowed by the first


def test_failed_sign_ins_block_the_address_only() -> None:
    limits = RateLimits("memory://", "100/minute", "3/minute")
    for _ in range(2):
        limits.auth_failure("10.0.0.7")
    assert not limits.auth_blocked("10.0.0.7")
    limits.auth_failure("10.0.0.7")
    assert limits.auth_blocked("10.0.0.7") and not limits.auth_blocked("10.0.0.8")


def test_workers_share_limits_through_redis() -> None:
    url = _redis_or_skip()
    key = f"api_key:{uuid.uuid4().hex}"  # a fresh bucket: the server outlives test runs
    first, second = RateLimits(url, "3/minute", "3/minute"), RateLimits(url, "3/minute", "3/minute")
    first.caller(key)
    second.caller(key)
    first.caller(key)
    with pytest.raises(TooManyRequests):
        second.caller(key)  # the other worker already spent the key's three requests
