"""A small cache behind one interface: in memory (embedded default) or Redis (``REDIS_URL``).

Values are JSON-serialisable objects. Per-owner invalidation uses a generation counter
(``generation(owner)`` goes into the keys; ``bump(owner)`` makes every older key unreachable), so no
backend needs to scan keys, and stale entries simply expire.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Protocol

logger = logging.getLogger(__name__)


class Cache(Protocol):
    def get(self, key: str) -> Any | None: ...

    def set(self, key: str, value: Any, *, ttl: float) -> None: ...

    def delete(self, key: str) -> None: ...

    def generation(self, owner: str) -> int: ...

    def bump(self, owner: str) -> int: ...


class MemoryCache:
    """Thread-safe, bounded (least recently used entries go first), per process."""

    def __init__(self, *, max_entries: int = 10_000, clock: Any = time.monotonic) -> None:
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._generations: dict[str, int] = {}
        self._lock = threading.Lock()
        self._max = max_entries
        self._clock = clock

    def __repr__(self) -> str:
        return f"<MemoryCache {len(self._entries)} entries>"

    def get(self, key: str) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, payload = entry
            if expires <= self._clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
        return json.loads(payload)

    def set(self, key: str, value: Any, *, ttl: float) -> None:
        # Stored serialised, so a cached value can never be mutated by its reader.
        payload = json.dumps(value)
        with self._lock:
            self._entries[key] = (self._clock() + ttl, payload)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def generation(self, owner: str) -> int:
        with self._lock:
            return self._generations.get(owner, 0)

    def bump(self, owner: str) -> int:
        with self._lock:
            value = self._generations.get(owner, 0) + 1
            self._generations[owner] = value
            return value


class RedisCache:
    """The same interface over Redis, shared by every worker and host."""

    def __init__(self, url: str, *, prefix: str = "oro-connector:", timeout: float = 2.0) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._prefix = prefix

    def __repr__(self) -> str:
        return "<RedisCache>"

    def get(self, key: str) -> Any | None:
        payload = self._redis.get(self._prefix + key)
        return None if payload is None else json.loads(payload)

    def set(self, key: str, value: Any, *, ttl: float) -> None:
        self._redis.set(self._prefix + key, json.dumps(value), px=max(1, int(ttl * 1000)))

    def delete(self, key: str) -> None:
        self._redis.delete(self._prefix + key)

    def generation(self, owner: str) -> int:
        value = self._redis.get(f"{self._prefix}gen:{owner}")
        return int(value) if value is not None else 0

    def bump(self, owner: str) -> int:
        return int(self._redis.incr(f"{self._prefix}gen:{owner}"))


def create_cache(redis_url: str) -> Cache:
    if redis_url:
        return RedisCache(redis_url)
    return MemoryCache()
