"""Waking the outbox's runners: in one process, and across processes through Redis."""

from __future__ import annotations

import threading
import time

from connector.jobs import LocalWakeup, RedisWakeup
from tests.conftest import needs_service


def test_a_local_notify_wakes_a_waiting_runner_at_once() -> None:
    wakeup = LocalWakeup()
    assert wakeup.wait(0.01) is False
    threading.Timer(0.05, wakeup.notify).start()
    started = time.monotonic()
    assert wakeup.wait(5) is True
    assert time.monotonic() - started < 2


def test_a_notify_through_redis_wakes_a_runner_elsewhere_and_is_kept_until_taken() -> None:
    url = needs_service("ORO_CONNECTOR_TEST_REDIS_URL", "Redis")
    topic = f"test-{time.monotonic_ns()}"
    web, worker = RedisWakeup(url, topic), RedisWakeup(url, topic)
    web.notify()
    web.notify()  # many notifies before a worker looks are one wake-up
    assert worker.wait(1) is True
    started = time.monotonic()
    assert worker.wait(1) is False
    assert time.monotonic() - started >= 0.9
    threading.Timer(0.1, web.notify).start()
    assert worker.wait(5) is True
