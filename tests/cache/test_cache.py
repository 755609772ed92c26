from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from connector.cache import Cache, MemoryCache, RedisCache
from tests.conftest import needs_service


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest) -> Iterator[Cache]:
    if request.param == "memory":
        yield MemoryCache()
        return
    url = needs_service("ORO_CONNECTOR_TEST_REDIS_URL", "Redis")
    yield RedisCache(url, prefix=f"test-{uuid.uuid4().hex}:")


def test_round_trip_and_delete(cache: Cache) -> None:
    cache.set("sidebar:1", {"participants": ["a@x.example"], "stale": False}, ttl=60)
    assert cache.get("sidebar:1") == {"participants": ["a@x.example"], "stale": False}
    cache.delete("sidebar:1")
    assert cache.get("sidebar:1") is None


def test_generations_invalidate_an_owner_only(cache: Cache) -> None:
    assert cache.generation("alice") == 0
    assert cache.bump("alice") == 1
    assert cache.generation("alice") == 1
    assert cache.generation("bob") == 0


def test_redis_entries_expire() -> None:
    import time

    url = needs_service("ORO_CONNECTOR_TEST_REDIS_URL", "Redis")
    cache = RedisCache(url, prefix=f"test-{uuid.uuid4().hex}:")
    cache.set("short", 1, ttl=0.05)
    time.sleep(0.15)
    assert cache.get("short") is None


def test_memory_entries_expire_and_stay_bounded() -> None:
    clock = Clock()
    cache = MemoryCache(max_entries=2, clock=clock)
    cache.set("a", 1, ttl=10)
    clock.now += 11
    assert cache.get("a") is None
    cache.set("a", 1, ttl=10)
    cache.set("b", 2, ttl=10)
    cache.get("a")  # a is now the most recently used
    cache.set("c", 3, ttl=10)
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (1, 3)


def test_cached_values_cannot_be_mutated_by_readers() -> None:
    cache = MemoryCache()
    cache.set("k", {"items": [1]}, ttl=10)
    first = cache.get("k")
    first["items"].append(2)
    assert cache.get("k") == {"items": [1]}
