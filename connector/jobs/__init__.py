"""Background work: where it runs, and how a web request wakes it.

The work itself is durable elsewhere (the outbox's rows say what is due), so a job here is only ever
"look now": a lost wake-up costs a poll interval, never a send. Two ways to wake a runner:

- :class:`LocalWakeup`, for a runner in the same process (the embedded default, ``JOB_RUNNER=thread``);
- :class:`RedisWakeup`, for ``oro-connector worker`` processes elsewhere: a Redis list that requests
  push to and workers block on (``BLPOP``), so a reply recorded on one host is sent at once by a worker
  on another.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

logger = logging.getLogger(__name__)


class Wakeup(Protocol):
    def notify(self) -> None:
        """Work may be due: wake a waiting runner (or the next one to wait)."""

    def wait(self, timeout: float) -> bool:
        """Block until notified or ``timeout`` seconds pass; True when notified."""


class LocalWakeup:
    """Wake-ups within one process."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def notify(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken


class RedisWakeup:
    """Wake-ups across processes through a Redis list; a notify that no worker takes is kept (one)."""

    def __init__(self, url: str, topic: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=None, socket_connect_timeout=5)
        self._key = f"oro-connector:wake:{topic}"

    def notify(self) -> None:
        try:
            pipe = self._redis.pipeline()
            pipe.lpush(self._key, "1")
            pipe.ltrim(self._key, 0, 0)
            pipe.execute()
        except Exception:
            logger.warning("could not wake the workers through Redis", exc_info=True)

    def wait(self, timeout: float) -> bool:
        try:
            found = self._redis.blpop([self._key], timeout=max(int(timeout), 1))
        except Exception:
            logger.warning("could not wait on Redis; polling instead", exc_info=True)
            threading.Event().wait(timeout)
            return False
        return found is not None
