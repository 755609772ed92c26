"""A sidebar service over the sandbox's Oro, with messages from the sandbox's sample conversations."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from connector.cache import MemoryCache
from connector.db.models import User
from connector.oro import OroConfig, OroConnection
from connector.sandbox import examples as ex
from connector.sidebar.context import MessageContext
from connector.sidebar.operations import SidebarService
from connector.sidebar.policy import SidebarPolicy
from tests.conftest import message_context


class CountingOro:
    """The real client, counting the calls that reach Oro and delaying chosen record types."""

    def __init__(self, client: Any, *, slow: dict[str, float] | None = None) -> None:
        self._client = client
        self._slow = slow or {}
        self._lock = threading.Lock()
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._client, name)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls += 1
            record_type = getattr(args[0], "RESOURCE", "") if args else ""
            delay = self._slow.get(record_type, 0.0)
            if delay:
                threading.Event().wait(delay)
            return target(*args, **kwargs)

        return call


@dataclass
class SidebarWorld:
    world: Any
    oro_url: str
    service: SidebarService
    session: Session

    def oro_as(
        self, username: str, *, read_timeout: float = 5.0, slow: dict[str, float] | None = None
    ) -> CountingOro:
        user = self.world.oro.user_by_username(username)
        token = self.world.oro.oauth.issue_for_user(user.id)
        config = OroConfig(
            oro_url=self.oro_url, read_timeout=read_timeout, connect_timeout=1.0, max_retries=0
        )
        return CountingOro(OroConnection(config).with_token(token), slow=slow)

    def message(self, thread: str, index: int = 0) -> MessageContext:
        return message_context(self.world.named_threads[thread].messages[index])

    def user(self, email: str = ex.ALICE_MAILBOX) -> User:
        user = User(email=email)
        self.session.add(user)
        self.session.flush()
        return user


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(max_workers=8)
    yield executor
    executor.shutdown(wait=False, cancel_futures=True)


@pytest.fixture
def sidebar(sandbox_server: Any, db: Session, pool: ThreadPoolExecutor) -> SidebarWorld:
    service = SidebarService(
        cache=MemoryCache(), pool=pool, policy=SidebarPolicy(time_budget=3.0), oro_key=sandbox_server.oro_url
    )
    return SidebarWorld(sandbox_server.world, sandbox_server.oro_url, service, db)
